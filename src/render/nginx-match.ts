// Matcher → nginx conditions, for every rule that chooses requests (modifiers, cache rules,
// access rules, rate limits). Pure: data in, text out.
//
// A matcher whose fields are all request fields (paths, extensions, methods) is one regex test
// of "$request_method:$uri" (`$outpost_request`). Any other field is a CONDITION: one more test
// that must hold. nginx's `if` has no AND, so such a matcher is evaluated into `$outpost_m`:
//
//   set $outpost_m 1;
//   if ($outpost_request !~ "…") { set $outpost_m 0; }   # the request fields, when any
//   if ($http_x_api_key !~ "^(?:k)$") { set $outpost_m 0; } # one line per condition
//   if ($outpost_m) { <what the rule does> }
//
// Client networks are looked up by `geo` blocks at http level (`geo` cannot be used inside a
// server): one per named list (`$outpost_ip_NAME`, in nginx/lists.conf) and one per distinct
// inline list of a site (`$outpost_sN_ipK`, in sites.conf beside the site's upstream).
//
// The client's country, continent and ASN are variables of edge.conf's `geoip2` blocks
// (`$outpost_country`, `$outpost_continent`, `$outpost_asn`; nginx-http.ts), looked up on
// `$remote_addr` (after realip, like the geo blocks); "" when the address is not in the database.
//
// ADDING A CONDITION KIND: write a function (matcher, names) → Test[] and add it to CONDITIONS
// below.
import type { Matcher } from '../spec/index.js';
import { escapeRegex, nginxLiteral } from './escape.js';
import type { Conf } from './nginx-conf.js';

/** "$request_method:$uri" (set per server block): the request fields are matched on it. */
export const REQUEST_VARIABLE = 'outpost_request';
/** Where a matcher with conditions is evaluated: 1 when it matches, 0 when not. */
export const MATCH_VARIABLE = 'outpost_m';
/** The variable of a named IP list's geo block: 1 when the client is in the list. */
export function ipListVariable(name: string): string {
  return `outpost_ip_${name.replace(/-/g, '_')}`;
}

/** Names a site's inline client networks (one geo block per distinct list). */
export class SiteMatchNames {
  /** Key: the inline networks of a matcher joined by spaces; value: the geo variable. */
  readonly inlineNets = new Map<string, { variable: string; networks: string[] }>();
  constructor(private readonly siteId: string) {}

  /** The geo variable of a matcher's inline networks (registered on first use). */
  inline(networks: readonly string[]): string {
    const key = networks.join(' ');
    let e = this.inlineNets.get(key);
    if (e === undefined) {
      e = {
        variable: `outpost_${this.siteId}_ip${this.inlineNets.size + 1}`,
        networks: [...networks],
      };
      this.inlineNets.set(key, e);
    }
    return e.variable;
  }
}

/**
 * One test a matcher field adds: `if ($variable op "value")` sets `$outpost_m` to 0 (so `op` is
 * the NEGATED comparison: `!~` for "must match"). `prepare` lines run first (a `set` that
 * builds the variable).
 */
export interface Test {
  prepare?: string[];
  variable: string;
  op: '!~' | '!=';
  value: string;
}

type ConditionKind = (m: Matcher, names: SiteMatchNames) => Test[];

