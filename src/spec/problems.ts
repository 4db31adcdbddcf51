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
  /**
   * The kind of mistake, stable (one of PROBLEM_CODES), when the problem is one of the generic
   * ones; `params` are the values its English `message` was worded with. The web UI translates
   * a problem from these (`problems.<code>` in its catalogues); the CLI prints `message`.
   */
  code?: ProblemCode;
  params?: Record<string, string>;
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

/** Bounds of a size check, as a code suffix (`number_at_most`). */
const LIMITS = ['at_least', 'at_most', 'exactly', 'more_than', 'less_than'] as const;
type Limit = (typeof LIMITS)[number];
const SIZED = ['entries', 'length', 'number'] as const;

/** Every code a problem can carry (problemsFromZod's generic problems). Stable: the UI's
 * catalogues translate each one, and a test checks that they do. */
export const PROBLEM_CODES = [
  'unknown_key',
  'not_one_of',
  'must_be_one_of',
  'wrong_shape',
  'required',
  'wrong_type',
  'not_literal',
  ...SIZED.flatMap((s) => LIMITS.map((l) => `${s}_${l}` as const)),
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** A generic problem: its code, and the values its English message was worded with. */
function coded(
  segments: PathSegment[],
  code: ProblemCode,
  params: Record<string, string>,
  message: string,
): Problem {
  const escaped = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, escapeControl(v)]));
  return { ...problem(segments, message), code, params: escaped };
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
          out.push(
            coded(
              [...segments, key],
              'unknown_key',
              { key },
              `unknown key "${key}" (is it a typo?)`,
            ),
          );
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
          const value = String(JSON.stringify(valueAt(input, segments)));
          const options = literals.join(', ');
          out.push(
            coded(
              segments,
              'not_one_of',
              { value, options },
              `is ${value}; must be one of ${options}`,
            ),
          );
        } else {
          const got = typeName(valueAt(input, segments));
          out.push(coded(segments, 'wrong_shape', { got }, `has the wrong shape (got ${got})`));
        }
        return;
      }
      case 'invalid_union_discriminator': {
        const options = issue.options.map((o) => JSON.stringify(o)).join(', ');
        out.push(coded(segments, 'must_be_one_of', { options }, `must be one of ${options}`));
        return;
      }
      case 'invalid_type':
        if (issue.received === 'undefined') {
          out.push(coded(segments, 'required', {}, 'is required'));
        } else {
          const expected = article(issue.expected);
          const got = typeName(valueAt(input, segments));
          out.push(
            coded(segments, 'wrong_type', { expected, got }, `must be ${expected}, not ${got}`),
          );
        }
        return;
      case 'invalid_enum_value': {
        const value = `"${String(issue.received)}"`;
        const options = issue.options.map((o) => `"${String(o)}"`).join(', ');
        out.push(
          coded(
            segments,
            'not_one_of',
            { value, options },
            `is ${value}; must be one of ${options}`,
          ),
        );
        return;
      }
      case 'invalid_literal': {
        const value = String(JSON.stringify(valueAt(input, segments)));
        const expected = String(JSON.stringify(issue.expected));
        out.push(
          coded(segments, 'not_literal', { value, expected }, `is ${value}; must be ${expected}`),
        );
        return;
      }
      case 'too_small':
      case 'too_big':
        // A schema's own wording (`.min(1, '...')`) wins over the generic one.
        out.push(
          issue.message === zodDefaultMessage(issue)
            ? sizeProblem(segments, issue, valueAt(input, segments))
            : problem(segments, issue.message),
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
function sizeProblem(
  segments: PathSegment[],
  issue: z.ZodTooSmallIssue | z.ZodTooBigIssue,
  value: unknown,
): Problem {
  const small = issue.code === 'too_small';
  const bound = String(Number(small ? issue.minimum : issue.maximum));
  const exact = 'exact' in issue && issue.exact === true;
  const limit: Limit = exact
    ? 'exactly'
    : issue.inclusive
      ? small
        ? 'at_least'
        : 'at_most'
      : small
        ? 'more_than'
        : 'less_than';
  const words = limit.replace('_', ' ');
  switch (issue.type) {
    case 'array':
    case 'set': {
      const actual = Array.isArray(value) ? String(value.length) : 'the wrong number of';
      return coded(
        segments,
        `entries_${limit}`,
        { actual, bound },
        `has ${actual} entries; must have ${words} ${bound}`,
      );
    }
    case 'string': {
      const actual = typeof value === 'string' ? String(value.length) : 'the wrong number of';
      return coded(
        segments,
        `length_${limit}`,
        { actual, bound },
        `is ${actual} characters long; must be ${words} ${bound}`,
      );
    }
    default: {
      const actual = String(value);
      return coded(
        segments,
        `number_${limit}`,
        { actual, bound },
        `is ${actual}; must be ${words} ${bound}`,
      );
    }
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
