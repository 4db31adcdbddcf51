// Value-level shapes of the protection matchers (issue 16, part A): client addresses and named
// IP lists, request headers, query parameters, user agents, and the PCRE patterns they may carry.
// Every value here ends up inside a quoted nginx string (and a Caddyfile token), so the checks
// are the first wall against config injection; render/escape.ts is the second.
import { z } from 'zod';
import { Cidr, describeChar, QueryParamName } from './primitives.js';
import { issue, said, sentence, type Said } from './problems.js';

/** Name of a shared IP list (`ip_lists` at the top of the spec), referenced as `@NAME`. */
export const IpListName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, sentence('name_format'));

/** A client address or network (`10.0.0.0/8`, `2001:db8::/32`) or `@list` naming an IP list. */
export const ClientIp = z.string().superRefine((v, ctx) => {
  if (v.startsWith('@')) {
    if (!IpListName.safeParse(v.slice(1)).success)
      ctx.addIssue(issue(said('not_list_reference', { value: v })));
    return;
  }
  if (v.includes('%')) ctx.addIssue(issue(said('ipv6_zone_id', { value: v })));
  else if (!Cidr.safeParse(v).success) ctx.addIssue(issue(said('not_client_ip', { value: v })));
});

/** The named lists: `ip_lists: { office: [192.0.2.0/24, …] }`. */
export const IpLists = z.record(
  IpListName,
  z
    .array(Cidr.refine((v) => !v.includes('%'), issue(said('ip_list_zone_id'))))
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
export function regexProblem(re: string): Said | undefined {
  if (re.length === 0) return said('empty');
  if (re.length > 512) return said('regex_too_long');
  const control = /[\0-\x1f\x7f]/.exec(re)?.[0];
  if (control !== undefined) return said('regex_control', { char: describeChar(control) });
  if (re.includes('{$')) return said('env_placeholder');
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      const next = re[i + 1];
      if (next === undefined) return said('regex_lone_backslash');
      if (next === 'Q' || next === 'E') return said('regex_quoting', { letter: next });
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i + 2);
        if (end === -1) return said('regex_unclosed_class_name');
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
      if (rest.startsWith('*')) return said('regex_verb');
      if (rest.startsWith('?C')) return said('regex_callout');
      if (rest.startsWith('?#')) {
        const end = re.indexOf(')', i);
        if (end === -1) return said('regex_unclosed_comment');
        i = end;
        continue;
      }
      const flags = /^\?\^?([a-zA-Z-]*)[:)]/.exec(rest)?.[1];
      if (flags?.includes('x') === true) return said('regex_x_flag');
      depth++;
      continue;
    }
    if (c === ')') {
      depth--;
      if (depth < 0) return said('regex_unopened_group');
    }
  }
  if (inClass) return said('regex_unclosed_class');
  if (depth > 0) return said('regex_unclosed_group');
  return undefined;
}

/**
 * Why an (already valid) pattern cannot run on a Caddy edge, or undefined: Caddy matches with
 * Go's RE2, which has no lookaround, backreferences, atomic groups or possessive quantifiers.
 */
export type CaddyRegexProblem =
  'lookaround' | 'atomic' | 'backreference' | 'possessive' | 'named_group';
/** The kind of problem, worded with the serving edges as `caddy_regex_<kind>` (problems.ts). */
export function caddyRegexProblem(re: string): CaddyRegexProblem | undefined {
  if (/\(\?<?[=!]/.test(re)) return 'lookaround';
  if (/\(\?>/.test(re)) return 'atomic';
  if (/(?<!\\)\\[1-9]/.test(re)) return 'backreference';
  if (/[*+?}]\+/.test(re)) return 'possessive';
  // Debian's Caddy 2.6.2 is built with Go 1.18, whose RE2 knows only "(?P<name>".
  if (/\(\?<[A-Za-z_]/.test(re)) return 'named_group';
  return undefined;
}

/** A PCRE pattern a matcher may carry (see regexProblem for what is refused and why). */
export const MatchRegex = z.string().superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem !== undefined) ctx.addIssue(issue(problem));
});

/** A literal an `exact` or `prefix` condition compares with: printable text, 1024 at most. */
export const MatchText = z
  .string()
  .max(1024)
  .superRefine((v, ctx) => {
    const bad = /[\0-\x1f\x7f]/.exec(v)?.[0];
    if (bad !== undefined)
      ctx.addIssue(issue(said('match_text_control', { char: describeChar(bad) })));
    else if (v.includes('{$')) ctx.addIssue(issue(said('env_placeholder')));
  });

/**
 * A request header name to match: letters, digits and "-" (RFC 9110 token characters that an
 * nginx `$http_NAME` variable can name; nginx drops headers with "_" by default). Compared
 * case-insensitively, as HTTP says.
 */
export const MatchHeaderName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, sentence('match_header_name_format'));

const VALUE_KINDS = ['exact', 'prefix', 'regex'] as const;

function exactlyOne(kinds: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const set = kinds.filter((k) => v[k] !== undefined);
    if (set.length !== 1)
      ctx.addIssue(
        issue(
          set.length === 0
            ? said('needs_one_of', { options: kinds.join(', ') })
            : said('only_one_of', { fields: set.join(' and '), options: kinds.join(', ') }),
        ),
      );
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
  MatchText.pipe(z.string().min(1, sentence('empty'))),
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
  .regex(/^[1-9][0-9]{0,5}r\/[sm]$/, sentence('request_rate_format'));

/** What a rate limit counts by: the client address, or the value of a request header. */
export const RateLimitKey = z.union([
  z.literal('ip'),
  z.string().superRefine((v, ctx) => {
    const name = v.startsWith('header:') ? v.slice('header:'.length) : undefined;
    if (name === undefined || !MatchHeaderName.safeParse(name).success)
      ctx.addIssue(issue(said('rate_limit_key_format', { value: v })));
  }),
]);