/** A value condition (exact/prefix/regex) as a PCRE fragment, optionally case-insensitive. */
function valuePattern(v: {
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

/** `$http_NAME` of a header (nginx lowercases it and turns "-" into "_"). */
export function headerVariable(name: string): string {
  return `http_${name.toLowerCase().replace(/-/g, '_')}`;
}

const clientIps: ConditionKind = (m, names) => {
  if (m.client_ips === undefined) return [];
  const inline = m.client_ips.filter((ip) => !ip.startsWith('@'));
  const vars = [
    ...(inline.length > 0 ? [names.inline(inline)] : []),
    ...[...new Set(m.client_ips.filter((ip) => ip.startsWith('@')))].map((ip) =>
      ipListVariable(ip.slice(1)),
    ),
  ];
  // Each geo variable is 1 or 0: the client is in one of the lists when the concatenation has a 1.
  if (vars.length === 1) return [{ variable: vars[0] ?? '', op: '!=', value: '1' }];
  return [
    {
      prepare: [`set $outpost_ipm "${vars.map((v) => `$${v}`).join('')}";`],
      variable: 'outpost_ipm',
      op: '!~',
      value: nginxLiteral('1'),
    },
  ];
};

const headers: ConditionKind = (m) =>
  (m.headers ?? []).map((h) => ({
    variable: headerVariable(h.name),
    op: '!~' as const,
    value: nginxLiteral(valuePattern(h)),
  }));

const query: ConditionKind = (m) =>
  (m.query ?? []).map((q) =>
    q.present === true
      ? {
          variable: 'args',
          op: '!~' as const,
          value: nginxLiteral(`(?i)(?:^|&)${escapeRegex(q.name)}(?:[=&]|$)`),
        }
      : { variable: `arg_${q.name}`, op: '!~' as const, value: nginxLiteral(valuePattern(q)) },
  );

const userAgents: ConditionKind = (m) => {
  if (m.user_agents === undefined) return [];
  const alternatives = m.user_agents.map((u) =>
    typeof u === 'string' ? `(?i:${escapeRegex(u)})` : valuePattern(u),
  );
  return [{ variable: 'http_user_agent', op: '!~', value: nginxLiteral(alternatives.join('|')) }];
};

/** The client's country (ISO 3166 alpha-2) from the edge's country database; "" if unknown. */
export const COUNTRY_VARIABLE = 'outpost_country';
/** The client's continent code (AF AN AS EU NA OC SA); "" if unknown. */
export const CONTINENT_VARIABLE = 'outpost_continent';
/** The client's autonomous system number from the ASN database; "" if unknown. */
export const ASN_VARIABLE = 'outpost_asn';

/** `^(?:A|B)$` of validated codes or numbers (letters and digits only: nothing to escape). */
function oneOf(values: readonly (string | number)[]): string {
  return nginxLiteral(`^(?:${[...new Set(values.map(String))].join('|')})$`);
}

const geography: ConditionKind = (m) => [
  ...(m.countries !== undefined
    ? [{ variable: COUNTRY_VARIABLE, op: '!~' as const, value: oneOf(m.countries) }]
    : []),
  ...(m.continents !== undefined
    ? [{ variable: CONTINENT_VARIABLE, op: '!~' as const, value: oneOf(m.continents) }]
    : []),
  ...(m.asns !== undefined
    ? [{ variable: ASN_VARIABLE, op: '!~' as const, value: oneOf(m.asns) }]
    : []),
];

/** What a matcher asks of the edge's client-geography databases. */
export function geographyNeeds(m: Matcher): { country: boolean; asn: boolean } {
  return {
    country: m.countries !== undefined || m.continents !== undefined,
    asn: m.asns !== undefined,
  };
}

/** Every condition kind, in the order their tests are rendered. Add new kinds here. */
const CONDITIONS: ConditionKind[] = [clientIps, headers, query, userAgents, geography];

/** Does the matcher name request fields (paths, extensions, methods)? */
function hasRequestFields(m: Matcher): boolean {
  return m.paths !== undefined || m.extensions !== undefined || m.methods !== undefined;
}

/**
 * Renders "when `m` matches, do `body`" at server level. `requestRegex` is the matcher's PCRE
 * on `$outpost_request` (render/nginx.ts builds it). A matcher with request fields only stays
 * one `if`, as before conditions existed.
 */
export function renderMatch(
  c: Conf,
  m: Matcher,
  requestRegex: string,
  names: SiteMatchNames,
  body: () => void,
): void {
  const tests = CONDITIONS.flatMap((kind) => kind(m, names));
  if (tests.length === 0) {
    c.block(`if ($${REQUEST_VARIABLE} ~ ${nginxLiteral(requestRegex)})`, body);
    return;
  }
  c.line(`set $${MATCH_VARIABLE} 1;`);
  if (hasRequestFields(m))
    c.block(`if ($${REQUEST_VARIABLE} !~ ${nginxLiteral(requestRegex)})`, () =>
      c.line(`set $${MATCH_VARIABLE} 0;`),
    );
  for (const t of tests) {
    for (const line of t.prepare ?? []) c.line(line);
    c.block(`if ($${t.variable} ${t.op} ${t.value})`, () => c.line(`set $${MATCH_VARIABLE} 0;`));
  }
  c.block(`if ($${MATCH_VARIABLE})`, body);
}

/** The http-level geo blocks of a site's inline client networks. */
export function renderInlineGeos(c: Conf, names: SiteMatchNames): void {
  for (const { variable, networks } of names.inlineNets.values()) renderGeo(c, variable, networks);
}

/** `geo $variable { default 0; NET 1; … }` on the client address ($remote_addr after realip). */
export function renderGeo(c: Conf, variable: string, networks: readonly string[]): void {
  c.block(`geo $${variable}`, () => {
    c.line('default 0;');
    for (const n of [...new Set(networks)]) c.line(`${nginxLiteral(n)} 1;`);
  });
}

/** A one-line description of the conditions of a matcher, for comments. */
export function describeConditions(m: Matcher): string[] {
  const parts: string[] = [];
  if (m.client_ips) parts.push(`client ips ${m.client_ips.join(',')}`);
  if (m.headers) parts.push(`headers ${m.headers.map((h) => h.name).join(',')}`);
  if (m.query) parts.push(`query ${m.query.map((q) => q.name).join(',')}`);
  if (m.user_agents) parts.push(`${m.user_agents.length} user agent pattern(s)`);
  if (m.countries) parts.push(`countries ${m.countries.join(',')}`);
  if (m.continents) parts.push(`continents ${m.continents.join(',')}`);
  if (m.asns) parts.push(`asns ${m.asns.join(',')}`);
  return parts;
}
