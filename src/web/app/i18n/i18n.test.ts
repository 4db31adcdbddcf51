// The UI's catalogues (issue 22): the same keys in English and Chinese (with the same values
// and tags in each), no key unused, no text left in the JSX untranslated, every error code and
// problem code of the API translated, and the English problem texts worded as the API words
// them. Each check is a function tried first on a small broken sample, so it can fail.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_STATUS } from '../../../http/errors.js';
import {
  MESSAGE_CODES,
  MESSAGE_TEMPLATES,
  coded,
  englishOf,
  type MessageCode,
} from '../../../spec/messages.js';
import { PROBLEM_CODES, problemsFromZod } from '../../../spec/problems.js';
import { en } from './en.js';
import { i18n, pickLanguage } from './index.js';
import { codedOf, maybeMessageText, messageText } from './messages.js';
import { zhCN } from './zh-CN.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const PLURAL = /_(zero|one|two|few|many|other)$/;
/** Key families used through a code from the API, not by a literal: checked against the codes. */
const BY_CODE = ['errors.code.', 'problems.', 'messages.'];

type Tree = { readonly [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const base = (key: string) => key.replace(PLURAL, '');
const values = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
const tags = (text: string) => [...text.matchAll(/<(\w+)>/g)].map((m) => m[1]).sort();

/**
 * What is wrong between the English catalogue and another: a key missing or extra (plural
 * forms aside: English needs _one and _other, Chinese only _other), or a text whose {{values}}
 * or <tags> differ from the English one's.
 */
function catalogueMismatches(source: Tree, other: Tree, forms: string[]): string[] {
  const a = flatten(source);
  const b = flatten(other);
  const out: string[] = [];
  const baseOf = (m: Map<string, string>) => new Set([...m.keys()].map(base));
  const aBase = baseOf(a);
  const bBase = baseOf(b);
  for (const k of aBase) if (!bBase.has(k)) out.push(`missing: ${k}`);
  for (const k of bBase) if (!aBase.has(k)) out.push(`not in English: ${k}`);
  for (const [k, text] of b) {
    const plural = PLURAL.test(k);
    const english = a.get(plural ? `${base(k)}_other` : k) ?? a.get(base(k));
    if (plural && !forms.includes(k.slice(base(k).length + 1)))
      out.push(`plural form not used by this language: ${k}`);
    if (english === undefined) continue;
    if (values(english).join() !== values(text).join())
      out.push(`values differ: ${k} (${values(english).join()} / ${values(text).join()})`);
    if (tags(english).join() !== tags(text).join()) out.push(`tags differ: ${k}`);
  }
  for (const k of [...b.keys()].filter((x) => PLURAL.test(x)).map(base))
    for (const f of forms) if (!b.has(`${k}_${f}`)) out.push(`plural form missing: ${k}_${f}`);
  for (const k of [...a.keys()].filter((x) => PLURAL.test(x)).map(base))
    for (const f of ['one', 'other'])
      if (!a.has(`${k}_${f}`)) out.push(`English plural form missing: ${k}_${f}`);
  return [...new Set(out)];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    if (!/\.tsx?$/.test(d.name) || /\.test\.tsx?$/.test(d.name)) return [];
    if (/i18n\/(en|zh-CN)\.ts$/.test(path)) return [];
    return [path];
  });
}

