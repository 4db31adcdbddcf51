// Matcher → Caddy 2.6 named-matcher lines, for every rule that chooses requests on a Caddy edge
// (modifiers, cache rules, access rules). Pure: data in, text out. The nginx twin is
// nginx-match.ts; each condition means what it means there (docs/spec.md), measured against a
// real Caddy 2.6.2 in test/e2e/caddy-protect.test.ts.
//
// - Request fields: `method`, `path_regexp` (path globs), `path *.ext` (extensions).
// - client_ips: `remote_ip` with the networks, named lists inlined (a Caddyfile has no shared
//   sets). Caddy 2.6 has no trusted proxies for matchers (`servers { trusted_proxies }` and the
//   `client_ip` matcher came in 2.7; `remote_ip forwarded` trusts any client's X-Forwarded-For):
//   an edge with `real_ip_from` cannot match client networks (refused at validation,
//   spec/caddy-capabilities.ts, and here).
// - headers, user_agents, query: `vars_regexp` on a placeholder. `{http.request.header.NAME}` is
//   "" for an absent header (nginx's `$http_NAME` too, so `exact: ""` matches a missing header);
//   `{http.request.uri.query}` is the raw query, on which a regex finds the FIRST `name=`
//   parameter as nginx's `$arg_NAME` does. Caddy ORs the keys of one `vars_regexp` and keeps one
//   pattern per key, so each condition is its own `not { not vars_regexp … }` (AND), and a
//   negated one (query `exact: ""`) a plain `not vars_regexp …`.
// - Patterns are RE2 (spec/protect.ts caddyRegexProblem refuses what RE2 cannot do). In the
//   Caddyfile token, `"`, backquote and every brace that is not a repetition `{n,m}` become hex
//   escapes (caddyPattern): Caddy would otherwise read `{host}` as a placeholder.
import type { Matcher, QueryCondition } from '../spec/index.js';
import { escapeRegex, globToRegex, RenderError } from './escape.js';

/** What caddy.ts's Caddyfile writer offers. */
export interface CaddyWriter {
  line(text?: string): this;
  block(head: string, body: () => void): this;
}

/**
 * A RE2 pattern as a double-quoted Caddyfile token that Caddy reads back byte for byte: no `"`,
 * backquote or literal brace inside (RE2 hex escapes `\x22`, `\x60`, `\x7b`, `\x7d` instead;
 * only a repetition `{n,m}` keeps its braces), no control character, no trailing lone `\`.
 * Braces matter twice: Caddy's adapter reads `{host}` as a placeholder shorthand, and `import`
 * of a snippet (where every matcher is) unescapes `\{` once.
 */
export function caddyPattern(re: string): string {
  const bad = /[\0-\x1f\x7f]/.exec(re);
  if (bad !== null)
    throw new RenderError(
      `a pattern contains a control character (0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')})`,
    );
  const hex: Record<string, string> = { '"': '\\x22', '`': '\\x60', '{': '\\x7b', '}': '\\x7d' };
  let out = '';
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i] ?? '';
    if (c === '\\') {
      const next = re[i + 1];
      if (next === undefined) throw new RenderError('a pattern ends with a lone backslash');
      out += hex[next] ?? `\\${next}`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += hex[c] ?? c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // "]" right after "[" or "[^" is a member of the class, not its end.
      if (re[i + 1] === '^') out += re[++i] ?? '';
      if (re[i + 1] === ']') out += re[++i] ?? '';
      continue;
    }
    if (c === '{') {
      const repeat = /^\{[0-9]+(?:,[0-9]*)?\}/.exec(re.slice(i))?.[0];
      if (repeat !== undefined) {
        out += repeat;
        i += repeat.length - 1;
        continue;
      }
    }
    out += hex[c] ?? c;
  }
  return `"${out}"`;
}

/** A value condition (exact/prefix/regex) as an RE2 fragment, optionally case-insensitive. */
export function valuePattern(v: {
  exact?: string | undefined;
  prefix?: string | undefined;
  regex?: string | undefined;
  case_sensitive?: boolean | undefined;
}): string {
  const body =
    v.exact !== undefined
      ? `^${escapeRegex(v.exact)}$`
      : v.prefix !== undefined
        ? `^${escapeRegex(v.prefix)}`
        : `(?:${v.regex ?? ''})`;
  return v.case_sensitive === false ? `(?i:${body})` : `(?:${body})`;
}

/** The placeholder of a request header's value(s) ("" when the header is absent). */
export function headerPlaceholder(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw new RenderError(`"${name}" cannot be written as a header name`);
  return `{http.request.header.${name}}`;
}

const QUERY = '{http.request.uri.query}';

/**
 * RE2 for "the raw query's first parameter that starts with `name=`" (nginx `$arg_NAME`: names
 * compared case-insensitively, the value up to the next `&`): the parameters before it are
 * those that do not start with `name=`, spelled out as "a prefix of `name=` and then another
 * character, or a proper prefix alone".
 */
export function firstArgPrefix(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new RenderError(`"${name}" cannot be written as a query parameter name`);
  const p = `${name}=`;
  const others = [...p].map((ch, i) => `${p.slice(0, i)}(?:[^${ch}&][^&]*)?`);
  return `^(?:(?i:${others.join('|')})&)*(?i:${name})=`;
}

/** One condition: `key`'s value must match `re` (or must not, when `negate`). */
interface Condition {
  key: string;
  re: string;
  negate: boolean;
}

