// Value-level shapes of the protection matchers (issue 16, part A): client addresses and named
// IP lists, request headers, query parameters, user agents, and the PCRE patterns they may carry.
// Every value here ends up inside a quoted nginx string (and a Caddyfile token), so the checks
// are the first wall against config injection; render/escape.ts is the second.
import { z } from 'zod';
import { Cidr, describeChar, QueryParamName } from './primitives.js';

/** Name of a shared IP list (`ip_lists` at the top of the spec), referenced as `@NAME`. */
export const IpListName = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be 1-63 lowercase letters, digits or "-", not starting or ending with "-"',
  );

/** A client address or network (`10.0.0.0/8`, `2001:db8::/32`) or `@list` naming an IP list. */
export const ClientIp = z.string().superRefine((v, ctx) => {
  if (v.startsWith('@')) {
    if (!IpListName.safeParse(v.slice(1)).success)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${v}" is not a list reference: "@" and a list name of lowercase letters, digits or "-"`,
      });
    return;
  }
  if (v.includes('%'))
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${v}" has an IPv6 zone id (%…), which nginx does not accept: write the address alone`,
    });
  else if (!Cidr.safeParse(v).success)
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${v}" is not an IP address, a network like 10.0.0.0/8 or 2001:db8::/32, or an "@list" reference`,
    });
});

/** The named lists: `ip_lists: { office: [192.0.2.0/24, …] }`. */
export const IpLists = z.record(
  IpListName,
  z
    .array(
      Cidr.refine((v) => !v.includes('%'), {
        message: 'has an IPv6 zone id (%…), which nginx does not accept',
      }),
    )
    .min(1)
    .max(100_000),
);
export type IpLists = z.infer<typeof IpLists>;

/**
 * Why `re` is refused as a matcher pattern, or undefined. Patterns are nginx PCRE (Caddy: Go
 * RE2, see caddyRegexProblem). The renderers wrap each pattern in a group and join several
 * with `|`, inside a quoted string, so anything that could reach past its own group is refused:
 * control characters (a newline ends an nginx token), an unbalanced `(`, `)` or `[`, a trailing
 * lone `\`, `\Q` quoting (it would swallow the closing group), the `x` flag (`#` would comment
 * the rest out), PCRE verbs `(*…)` (they change the engine's limits, and only work at the very
 * start) and callouts `(?C…)`. `{$` is refused for Caddy's environment placeholders.
 */
export function regexProblem(re: string): string | undefined {
  if (re.length === 0) return 'must not be empty';
  if (re.length > 512) return 'is longer than 512 characters';
  const control = /[\0-\x1f\x7f]/.exec(re)?.[0];
  if (control !== undefined) return `contains ${describeChar(control)}, which a pattern must not`;
  if (re.includes('{$')) return 'contains "{$", which Caddy would read as an environment variable';
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      const next = re[i + 1];
      if (next === undefined) return 'ends with a lone "\\" (it would escape what follows)';
      if (next === 'Q' || next === 'E')
        return `uses "\\${next}" quoting, which is not allowed (escape each character instead)`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i + 2);
        if (end === -1) return 'has an unclosed "[:" class name';
        i = end + 1;
      } else if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // A "]" right after "[" or "[^" is a literal member of the class.
      if (re[i + 1] === '^') i++;
      if (re[i + 1] === ']') i++;
      continue;
    }
    if (c === '(') {
      const rest = re.slice(i + 1);
      if (rest.startsWith('*')) return 'uses a PCRE verb "(*…)", which is not allowed';
      if (rest.startsWith('?C')) return 'uses a PCRE callout "(?C…)", which is not allowed';
      if (rest.startsWith('?#')) {
        const end = re.indexOf(')', i);
        if (end === -1) return 'has an unclosed "(?#" comment';
        i = end;
        continue;
      }
      const flags = /^\?\^?([a-zA-Z-]*)[:)]/.exec(rest)?.[1];
      if (flags?.includes('x') === true)
        return 'uses the "x" flag, which is not allowed ("#" would comment out the rest)';
      depth++;
      continue;
    }
    if (c === ')') {
      depth--;
      if (depth < 0) return 'has a ")" without its "("';
    }
  }
  if (inClass) return 'has a "[" without its "]"';
  if (depth > 0) return 'has a "(" without its ")"';
  return undefined;
}

/**
 * Why an (already valid) pattern cannot run on a Caddy edge, or undefined: Caddy matches with
 * Go's RE2, which has no lookaround, backreferences, atomic groups or possessive quantifiers.
 */
