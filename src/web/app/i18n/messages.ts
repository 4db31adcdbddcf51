// The API's errors in the UI's language (issue 22). The API words every message in English
// (the CLI prints those); a problem also carries a stable code and the values its message was
// worded with (spec/problems.ts: PROBLEM_CODES), and every error a code (http/errors.ts:
// ERROR_STATUS). In English the UI shows the API's own words, exactly the CLI's; in another
// language it shows the catalogue's `problems.<code>` with the same values, and for an error
// without problems the catalogue's name of its code before the API's message. A code the
// catalogue lacks falls back to the API's English message.
import { ApiError, type ApiProblem } from '../api/client.js';
import type { CodedMessage } from '../api/types.js';
import { i18n } from './index.js';

const english = () => (i18n.resolvedLanguage ?? i18n.language ?? 'en').startsWith('en');

/** A key made at run time from a code of the API, or null when the catalogue lacks it. */
function lookup(key: string, params?: Record<string, string | number>): string | null {
  const k = key as never; // not a literal: checked at run time, and by i18n.test.ts
  // With `count`, exists and t find its plural form (`_one`, `_other`).
  return i18n.exists(k, params) ? i18n.t(k, params) : null;
}

/** Finds a key of the catalogue with its values, or null (i18n's own lookup by default). */
type Find = (key: string, params?: Record<string, string | number>) => string | null;

/**
 * A value of a problem in the UI's language: the words the API worded it with (`a mapping`,
 * `a newline`, `a control character (0x1b)`), else as sent.
 */
export function problemWord(value: string, find: Find = lookup): string {
  const control = /^a control character \((0x[0-9a-f]{2})\)$/.exec(value);
  if (control)
    return find('problems.words.a control character', { hex: control[1] ?? '' }) ?? value;
  return find(`problems.words.${value}`) ?? value;
}

/**
 * The values of a problem for its translation: words translated, and `count` a number (i18next
 * picks a plural form only for a number).
 */
export function problemValues(
  params: Record<string, string> | undefined,
  find: Find = lookup,
): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(params ?? {}).map(([k, v]) => [
      k,
      k === 'count' ? Number(v) : problemWord(v, find),
    ]),
  );
}

/** One problem's message in the UI's language (without its path). */
export function problemText(p: ApiProblem): string {
  if (english() || p.code === undefined) return p.message;
  return lookup(`problems.${p.code}`, problemValues(p.params)) ?? p.message;
}

/** The name of an error code in the UI's language, or null for a code the catalogue lacks. */
export function codeText(code: string): string | null {
  return lookup(`errors.code.${code}`);
}

/** One line for an error: the field the API blamed (when it did) and what is wrong there. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (english()) {
      // Name the field the API blamed, when it did, so the message says what to fix where.
      return err.path && !err.message.startsWith(`${err.path}: `)
        ? `${err.path}: ${err.message}`
        : err.message;
    }
    if (err.problems.length === 1) {
      const p = err.problems[0] as ApiProblem;
      return `${p.path}: ${problemText(p)}`;
    }
    if (err.problems.length > 1)
      return i18n.t('errors.problems', {
        count: err.problems.length,
        list: err.problems.map((p) => `${p.path}: ${problemText(p)}`).join('; '),
      });
    const title = codeText(err.code);
    const message = title
      ? i18n.t('errors.withCode', { title, message: err.message })
      : err.message;
    return err.path && !err.message.startsWith(`${err.path}: `)
      ? `${err.path}: ${message}`
      : message;
  }
  if (err instanceof Error) return err.message;
  return JSON.stringify(err);
}

// ---- Messages the control plane writes (health reasons, alerts, incidents: spec/messages.ts) ----
// Each comes in English with its code and values beside it. In English the UI shows the API's
// own words; in another language the catalogue's `messages.<code>`, its values translated first
// (a value may be a sentence itself, or a word such as ECONNREFUSED among the words of the messages block). A code
// the catalogue lacks, at any depth, falls back to the whole English text.

/** A coded sentence in the UI's language, or null when the catalogue lacks one of its codes. */
function codedText(m: CodedMessage): string | null {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.params)) {
    const text = typeof v === 'string' ? (lookup(`messages.words.${v}`) ?? v) : codedText(v);
    if (text === null) return null;
    params[k] = text;
  }
  return lookup(`messages.${m.code}`, params);
}

/** A sentence the control plane wrote, in the UI's language (its English when none fits). */
export function messageText(text: string, m: CodedMessage | null | undefined): string {
  if (english() || !m) return text;
  return codedText(m) ?? text;
}

/** The same for a nullable text (an edge's error, a health reason). */
export function maybeMessageText(
  text: string | null,
  m: CodedMessage | null | undefined,
): string | null {
  return text === null ? null : messageText(text, m);
}

/** An alert's or incident's `code` and `params` as one coded sentence. */
export function codedOf(a: {
  code?: string | undefined;
  params?: CodedMessage['params'] | undefined;
}): CodedMessage | undefined {
  return a.code === undefined ? undefined : { code: a.code, params: a.params ?? {} };
}
// ---- end of the messages block ----