function queryCondition(q: QueryCondition): Condition | null {
  if (q.present === true)
    return { key: QUERY, re: `(?i)(?:^|&)${escapeRegex(q.name)}(?:[=&]|$)`, negate: false };
  if (q.regex !== undefined)
    throw new RenderError(
      `query parameter "${q.name}": a value pattern cannot be matched on Caddy 2.6 (exact, prefix and present can)`,
    );
  const text = q.exact ?? q.prefix ?? '';
  const ci = (s: string) => (q.case_sensitive === false ? `(?i:${s})` : s);
  // An absent parameter has the empty value, as on nginx: prefix "" holds always, and exact ""
  // holds unless the first `name=` has a value.
  if (text === '')
    return q.exact !== undefined
      ? { key: QUERY, re: `${firstArgPrefix(q.name)}[^&]`, negate: true }
      : null;
  const end = q.exact !== undefined ? '(?:&|$)' : '';
  return {
    key: QUERY,
    re: `${firstArgPrefix(q.name)}${ci(escapeRegex(text))}${end}`,
    negate: false,
  };
}

function conditions(m: Matcher): Condition[] {
  const out: Condition[] = [];
  for (const h of m.headers ?? [])
    out.push({ key: headerPlaceholder(h.name), re: valuePattern(h), negate: false });
  for (const q of m.query ?? []) {
    const c = queryCondition(q);
    if (c !== null) out.push(c);
  }
  if (m.user_agents !== undefined) {
    const alternatives = m.user_agents.map((u) =>
      typeof u === 'string' ? `(?i:${escapeRegex(u)})` : valuePattern(u),
    );
    out.push({ key: headerPlaceholder('User-Agent'), re: alternatives.join('|'), negate: false });
  }
  return out;
}

/** A CIDR range or address from the spec (already validated): digits, hex, `.`, `:`, `/`. */
function caddyCidr(value: string): string {
  if (!/^[0-9A-Fa-f.:/]+$/.test(value))
    throw new RenderError(`"${value}" cannot be written as a Caddy IP range`);
  return value;
}

/** What a matcher needs from the edge: its named lists and whether it has trusted proxies. */
export interface MatchContext {
  ipLists: ReadonlyMap<string, readonly string[]>;
  /** The edge's `real_ip_from`: non-empty, client networks cannot be matched (see above). */
  realIpFrom: readonly string[];
}

function clientNetworks(m: Matcher, ctx: MatchContext): string[] | null {
  if (m.client_ips === undefined) return null;
  if (ctx.realIpFrom.length > 0)
    throw new RenderError(
      'client_ips cannot be matched on a Caddy 2.6 edge with real_ip_from: it has no trusted proxies for matchers',
    );
  const nets = m.client_ips.flatMap((ip) => {
    if (!ip.startsWith('@')) return [ip];
    const list = ctx.ipLists.get(ip.slice(1));
    if (list === undefined)
      throw new RenderError(`the IP list "${ip.slice(1)}" is not in the plan`);
    return [...list];
  });
  return [...new Set(nets)].map(caddyCidr);
}

/** The tokens of `values` after a directive, double-quoted (method names, extensions). */
function quoted(values: readonly string[]): string {
  return values
    .map((v) => {
      if (!/^[A-Za-z0-9*._-]+$/.test(v)) throw new RenderError(`"${v}" cannot be a matcher value`);
      return `"${v}"`;
    })
    .join(' ');
}

/**
 * Writes `@name { … }` for a spec matcher (lists OR-ed, fields AND-ed). Returns false, writing
 * nothing, when the matcher matches every request.
 */
export function caddyNamedMatcher(
  c: CaddyWriter,
  name: string,
  m: Matcher,
  ctx: MatchContext,
): boolean {
  const request: string[] = [];
  if (m.methods) request.push(`method ${quoted(m.methods)}`);
  if (m.paths)
    request.push(`path_regexp ${caddyPattern(`^(?:${m.paths.map(globToRegex).join('|')})$`)}`);
  if (m.extensions) request.push(`path ${quoted(m.extensions.map((e) => `*.${e}`))}`);
  const nets = clientNetworks(m, ctx);
  if (nets !== null) request.push(`remote_ip ${nets.join(' ')}`);
  const conds = conditions(m);
  if (request.length === 0 && conds.length === 0) return false;
  c.block(`@${name}`, () => {
    request.forEach((l) => c.line(l));
    for (const k of conds) {
      const test = `vars_regexp ${k.key} ${caddyPattern(k.re)}`;
      if (k.negate) c.line(`not ${test}`);
      else c.block('not', () => c.line(`not ${test}`));
    }
  });
  return true;
}

/** A one-line description of a matcher, for comments. */
export function describeCaddyMatcher(m: Matcher): string {
  const parts: string[] = [];
  if (m.methods) parts.push(`methods ${m.methods.join(',')}`);
  if (m.paths) parts.push(`paths ${m.paths.join(',')}`);
  if (m.extensions) parts.push(`extensions ${m.extensions.join(',')}`);
  if (m.client_ips) parts.push(`client ips ${m.client_ips.join(',')}`);
  if (m.headers) parts.push(`headers ${m.headers.map((h) => h.name).join(',')}`);
  if (m.query) parts.push(`query ${m.query.map((q) => q.name).join(',')}`);
  if (m.user_agents) parts.push(`${m.user_agents.length} user agent pattern(s)`);
  return parts.length === 0 ? 'every request' : parts.join('; ');
}