export function caddyRegexProblem(re: string): string | undefined {
  if (/\(\?<?[=!]/.test(re)) return 'uses lookaround, which Caddy (Go RE2) does not support';
  if (/\(\?>/.test(re)) return 'uses an atomic group, which Caddy (Go RE2) does not support';
  if (/(?<!\\)\\[1-9]/.test(re))
    return 'uses a backreference, which Caddy (Go RE2) does not support';
  if (/[*+?}]\+/.test(re))
    return 'uses a possessive quantifier, which Caddy (Go RE2) does not support';
  // Debian's Caddy 2.6.2 is built with Go 1.18, whose RE2 knows only "(?P<name>".
  if (/\(\?<[A-Za-z_]/.test(re))
    return 'uses a named group "(?<name>…)", which Caddy 2.6 (Go RE2) does not accept: write "(?P<name>…)"';
  return undefined;
}

/** A PCRE pattern a matcher may carry (see regexProblem for what is refused and why). */
export const MatchRegex = z.string().superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

/** A literal an `exact` or `prefix` condition compares with: printable text, 1024 at most. */
export const MatchText = z
  .string()
  .max(1024)
  .superRefine((v, ctx) => {
    const bad = /[\0-\x1f\x7f]/.exec(v)?.[0];
    if (bad !== undefined)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `contains ${describeChar(bad)}, which no request header or query value can hold`,
      });
    else if (v.includes('{$'))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'contains "{$", which Caddy would read as an environment variable',
      });
  });

/**
 * A request header name to match: letters, digits and "-" (RFC 9110 token characters that an
 * nginx `$http_NAME` variable can name; nginx drops headers with "_" by default). Compared
 * case-insensitively, as HTTP says.
 */
export const MatchHeaderName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/,
    'must be 1-64 letters, digits or "-" (header token characters nginx can name)',
  );

const VALUE_KINDS = ['exact', 'prefix', 'regex'] as const;

function exactlyOne(kinds: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const set = kinds.filter((k) => v[k] !== undefined);
    if (set.length !== 1)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          set.length === 0
            ? `needs one of ${kinds.join(', ')}`
            : `has ${set.join(' and ')}: set only one of ${kinds.join(', ')}`,
      });
  };
}

/**
 * A request header condition. The value is compared case-sensitively unless `case_sensitive:
 * false`; an absent header has the empty value (so `exact: ""` matches a missing header).
 */
export const HeaderCondition = z
  .object({
    name: MatchHeaderName,
    exact: MatchText.optional(),
    prefix: MatchText.optional(),
    regex: MatchRegex.optional(),
    case_sensitive: z.boolean().optional(),
  })
  .strict()
  .superRefine(exactlyOne(VALUE_KINDS));
export type HeaderCondition = z.infer<typeof HeaderCondition>;

/**
 * A query parameter condition on the raw (percent-encoded) value of the first parameter of
 * that name (nginx `$arg_NAME`; names compared case-insensitively), or `present: true`.
 */
export const QueryCondition = z
  .object({
    name: QueryParamName,
    exact: MatchText.optional(),
    prefix: MatchText.optional(),
    regex: MatchRegex.optional(),
    present: z.literal(true).optional(),
    case_sensitive: z.boolean().optional(),
  })
  .strict()
  .superRefine(exactlyOne([...VALUE_KINDS, 'present']));
export type QueryCondition = z.infer<typeof QueryCondition>;

/**
 * A User-Agent condition: `{exact|prefix|regex}` (case-sensitive unless `case_sensitive:
 * false`), or a string: a case-insensitive substring (`"curl"` matches `curl/8.0`).
 */
export const UserAgentCondition = z.union([
  MatchText.pipe(z.string().min(1, 'must not be empty')),
  z
    .object({
      exact: MatchText.optional(),
      prefix: MatchText.optional(),
      regex: MatchRegex.optional(),
      case_sensitive: z.boolean().optional(),
    })
    .strict()
    .superRefine(exactlyOne(VALUE_KINDS)),
]);
export type UserAgentCondition = z.infer<typeof UserAgentCondition>;

/** `10r/s` or `100r/m`: requests per second or minute (nginx limit_req_zone's rate). */
export const RequestRate = z
  .string()
  .regex(
    /^[1-9][0-9]{0,5}r\/[sm]$/,
    'must be requests per second or minute like "10r/s" or "100r/m"',
  );

/** What a rate limit counts by: the client address, or the value of a request header. */
export const RateLimitKey = z.union([
  z.literal('ip'),
  z.string().superRefine((v, ctx) => {
    const name = v.startsWith('header:') ? v.slice('header:'.length) : undefined;
    if (name === undefined || !MatchHeaderName.safeParse(name).success)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${v}" must be "ip" or "header:NAME" with a header name of letters, digits or "-"`,
      });
  }),
]);