/** Every quoted string of the sources that looks like a key (`page.key`). */
function literalKeys(sources: string[]): Set<string> {
  const out = new Set<string>();
  for (const text of sources)
    for (const m of text.matchAll(/(['"`])([A-Za-z][\w-]*(?:\.[\w-]+)+)\1/g)) out.add(m[2] ?? '');
  return out;
}

/** Keys of the catalogue no source names (the families used by code aside). */
function unusedKeys(catalogue: Tree, used: Set<string>): string[] {
  return [...new Set([...flatten(catalogue).keys()].map(base))].filter(
    (k) => !used.has(k) && !BY_CODE.some((p) => k.startsWith(p)),
  );
}

/** Key-like literals under a namespace of the catalogue that the catalogue does not have. */
function unknownKeys(catalogue: Tree, used: Set<string>): string[] {
  const keys = new Set([...flatten(catalogue).keys()].map(base));
  const namespaces = new Set(Object.keys(catalogue));
  return [...used].filter((k) => namespaces.has(k.split('.')[0] ?? '') && !keys.has(k));
}

/** Attributes whose text a person reads. */
const TEXT_ATTRS = new Set([
  'title',
  'placeholder',
  'aria-label',
  'alt',
  'label',
  'question',
  'heading',
  'hint',
  'what',
  'columns',
]);
/** Literal words that are the same in every language: HSTS directives, an example tag. */
const ALLOWED = new Set(['includeSubDomains', 'preload', 'shop']);

/**
 * Text a person would read: a word of two letters or more (not a path, a host, a token or an
 * acronym such as TTL or HSTS, which are the same in every language).
 */
function isProse(text: string): boolean {
  const t = text.replace(/\{\{[^}]*\}\}/g, ' ').trim();
  if (t === '' || ALLOWED.has(t)) return false;
  return t
    .split(/\s+/)
    .map((w) => w.replace(/^[("“]+|[)"”,.:;!?…]+$/g, ''))
    .some((w) => /^\p{L}{2,}$/u.test(w) && !/^[A-Z]{2,6}$/.test(w));
}

/** JSX texts, text attributes and string literals shown in JSX that are not translated. */
function untranslatedJsx(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const out: string[] = [];
  const report = (node: ts.Node, value: string) => {
    if (!isProse(value)) return;
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push(`${file}:${line + 1}: ${JSON.stringify(value.trim())}`);
  };
  const shown = (e: ts.Expression): void => {
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) report(e, e.text);
    else if (ts.isTemplateExpression(e)) {
      report(e, [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(' '));
      for (const s of e.templateSpans) shown(s.expression);
    } else if (ts.isConditionalExpression(e)) {
      shown(e.whenTrue);
      shown(e.whenFalse);
    } else if (ts.isBinaryExpression(e)) {
      shown(e.left);
      shown(e.right);
    } else if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) shown(e.expression);
    else if (ts.isArrayLiteralExpression(e)) for (const el of e.elements) shown(el);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) report(node, node.text);
    else if (ts.isJsxAttribute(node)) {
      const name = node.name.getText(sf);
      const init = node.initializer;
      if (TEXT_ATTRS.has(name) && init) {
        if (ts.isStringLiteral(init)) report(init, init.text);
        else if (ts.isJsxExpression(init) && init.expression) shown(init.expression);
      }
      return; // other attributes (className, data-testid, href, …) are not read as text
    } else if (
      ts.isJsxExpression(node) &&
      node.expression &&
      (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))
    )
      shown(node.expression);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('the catalogues', () => {
  const files = sourceFiles(APP);
  const sources = files.map((f) => readFileSync(f, 'utf8'));
  const used = literalKeys(sources);

  it('finds a key missing, extra, without its plural form or with other values (checked on a sample)', () => {
    const source = { a: { b: 'B {{x}}', c: 'C', n_one: '{{count}} n', n_other: '{{count}} ns' } };
    const other = { a: { b: 'B {{y}}', n_one: 'n', d: 'D' } };
    expect(catalogueMismatches(source, other, ['other'])).toEqual(
      expect.arrayContaining([
        'missing: a.c',
        'not in English: a.d',
        'values differ: a.b (x / y)',
        'plural form not used by this language: a.n_one',
        'plural form missing: a.n_other',
      ]),
    );
  });

  it('have the same keys in English and Chinese, with the same values and tags', () => {
    expect(catalogueMismatches(en, zhCN, ['other'])).toEqual([]);
  });

  it('finds an unused key and a key no catalogue has (checked on a sample)', () => {
    const sample = literalKeys([
      "t('a.used'); t(`a.plural`, { count }); const M = { x: 'a.inMap' }; t('a.typo')",
    ]);
    const cat = { a: { used: 'u', plural_one: 'p', plural_other: 'ps', inMap: 'm', idle: 'i' } };
    expect(unusedKeys(cat, sample)).toEqual(['a.idle']);
    expect(unknownKeys(cat, sample)).toEqual(['a.typo']);
  });

  it('hold no key the UI does not use, and the UI names no key they lack', () => {
    expect(unusedKeys(en, used)).toEqual([]);
    expect(unknownKeys(en, used)).toEqual([]);
  });

  it('finds text left in the JSX (checked on a sample)', () => {
    const sample = [
      "export const A = () => <p className='x' data-testid='y'>Hello world</p>;",
      'export const B = () => <input placeholder="Type here" />;',
      "export const C = (b: boolean) => <b>{b ? 'Saving…' : t('common.save')}</b>;",
      'export const D = (x: string) => <Row title={`Remove ${x}`} />;',
      "export const E = () => <TableHead columns={['Name', t('a.b')]} />;",
      "export const F = () => <p title={t('a.b')}>{t('a.c')} · {'–'} <code>/v1/x</code></p>;",
    ].join('\n');
    const found = untranslatedJsx('sample.tsx', sample);
    expect(found).toEqual([
      'sample.tsx:1: "Hello world"',
      'sample.tsx:2: "Type here"',
      'sample.tsx:3: "Saving…"',
      'sample.tsx:4: "Remove"',
      'sample.tsx:5: "Name"',
    ]);
  });

  it('leave no text of the UI untranslated in its JSX', () => {
    const found = files.flatMap((f, i) =>
      f.endsWith('.tsx') ? untranslatedJsx(relative(APP, f), sources[i] ?? '') : [],
    );
    expect(found, 'move each into the catalogues (docs/ui.md, "Languages")').toEqual([]);
  });

  it('name every error code of the API in both languages', () => {
    const codes = Object.keys(ERROR_STATUS).sort();
    expect(Object.keys(en.errors.code).sort()).toEqual(codes);
    expect(Object.keys(zhCN.errors.code).sort()).toEqual(codes);
  });

  it('translate every problem code the spec can produce, in both languages', () => {
    const codes = [...PROBLEM_CODES].sort();
    const of = (tree: Tree) =>
      Object.keys(tree)
        .filter((k) => k !== 'words')
        .sort();
    expect(of(en.problems)).toEqual(codes);
    expect(of(zhCN.problems)).toEqual(codes);
  });
});

describe('problems in the UI’s language', () => {
  // Each generic problem once (a mistake per field), from the spec's own zod → problem path.
  const Schema = z
    .object({
      short: z.string().min(2),
      long: z.string().max(1),
      pair: z.string().length(2),
      few: z.array(z.number()).min(2),
      many: z.array(z.number()).max(1),
      low: z.number().min(5),
      high: z.number().int().max(10),
      positive: z.number().gt(0),
      small: z.number().lt(5),
      mode: z.enum(['a', 'b']),
      lit: z.literal('x'),
      choice: z.union([z.literal('p'), z.literal('q')]),
      shape: z.union([z.string(), z.number()]),
      tagged: z.discriminatedUnion('type', [
        z.object({ type: z.literal('r') }),
        z.object({ type: z.literal('s') }),
      ]),
      port: z.number(),
      needed: z.string(),
      nested: z.object({}).strict(),
    })
    .strict();
  const input = {
    short: 'a',
    long: 'ab',
    pair: 'abc',
    few: [1],
    many: [1, 2],
    low: 1,
    high: 11,
    positive: 0,
    small: 5,
    mode: 'c',
    lit: 'y',
    choice: 'z',
    shape: true,
    tagged: { type: 't' },
    port: 'eighty',
    nested: { extra: 1 },
  };
  const parsed = Schema.safeParse(input);
  const problems = parsed.success ? [] : problemsFromZod(parsed.error, input);

  const render = async (lng: string, resources: Tree) => {
    const i = i18next.createInstance();
    await i.init({
      lng,
      resources: { [lng]: { translation: resources } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    return i;
  };

  it('carry a code and values for each generic mistake', () => {
    expect(problems.map((p) => p.code).sort()).toEqual(
      [
        'entries_at_least',
        'entries_at_most',
        'length_at_least',
        'length_at_most',
        'length_exactly',
        'must_be_one_of',
        'not_literal',
        'not_one_of',
        'not_one_of',
        'number_at_least',
        'number_at_most',
        'number_less_than',
        'number_more_than',
        'required',
        'unknown_key',
        'wrong_shape',
        'wrong_type',
      ].sort(),
    );
  });

  it('are worded in the English catalogue exactly as the API words them', async () => {
    const i = await render('en', en);
    for (const p of problems)
      expect(i.t(`problems.${p.code}` as never, p.params), p.path).toBe(p.message);
  });

  it('are worded in Chinese with every value filled in and the type words translated', async () => {
    const i = await render('zh-CN', zhCN);
    const words = zhCN.problems.words as Record<string, string>;
    for (const p of problems) {
      const params = Object.fromEntries(
        Object.entries(p.params ?? {}).map(([k, v]) => [k, words[v] ?? v]),
      );
      const text = i.t(`problems.${p.code}` as never, params);
      expect(text, p.path).not.toMatch(/\{\{|[A-Za-z]{4,} [A-Za-z]{4,}/);
      expect(text, p.path).toMatch(/\p{Script=Han}/u);
    }
    const typed = problems.find((p) => p.code === 'wrong_type');
    expect(typed?.params).toEqual({ expected: 'a number', got: 'string' });
    expect(words['a number']).toBe('数字');
  });
});

// ---- Messages the control plane writes (spec/messages.ts) ----
describe('messages the control plane writes, in the UI’s language', () => {
  const of = (tree: Tree) =>
    Object.keys(tree)
      .filter((k) => k !== 'words')
      .sort();
  /** Each code once, with a value for each of its placeholders. */
  const samples = MESSAGE_CODES.map((code: MessageCode) =>
    coded(
      code,
      Object.fromEntries(
        [...MESSAGE_TEMPLATES[code].matchAll(/\{\{(\w+)\}\}/g)].map((m) => [m[1] ?? '', '7']),
      ),
    ),
  );
  const render = async (lng: string, resources: Tree) => {
    const i = i18next.createInstance();
    await i.init({
      lng,
      resources: { [lng]: { translation: resources } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    return i;
  };

  it('finds a code without a translation (checked on a sample)', () => {
    const missing = (codes: string[], tree: Tree) => codes.filter((c) => !of(tree).includes(c));
    expect(missing(['probe_timeout', 'probe_status'], { probe_status: 's', words: {} })).toEqual([
      'probe_timeout',
    ]);
  });

  it('translate every code of the messages table, in both languages', () => {
    const codes = [...MESSAGE_CODES].sort();
    expect(of(en.messages)).toEqual(codes);
    expect(of(zhCN.messages)).toEqual(codes);
  });

  it('are worded in the English catalogue exactly as the control plane words them', async () => {
    const i = await render('en', en);
    for (const m of samples)
      expect(i.t(`messages.${m.code}` as never, m.params), m.code).toBe(englishOf(m));
  });

  it('are worded in Chinese with every value filled in', async () => {
    const i = await render('zh-CN', zhCN);
    for (const m of samples) {
      const text = i.t(`messages.${m.code}` as never, m.params);
      expect(text, m.code).not.toMatch(/\{\{/);
      expect(text, m.code).toMatch(/\p{Script=Han}/u);
    }
  });

  it('are shown from the catalogue, nested and with their words; an unknown code shows the English', async () => {
    await i18n.init({
      lng: 'zh-CN',
      fallbackLng: 'en',
      resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    const english = 'site s.test is down: origins: connection failed: ECONNREFUSED';
    const down = coded('alert_site_down', {
      site: 's.test',
      reason: coded('site_origins_down', {
        reason: coded('probe_connection_failed', { error: 'ECONNREFUSED' }),
      }),
    });
    expect(messageText(english, down)).toBe('站点 s.test 宕机：源站：连接失败：连接被拒绝');
    expect(
      messageText(
        'edge a: disk full',
        codedOf({ code: 'alert_config_error', params: { edge: 'a', error: 'disk full' } }),
      ),
    ).toBe('节点 a：disk full');
    // A code the catalogue lacks, at any depth, or none at all: the English text.
    expect(messageText('x happened', { code: 'no_such_code', params: {} })).toBe('x happened');
    const inner = coded('alert_edge_down', { edge: 'a', reason: { code: 'newer', params: {} } });
    expect(messageText('edge a is down: newer', inner)).toBe('edge a is down: newer');
    expect(messageText('as sent', undefined)).toBe('as sent');
    expect(maybeMessageText(null, null)).toBeNull();
    await i18n.changeLanguage('en');
    expect(messageText(english, down)).toBe(english);
  });
});
// ---- end of the messages block ----

describe('the language shown first', () => {
  it('is a stored choice, else the browser’s first language we have, else English', () => {
    expect(pickLanguage(null, ['zh-CN', 'en'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-Hans'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-Hans-CN'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-TW', 'en-GB'])).toBe('en');
    expect(pickLanguage(null, ['de-DE', 'zh-CN'])).toBe('zh-CN');
    expect(pickLanguage(null, ['en-US', 'zh-CN'])).toBe('en');
    expect(pickLanguage(null, ['fr'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
    expect(pickLanguage('en', ['zh-CN'])).toBe('en');
    expect(pickLanguage('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(pickLanguage('klingon', ['zh'])).toBe('zh-CN');
  });
});
