// Validation problems: one per mistake, each with the path of the offending field (and, for
// a file, its line), worded as one sentence a user can act on.
import { z } from 'zod';

export type PathSegment = string | number;

export interface Problem {
  /** Path into the document, e.g. `sites[0].origins[1].host`. */
  path: string;
  /** The same path as segments, for tools. */
  segments: PathSegment[];
  message: string;
  /** 1-based line and column in the source file, when the input was a file. */
  line?: number;
  column?: number;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out === '' ? '(document)' : out;
}

export function problem(segments: PathSegment[], message: string): Problem {
  return { path: escapeControl(formatPath(segments)), segments, message: escapeControl(message) };
}

/**
 * Raw newline, CR, NUL and other control characters of a value never reach a terminal or a
 * log line: they are written as escapes (`\n`, `\r`, `\0`, `\x1b`).
 */
export function escapeControl(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\0'
          ? '\\0'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** One line per problem: `file:line: path: message`. */
export function describeProblem(p: Problem, file?: string): string {
  const where = [file, p.line].filter((x) => x !== undefined).join(':');
  return `${where ? `${where}: ` : ''}${p.path}: ${p.message}`;
}

export class SpecError extends Error {
  readonly code = 'invalid_spec';
  constructor(readonly problems: Problem[]) {
    super(
      problems.length === 1
        ? describeProblem(problems[0] as Problem)
        : `${problems.length} problems: ${problems.map((p) => describeProblem(p)).join('; ')}`,
    );
    this.name = 'SpecError';
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

/** Turns zod issues into problems, choosing the most telling branch of unions. */
export function problemsFromZod(error: z.ZodError, input: unknown): Problem[] {
  const out: Problem[] = [];
  const visit = (issue: z.ZodIssue) => {
    const segments = issue.path;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(problem([...segments, key], `unknown key "${key}" (is it a typo?)`));
        }
        return;
      case 'invalid_union': {
        // Report the branch that matched the input's type (a mapping vs a string), if any.
        const branches = issue.unionErrors.filter(
          (e) =>
            !e.issues.some((i) => i.code === 'invalid_type' && i.path.length === segments.length),
        );
        const literals = literalOptions(issue.unionErrors, segments.length);
        if (branches.length === 1) {
          for (const i of (branches[0] as z.ZodError).issues) visit(i);
        } else if (literals) {
          out.push(
            problem(
              segments,
              `is ${JSON.stringify(valueAt(input, segments))}; must be one of ${literals.join(', ')}`,
            ),
          );
        } else {
          out.push(
            problem(segments, `has the wrong shape (got ${typeName(valueAt(input, segments))})`),
          );
        }
        return;
      }
      case 'invalid_union_discriminator':
        out.push(
          problem(
            segments,
            `must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`,
          ),
        );
        return;
      case 'invalid_type':
        if (issue.received === 'undefined') {
          out.push(problem(segments, 'is required'));
        } else {
          out.push(
            problem(
              segments,
              `must be ${article(issue.expected)}, not ${typeName(valueAt(input, segments))}`,
            ),
          );
        }
        return;
      case 'invalid_enum_value':
        out.push(
          problem(
            segments,
            `is "${String(issue.received)}"; must be one of ${issue.options.map((o) => `"${String(o)}"`).join(', ')}`,
          ),
        );
        return;
      case 'invalid_literal':
        out.push(
          problem(
            segments,
            `is ${JSON.stringify(valueAt(input, segments))}; must be ${JSON.stringify(issue.expected)}`,
          ),
        );
        return;
      case 'too_small':
      case 'too_big':
        // A schema's own wording (`.min(1, '...')`) wins over the generic one.
        out.push(
          problem(
            segments,
            issue.message === zodDefaultMessage(issue)
              ? sizeMessage(issue, valueAt(input, segments))
              : issue.message,
          ),
        );
        return;
      default:
        out.push(problem(segments, issue.message));
    }
  };
  for (const issue of error.issues) visit(issue);
  return out;
}

/** The literals a union accepts, when each of its branches is one literal at the same path. */
function literalOptions(branches: z.ZodError[], depth: number): string[] | undefined {
  const options: string[] = [];
  for (const b of branches) {
    const [only, ...rest] = b.issues;
    if (!only || rest.length > 0 || only.code !== 'invalid_literal' || only.path.length !== depth)
      return undefined;
    options.push(JSON.stringify(only.expected));
  }
  return options;
}

function zodDefaultMessage(issue: z.ZodIssue): string {
  return z.defaultErrorMap(issue, { defaultError: '', data: undefined }).message;
}

/** `is 0; must be at least 1`, `must have at most 32 entries`, in the user's terms. */
function sizeMessage(issue: z.ZodTooSmallIssue | z.ZodTooBigIssue, value: unknown): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? issue.minimum : issue.maximum);
  const exact = 'exact' in issue && issue.exact === true;
  const limit = exact
    ? 'exactly'
    : issue.inclusive
      ? small
        ? 'at least'
        : 'at most'
      : small
        ? 'more than'
        : 'less than';
  switch (issue.type) {
    case 'array':
    case 'set':
      return `has ${Array.isArray(value) ? value.length : 'the wrong number of'} entries; must have ${limit} ${bound}`;
    case 'string':
      return `is ${typeof value === 'string' ? value.length : 'the wrong number of'} characters long; must be ${limit} ${bound}`;
    default:
      return `is ${String(value)}; must be ${limit} ${bound}`;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

export function valueAt(input: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = input;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}
