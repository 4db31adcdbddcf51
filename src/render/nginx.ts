// EdgePlan → nginx configuration files. Pure: same plan and options, same bytes.
//
// On-disk layout contract (shared with the agent; also in docs/nginx-layout.md):
//
//   <root>/                        nginx prefix: `nginx -p <root>/ -c <root>/live/nginx.conf`
//   <root>/live/nginx.conf         renderNginxMain(), written by the agent
//   <root>/live/release ->         symlink to the active release, <root>/releases/<N>/
//   <root>/candidate/nginx.conf    the same main file, for a release being tested:
//   <root>/candidate/release ->    `nginx -t -p <root>/ -c <root>/candidate/nginx.conf`
//   <root>/releases/<N>/           one immutable release:
//       nginx/edge.conf            http-level: cache path, shared maps, default servers,
//                                  the edge's raw snippet
//       nginx/sites.conf           `include release/nginx/sites/*.conf;`
//       nginx/sites/<stem>.conf    one site: upstream, maps, HTTP and HTTPS servers. It names
//                                  nothing of its edge (the listen lines are an include of
//                                  nginx/listen/, the edge's name and release are variables),
//                                  so the bundle builder renders a site once for all edges
//       nginx/listen/http.conf     the edge's `listen` lines, included by every site server
//       nginx/listen/https.conf
//       nginx/main/modules.conf    load_module lines, included at the top of the main file
//       nginx/njs/outpost.js       njs filters (render/njs/outpost.ts), js_import-ed
//       trust/<stem>.pem           CA bundle of a site whose origins set `tls_ca`
//       certs/<stem>.crt|.key      NOT rendered: the bundle adds them for the domains listed
//                                  in `certificates` (stem: certFileStem(domain))
//   <root>/logs/                   pid, error.log, access.json (relative to the prefix)
//   <root>/cache/outpost/          proxy cache (relative to the prefix; shared by releases)
//   <root>/tmp/                    nginx temp files (relative to the prefix)
//
// The agent creates logs/, tmp/ and cache/ (nginx only creates the last path component) and
// keeps the prefix reachable by the worker user (`nobody` unless renderNginxMain({ user })).
// `include`, `ssl_certificate` and `proxy_ssl_trusted_certificate` paths are relative to the
// directory of the -c file (live/ or candidate/), so `release/...` follows the symlink of
// whichever main file is loaded; `proxy_cache_path`, logs, pid and temp paths are relative
// to the prefix.
//
// Request handling per site (see docs/nginx-layout.md for the why):
// - `$outpost_sN_mod`: index of the first modifier matching "$request_method:$uri" (map regexes
//   are tried in order), 0 if none. Redirect and deny act in `location /`; set_header adds
//   a header through a per-name map; bypass_cache and cache_ttl feed the cache decision.
// - `$outpost_sN_rule`: index of the first matching cache rule, 0 if none.
// - `$outpost_sN_cache`: `cache` (honour the origin's headers), `ttlN` (same, N seconds when
//   the origin sends no Cache-Control/Expires), `rN` (the settings of rule N: forced TTL,
//   statuses, cache key, cookies, slices, browser TTL), or `bypass`. `ttlN` and `rN` requests are
//   handed to a named location carrying what nginx cannot take from a variable
//   (`proxy_cache_valid`, `proxy_ignore_headers`, `slice`, ...).
// - `$outpost_sN_resp` (only with response conditions): the first rule matching the request AND
//   the origin's answer (status, Content-Type), evaluated when the origin answers;
//   `$outpost_sN_nostore` keeps the answer out of the cache unless that is the request's rule.
import { createHash } from 'node:crypto';
import type { EdgePlan, PlannedModifier, PlannedSite } from '../compile/index.js';
import { EDGE_HEALTH_MATCH, EDGE_HEALTH_PATH } from '../spec/index.js';
import type { CacheMatcher, CacheRule, Matcher } from '../spec/index.js';
import {
  DOLLAR_VARIABLE,
  escapeRegex,
  globToRegex,
  nginxLiteral,
  nginxRegex,
  nginxString,
  RenderError,
} from './escape.js';
import {
  CACHE_DIR,
  CACHE_ZONE,
  certFileStem,
  certificatePaths,
  ocspStaplePath,
  STUB_STATUS_PATH,
  type RenderedFile,
} from '../bundle/layout.js';
import { Conf } from './nginx-conf.js';
import {
  CONNECTION_VARIABLE,
  FORCED_NO_STORE_VARIABLES,
  FORWARDED_FOR_VARIABLE,
  MODULES_PATH,
  NO_STORE_VARIABLES,
  renderEdgeGeoip,
  renderEdgeHttp,
  type GeoipDatabases,
  renderModulesConf,
  renderSiteFilters,
} from './nginx-http.js';
import { NJS_PATH, njsSource } from './njs/outpost.js';
import { renderEdgeTls } from './nginx-tls.js';
import {
  describeConditions,
  geographyNeeds,
  REQUEST_VARIABLE,
  renderInlineGeos,
  renderMatch,
  SiteMatchNames,
} from './nginx-match.js';
import {
  IP_LISTS_PATH,
  renderAccessActions,
  renderAccessDecision,
  renderAccessLocations,
  renderEdgeRateLimitMap,
  renderIpLists,
  renderRateLimitHeader,
  renderRateLimitZones,
} from './nginx-access.js';
import { plannedMatchers } from '../compile/index.js';
import { renderSiteWaf } from './nginx-waf.js';

// The release layout moved to bundle/layout.ts (shared with proxy-check and the agent); it is
// re-exported here for callers that still import it from the renderer.
export * from '../bundle/layout.js';

export interface RenderNginxOptions {
  /** Monotonic release number, sent in `X-Outpost-Release`. */
  release: number;
  /** Site domains whose certificate files are in the release (`certs/<stem>.crt|.key`). */
  certificates: readonly string[];
  /**
   * Site domains (among `certificates`) whose OCSP response is in the release
   * (`ocspStaplePath`): their HTTPS servers staple it from the file.
   */
  staples?: readonly string[];
  /**
   * The control plane's public URL. When set, every site's HTTP server proxies
   * `/.well-known/acme-challenge/` to it (it answers ACME HTTP-01 challenges); otherwise the
   * path is proxied to the site's origin.
   */
  acmeChallengeUrl?: string;
  /**
   * The client-geography databases in the release (bundle/layout.ts GEOIP_*_PATH), for sites
   * whose matchers name countries, continents or ASNs; without them such a site is a
   * RenderError.
   */
  geoip?: GeoipDatabases;
}

/**
 * What one site's rendering takes from its edge (`renderNginxSite`): nothing edge-specific
 * but the HTTPS port of the redirect, so sites render once for every edge that serves them.
 */
export interface NginxSiteOptions {
  /** The edge's HTTPS port (the redirect of `https.redirect_http` names it unless 443). */
  httpsPort: number;
  /** The release holds the site's certificate: an HTTPS server is rendered. */
  certificate: boolean;
  /** The release holds an OCSP response for it (`ocspStaplePath`). */
  staple: boolean;
  acmeChallengeUrl?: string;
}

/** One site's files and what edge.conf must provide for it. */
export interface NginxSiteRendering {
  files: RenderedFile[];
  needs: NginxSiteNeeds;
}

export interface NginxSiteNeeds {
  brotli: boolean;
  /** The WAF is on: the release loads ModSecurity. */
  waf: boolean;
  /** A forced TTL: edge.conf renders the Cache-Control private map. */
  force: boolean;
  /** Browser TTLs: edge.conf renders one map per TTL. */
  browserTtls: number[];
  /** The site is served over HTTPS here (a certificate): edge.conf listens for TLS. */
  https: boolean;
  /** The site has a rate limit: edge.conf renders the Retry-After map. */
  rateLimits: boolean;
  /** Country or continent matchers: the release loads geoip2 and the country database. */
  geoip: boolean;
  /** ASN matchers: the release loads geoip2 and a database with ASNs. */
  asn: boolean;
}

/** The edge's listen lines, included by every site's server blocks. */
export const LISTEN_HTTP_PATH = 'nginx/listen/http.conf';
export const LISTEN_HTTPS_PATH = 'nginx/listen/https.conf';
/** The edge's name and release (edge.conf), sent by every server in X-CDN-Node/X-Outpost-Release. */
const NODE_VARIABLE = 'outpost_node';
const RELEASE_VARIABLE = 'outpost_release';

export function sitePath(domain: string): string {
  return `nginx/sites/${certFileStem(domain)}.conf`;
}

/** "$request_method:$uri", which modifiers and cache rules match (set per server block). */
export { REQUEST_VARIABLE } from './nginx-match.js';

/** Used for HTTPS origins unless the site's origins set `tls_ca`. */
export const SYSTEM_TRUST_STORE = '/etc/ssl/certs/ca-certificates.crt';
/**
 * Response statuses a rule's `ttl` applies to when the origin sent no caching headers: the
 * heuristically cacheable successes and permanent redirects (RFC 9110 §15.1), not errors.
 */
export const TTL_STATUSES = '200 203 204 206 300 301 308';

export function trustPath(domain: string): string {
  return `trust/${certFileStem(domain)}.pem`;
}

/** Placeholders of a redirect target and the nginx variables they become. */
const PLACEHOLDER_VARIABLES: Record<string, string> = {
  uri: 'request_uri',
  path: 'outpost_path',
  args: 'args',
  host: 'host',
  scheme: 'scheme',
};

function listenAddresses(plan: EdgePlan, port: number): string[] {
  if (plan.listen.addresses.length === 0) return [`${port}`, `[::]:${port}`];
  return plan.listen.addresses.map((a) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`));
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The PCRE matching "$request_method:$uri", after `^` (lists OR-ed, fields AND-ed). */
function requestRegexBody(m: Matcher): string {
  const method = m.methods ? `(?:${m.methods.map(escapeRegex).join('|')})` : '[^:]*';
  let re = `${method}:`;
  const paths = m.paths ? `(?:${m.paths.map(globToRegex).join('|')})` : undefined;
  const exts = m.extensions ? `.*\\.(?i:${m.extensions.map(escapeRegex).join('|')})$` : undefined;
  if (paths !== undefined && exts !== undefined) re += `(?=${paths}$)${exts}`;
  else if (paths !== undefined) re += `${paths}$`;
  else if (exts !== undefined) re += exts;
  return re;
}

/** The PCRE matching "$request_method:$uri" for a matcher (lists OR-ed, fields AND-ed). */
export function matcherRegex(m: Matcher): string {
  return `(?s)^${requestRegexBody(m)}`;
}

/** The string `$outpost_sN_resp` maps: Content-Type, status (list), method and URI. */
export const RESPONSE_SOURCE =
  '"$upstream_http_content_type\\n$upstream_status\\n$request_method:$uri"';

/**
 * The PCRE matching RESPONSE_SOURCE for a cache rule's matcher: the Content-Type (parameters
 * ignored, case-insensitive), the last status of `$upstream_status` ("502, 200" after a retry),
 * then the request as in matcherRegex. A header value cannot hold a newline: it separates.
 */
export function responseMatcherRegex(m: CacheMatcher): string {
  const types = m.content_types?.map((t) => {
    const [type = '', sub = ''] = t.split('/');
    return `${escapeRegex(type)}/${sub === '*' ? '[^\\t\\n ;]*' : escapeRegex(sub)}`;
  });
  const type = types ? `(?i:${types.join('|')})(?:[\\t ;][^\\n]*)?\\n` : '[^\\n]*\\n';
  const status = m.statuses ? `(?:[^\\n]*[ ,:])?(?:${m.statuses.join('|')})\\n` : '[^\\n]*\\n';
  return `(?s)^${type}${status}${requestRegexBody(m)}`;
}

function hasResponseConditions(m: CacheMatcher): boolean {
  return m.statuses !== undefined || m.content_types !== undefined;
}

function describeMatcher(m: CacheMatcher): string {
  const parts: string[] = [];
  if (m.methods) parts.push(`methods ${m.methods.join(',')}`);
  if (m.paths) parts.push(`paths ${m.paths.join(',')}`);
  if (m.extensions) parts.push(`extensions ${m.extensions.join(',')}`);
  if (m.statuses) parts.push(`statuses ${m.statuses.join(',')}`);
  if (m.content_types) parts.push(`content types ${m.content_types.join(',')}`);
  parts.push(...describeConditions(m));
  // Comments end at a newline; the spec's values have none (refused by nginxLiteral anyway).
  return (parts.length === 0 ? 'every request' : parts.join('; ')).replace(/[\r\n]/g, ' ');
}

function describeModifier(m: PlannedModifier): string {
  const where = m.selector === null ? 'site' : `${m.level} ${m.selector}`;
  const name = m.name === null ? '' : ` ${m.name}`;
  return `modifier${name} (${where}, spec #${m.index}): ${m.action.type}; ${describeMatcher(m.match)}`;
}

/** Redirect target template → nginx string with variables. */
function redirectTarget(template: string): string {
  const parts = template.split(/(\{[a-z]+\})/);
  let out = '';
  for (const part of parts) {
    const ph = /^\{([a-z]+)\}$/.exec(part);
    const variable = ph ? PLACEHOLDER_VARIABLES[ph[1] ?? ''] : undefined;
    if (variable !== undefined) out += `\${${variable}}`;
    else out += nginxString(part).slice(1, -1);
  }
  return `"${out}"`;
}

/**
 * Where a cached request is served, decided before the origin answers: what a location must
 * carry because nginx cannot take it from a variable. `cache` is `location /` itself.
 */
export interface CacheProfile {
  /** `cache`, `ttl<N>` (a plain TTL, also from cache_ttl modifiers) or `r<N>` (rule N's). */
  name: string;
  ttl: number | undefined;
  /** Statuses `ttl` applies to (proxy_cache_valid). */
  ttlStatuses: string;
  force: boolean;
  browserTtl: number | undefined;
  query: 'all' | 'ignore' | string[];
  ignoreCookies: boolean;
  slice: boolean;
}

/** Size of the slices of a `slice` rule: each is fetched with Range and cached on its own. */
export const SLICE_SIZE = '1m';

function ruleProfile(r: CacheRule, index: number): CacheProfile {
  const p: CacheProfile = {
    name: `r${index}`,
    ttl: r.ttl,
    ttlStatuses:
      r.match.statuses === undefined
        ? TTL_STATUSES
        : [...new Set(r.match.statuses)].sort((x, y) => x - y).join(' '),
    force: r.force === true,
    browserTtl: r.browser_ttl,
    query: r.key?.query ?? 'all',
    ignoreCookies: r.ignore_cookies === true,
    slice: r.slice === true,
  };
  const plain =
    !p.force && p.browserTtl === undefined && p.query === 'all' && !p.ignoreCookies && !p.slice;
  if (plain && p.ttl === undefined) p.name = 'cache';
  else if (plain && r.match.statuses === undefined) p.name = `ttl${p.ttl}`;
  return p;
}

function ttlProfile(ttl: number): CacheProfile {
  return {
    name: `ttl${ttl}`,
    ttl,
    ttlStatuses: TTL_STATUSES,
    force: false,
    browserTtl: undefined,
    query: 'all',
    ignoreCookies: false,
    slice: false,
  };
}

/** A bypass rule with response conditions: it only keeps answers out of the cache. */
function isResponseVeto(r: CacheRule): boolean {
  return r.action === 'bypass' && hasResponseConditions(r.match);
}

interface SiteNames {
  id: string;
  upstream: string;
  mod: string;
  rule: string;
  cache: string;
  bypass: string;
  resp: string;
  nostore: string;
  /** Lower-cased header name → its variable and the name as first written. */
  headers: Map<string, { variable: string; name: string }>;
  /** The profile of each cache rule (by spec position), undefined for bypass rules. */
  ruleProfiles: (CacheProfile | undefined)[];
  /** Profiles that need a named location: plain TTLs by TTL, then rule profiles. */
  located: CacheProfile[];
  /** Some rule matches on the response: `$resp` and `$nostore` are rendered. */
  responseRules: boolean;
  /** The geo variables of the site's inline client networks (issue 16, nginx-match.ts). */
  match: SiteMatchNames;
}

function profileSignature(p: CacheProfile): string {
  return JSON.stringify({ ...p, name: undefined });
}

/**
 * A site's names in nginx (upstream, volatile maps) come from its domain, not its position,
 * so a site's file is the same whichever sites its edge also serves.
 */
function siteId(domain: string): string {
  return `s${createHash('sha256').update(domain).digest('hex').slice(0, 12)}`;
}

function siteNames(site: PlannedSite): SiteNames {
  const id = siteId(site.domain);
  const headers = new Map<string, { variable: string; name: string }>();
  for (const m of site.modifiers) {
    if (m.action.type !== 'set_header') continue;
    const key = m.action.name.toLowerCase();
    if (!headers.has(key))
      headers.set(key, { variable: `outpost_h${headers.size}`, name: m.action.name });
  }
  const ttls = new Map<number, CacheProfile>();
  for (const m of site.modifiers)
    if (m.action.type === 'cache_ttl') ttls.set(m.action.ttl, ttlProfile(m.action.ttl));
  // Rules with the same settings share the first one's profile (and location).
  const bySignature = new Map<string, CacheProfile>();
  const ruleProfiles = site.cache.rules.map((r, i) => {
    if (r.action !== 'cache') return undefined;
    const p = ruleProfile(r, i + 1);
    if (p.name.startsWith('ttl') && p.ttl !== undefined) {
      const shared = ttls.get(p.ttl) ?? p;
      ttls.set(p.ttl, shared);
      return shared;
    }
    const sig = profileSignature(p);
    const shared = bySignature.get(sig) ?? p;
    bySignature.set(sig, shared);
    return shared;
  });
  const located = [
    ...[...ttls.values()].sort((a, b) => (a.ttl ?? 0) - (b.ttl ?? 0)),
    ...[...bySignature.values()].filter((p) => p.name !== 'cache'),
  ];
  return {
    id,
    upstream: `outpost_${id}`,
    mod: 'outpost_mod',
    rule: 'outpost_rule',
    cache: 'outpost_cache',
    bypass: 'outpost_bypass',
    resp: `outpost_${id}_resp`,
    nostore: `outpost_${id}_nostore`,
    headers,
    ruleProfiles,
    located,
    responseRules: site.cache.rules.some((r) => hasResponseConditions(r.match)),
    match: registerInlineNets(site, id),
  };
}

/** Names every inline client network list of the site's matchers, in a stable order. */
function registerInlineNets(site: PlannedSite, id: string): SiteMatchNames {
  const names = new SiteMatchNames(id);
  for (const m of plannedMatchers(site)) {
    const inline = m.client_ips?.filter((ip) => !ip.startsWith('@')) ?? [];
    if (inline.length > 0) names.inline(inline);
  }
  return names;
}

function describeRule(r: CacheRule, p: CacheProfile | undefined): string {
  const parts: string[] = [r.action];
  if (r.ttl !== undefined) parts.push(`ttl ${r.ttl}s${r.force === true ? ' forced' : ''}`);
  if (p !== undefined && p.browserTtl !== undefined) parts.push(`browser ttl ${p.browserTtl}s`);
  if (p !== undefined && p.query !== 'all')
    parts.push(p.query === 'ignore' ? 'key without query' : `key keeps query ${p.query.join(',')}`);
  if (p?.ignoreCookies === true) parts.push('ignores cookies');
  if (p?.slice === true) parts.push(`slices of ${SLICE_SIZE}`);
  if (p !== undefined && !['cache', `ttl${p.ttl}`].includes(p.name))
    parts.push(`profile ${p.name}`);
  if (isResponseVeto(r)) parts.push('keeps matching answers out of the cache');
  return `${parts.join(', ')}; ${describeMatcher(r.match)}`;
}

function renderSiteHttpLevel(c: Conf, site: PlannedSite, n: SiteNames): void {
  c.block(`upstream ${n.upstream}`, () => {
    for (const o of site.origins) {
      const params = [o.weight === 1 ? '' : ` weight=${o.weight}`, o.backup ? ' backup' : ''].join(
        '',
      );
      const note = o.hostKind === 'hostname' ? '  # hostname: resolved when nginx loads' : '';
      for (const h of o.hosts)
        c.line(`server ${nginxLiteral(hostPort(h, o.port))}${params};${note}`);
    }
    c.line('keepalive 32;');
  });
  renderInlineGeos(c, n.match);
  renderRateLimitZones(c, site);

  if (n.responseRules) {
    c.line('# The first rule matching the request and the answer, when the origin answers.');
    c.block(`map ${RESPONSE_SOURCE} $${n.resp}`, () => {
      c.line('volatile;');
      c.line('default 0;');
      site.cache.rules.forEach((r, i) => {
        c.line(`${nginxRegex(responseMatcherRegex(r.match))} ${i + 1};`);
      });
    });
    c.line("# Stored only when that is the request's own rule (or a cache_ttl modifier decided).");
    c.block(`map "$${n.mod}:$${n.resp}:$${n.rule}" $${n.nostore}`, () => {
      c.line('volatile;');
      c.line('default 1;');
      const ttlMods = site.modifiers.flatMap((m, i) =>
        m.action.type === 'cache_ttl' ? [String(i + 1)] : [],
      );
      if (ttlMods.length > 0) c.line(`"~^(?:${ttlMods.join('|')}):" 0;`);
      c.line(`${nginxRegex('^\\d+:(\\d+):\\1$')} 0;`);
    });
  }
}

/**
 * The request's modifier, cache rule and cache decision, set in the server block (the server
 * rewrite phase, once per request) into variables every site shares. Per-site `map`s made four
 * variables per site, and `nginx -t` grew quadratically with the variable count (10,000 sites:
 * 72 s; docs/benchmarks.md). First match wins: the regexes are tried last to first, so the
 * first matching one sets the value last.
 */
function renderSiteDecision(c: Conf, site: PlannedSite, n: SiteNames): void {
  c.line(`set $${REQUEST_VARIABLE} "$request_method:$uri";`);
  renderAccessDecision(c, site, n.match, matcherRegex);
  c.line(`set $${n.mod} 0;`);
  const mods = site.modifiers.map((m, i) => ({ m, i }));
  for (const { m, i } of mods) c.line(`# ${i + 1}: ${describeModifier(m)}`);
  for (const { m, i } of [...mods].reverse())
    renderMatch(c, m.match, matcherRegex(m.match), n.match, () =>
      c.line(`set $${n.mod} ${i + 1};`),
    );
  // The request chooses the rule; bypass rules with response conditions are left out here
  // (they act in $resp, when the origin answers).
  c.line(`set $${n.rule} 0;`);
  const rules = site.cache.rules.map((r, i) => ({ r, i }));
  for (const { r, i } of rules) c.line(`# rule ${i + 1}: ${describeRule(r, n.ruleProfiles[i])}`);
  for (const { r, i } of [...rules].reverse())
    if (!isResponseVeto(r))
      renderMatch(c, r.match, matcherRegex(r.match), n.match, () =>
        c.line(`set $${n.rule} ${i + 1};`),
      );
  // The cache decision: a bypass_cache/cache_ttl modifier (first match overall) decides,
  // otherwise the first matching cache rule; requests no rule matches are not cached.
  c.line(`set $${n.cache} bypass;`);
  for (const { r, i } of rules) {
    const profile = n.ruleProfiles[i]?.name ?? 'bypass';
    if (isResponseVeto(r) || profile === 'bypass') continue;
    c.block(`if ($${n.rule} = ${i + 1})`, () => c.line(`set $${n.cache} ${profile};`));
  }
  for (const { m, i } of mods) {
    const a = m.action;
    if (a.type === 'bypass_cache')
      c.block(`if ($${n.mod} = ${i + 1})`, () => c.line(`set $${n.cache} bypass;`));
    if (a.type === 'cache_ttl')
      c.block(`if ($${n.mod} = ${i + 1})`, () => c.line(`set $${n.cache} ttl${a.ttl};`));
  }
  c.line(`set $${n.bypass} 1;`);
  c.block(`if ($${n.cache} = cache)`, () => c.line(`set $${n.bypass} 0;`));
  for (const [key, h] of n.headers) {
    c.line(`set $${h.variable} "";`);
    for (const { m, i } of mods)
      if (m.action.type === 'set_header' && m.action.name.toLowerCase() === key) {
        const value = m.action.value;
        c.block(`if ($${n.mod} = ${i + 1})`, () =>
          c.line(`set $${h.variable} ${nginxString(value)};`),
        );
      }
  }
}

function renderHeaders(c: Conf): void {
  c.line(`add_header X-CDN-Node $${NODE_VARIABLE} always;`);
  c.line('add_header X-Cache-Status $outpost_cache_status always;');
  c.line(`add_header X-Outpost-Release $${RELEASE_VARIABLE} always;`);
}

function renderSiteHeaders(c: Conf, site: PlannedSite, n: SiteNames, https: boolean): void {
  renderHeaders(c);
  const hsts = site.https.hsts;
  if (https && hsts !== false) {
    const value = [
      `max-age=${hsts.maxAge}`,
      hsts.includeSubdomains ? 'includeSubDomains' : '',
      hsts.preload ? 'preload' : '',
    ]
      .filter((p) => p !== '')
      .join('; ');
    c.line(`add_header Strict-Transport-Security ${nginxString(value)} always;`);
  }
  for (const h of n.headers.values())
    c.line(`add_header ${nginxLiteral(h.name)} $${h.variable} always;`);
  renderRateLimitHeader(c, site);
}

/** Headers sent to the origin; a location that sets any must repeat them all (nginx). */
function renderProxyHeaders(c: Conf, site: PlannedSite): void {
  c.line('proxy_set_header Host $host;');
  // Upgrades (WebSocket) pass; every other request keeps the upstream connection alive.
  c.line('proxy_set_header Upgrade $http_upgrade;');
  c.line(`proxy_set_header Connection $${CONNECTION_VARIABLE};`);
  c.line('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  c.line('proxy_set_header X-Forwarded-Proto $scheme;');
  c.line('proxy_set_header X-Real-IP $remote_addr;');
  c.line(`proxy_set_header Forwarded "for=$${FORWARDED_FOR_VARIABLE};host=$host;proto=$scheme";`);
  // The edge compresses: an identity answer is one cache object for every client.
  if (site.cache.gzip || site.cache.brotli) c.line('proxy_set_header Accept-Encoding "";');
}

/** Types the edge compresses with `gzip: true` (text/html is always among them in nginx). */
export const GZIP_TYPES = [
  'text/css',
  'text/plain',
  'text/xml',
  'text/javascript',
  'application/javascript',
  'application/json',
  'application/manifest+json',
  'application/xml',
  'application/rss+xml',
  'application/atom+xml',
  'image/svg+xml',
];

function renderProxySettings(c: Conf, site: PlannedSite): void {
  c.line('proxy_http_version 1.1;');
  renderProxyHeaders(c, site);
  c.line('proxy_redirect off;');
  const t = site.timeouts;
  c.line(`proxy_connect_timeout ${t.connect}s;`);
  c.line(`proxy_read_timeout ${t.read}s;`);
  c.line(`proxy_send_timeout ${t.send}s;`);
  // Cached answers keep the origin's Date (nginx would send its own): Age counts from it.
  c.line('proxy_pass_header Date;');
  const up = site.upstream;
  if (up.protocol === 'https') {
    c.line('proxy_ssl_server_name on;');
    c.line(`proxy_ssl_name ${nginxString(up.tlsServerName)};`);
    c.line('proxy_ssl_protocols TLSv1.2 TLSv1.3;');
    c.line('proxy_ssl_session_reuse on;');
    if (up.verifyTls) {
      c.line('proxy_ssl_verify on;');
      c.line('proxy_ssl_verify_depth 4;');
      const trust = up.tlsCas.length > 0 ? `release/${trustPath(site.domain)}` : SYSTEM_TRUST_STORE;
      c.line(`proxy_ssl_trusted_certificate ${nginxLiteral(trust)};`);
    } else {
      c.line('proxy_ssl_verify off;  # verify_tls: false');
    }
  }
  c.line(`proxy_cache ${CACHE_ZONE};`);
  c.line(`proxy_cache_key ${DEFAULT_CACHE_KEY};`);
  c.line('proxy_cache_lock on;');
  c.line('proxy_cache_revalidate on;');
  // Ranges are served from a cached object even when the origin sends no Accept-Ranges (with
  // proxy_cache, nginx asks the origin for the whole object, without Range).
  c.line('proxy_force_ranges on;');
  const stale: string[] = [];
  if (site.cache.staleIfError) stale.push('error timeout http_500 http_502 http_503 http_504');
  if (site.cache.staleWhileUpdating) stale.push('updating');
  c.line(`proxy_cache_use_stale ${stale.length === 0 ? 'off' : stale.join(' ')};`);
  // A stale-while-revalidate answer is served stale while it is refreshed in the background
  // (without `updating` above, only within the window the origin gave).
  c.line('proxy_cache_background_update on;');
  c.line('proxy_cache_bypass $http_authorization;');
  c.line(`proxy_no_cache $http_authorization ${noStore(NO_STORE_VARIABLES)};`);
  if (site.cache.brotli) {
    c.line('brotli on;');
    c.line('brotli_comp_level 5;');
    c.line('brotli_min_length 256;');
    c.line(`brotli_types ${GZIP_TYPES.join(' ')};`);
    if (!site.cache.gzip) c.line('gzip_vary on;');
  }
  if (site.cache.gzip) {
    c.line('gzip on;');
    c.line('gzip_vary on;');
    c.line('gzip_proxied any;');
    c.line('gzip_min_length 256;');
    c.line(`gzip_types ${GZIP_TYPES.join(' ')};`);
  }
}

/** The key of objects cached with the default settings (purge parses it: cache-purge.ts). */
export const DEFAULT_CACHE_KEY = '$scheme$host$request_uri';

/**
 * The cache key of a profile: `$scheme$host` and the URI as requested, or the raw path and
 * ` q:` with the kept query parameters (`name=$arg_name`, joined by `&`), then ` r:` and the
 * slice's range for sliced objects. `$request_uri` never holds a space (nginx answers 400),
 * so the agent finds the URI before the first space.
 */
export function profileCacheKey(p: Pick<CacheProfile, 'query' | 'slice'>): string {
  let uri = '$request_uri';
  if (p.query === 'ignore') uri = '$outpost_path q:';
  else if (Array.isArray(p.query))
    uri = `$outpost_path q:${p.query.map((name) => `${name}=$arg_${name}`).join('&')}`;
  return `"$scheme$host${uri}${p.slice ? ' r:$slice_range' : ''}"`;
}

/** `$a $b …` of the no-store variables for a proxy_no_cache line. */
function noStore(vars: readonly string[]): string {
  return vars.map((v) => `$${v}`).join(' ');
}

function proxyPass(site: PlannedSite, n: SiteNames): string {
  return `proxy_pass ${site.upstream.protocol}://${n.upstream};`;
}

const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

function renderAcmeLocation(
  c: Conf,
  site: PlannedSite,
  n: SiteNames,
  opts: NginxSiteOptions,
  /** The server block has the site's WAF on. */
  waf: boolean,
): void {
  // Kept out of the HTTPS redirect for HTTP-01 challenges, never cached.
  c.block(`location ^~ ${ACME_CHALLENGE_PATH}`, () => {
    // A CA's challenge request is not inspected by the site's WAF.
    if (waf && site.waf !== null) c.line('modsecurity off;');
    if (opts.acmeChallengeUrl === undefined) {
      c.line('proxy_cache_bypass 1;');
      c.line('proxy_no_cache 1;');
      c.line(proxyPass(site, n));
      return;
    }
    // Answered by the control plane, whichever edge the CA reaches. A key authorization is
    // public by design, so the control plane's certificate is not verified here (it may be
    // private); the site's origin TLS settings inherited from the server are overridden.
    const url = new URL(opts.acmeChallengeUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new RenderError(`acmeChallengeUrl must be an http(s) URL, not ${url.protocol}`);
    // proxy_pass would expand a `$` as a variable (and then need a resolver): refuse it.
    if (url.href.includes('$')) throw new RenderError('acmeChallengeUrl must not contain "$"');
    const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
    c.line('proxy_cache off;');
    c.line(`proxy_set_header Host ${nginxLiteral(url.host)};`);
    c.line('proxy_set_header Connection "";');
    c.line('proxy_set_header X-Forwarded-Host $host;');
    c.line('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    if (url.protocol === 'https:') {
      c.line('proxy_ssl_server_name on;');
      c.line(`proxy_ssl_name ${nginxLiteral(url.hostname.replace(/^\[|\]$/g, ''))};`);
      c.line('proxy_ssl_verify off;');
    }
    c.line(`proxy_pass ${nginxLiteral(`${base}${ACME_CHALLENGE_PATH}`)};`);
  });
}

/** Edge-level variables (edge.conf): is the origin's answer private/no-store? */
export const CC_PRIVATE_VARIABLE = 'outpost_cc_private';
const PRIVATE_REGEX = '~*(?:^|[,\\s])(?:private|no-store)(?:[\\s,=]|$)';

function browserTtlVariable(ttl: number): string {
  return `outpost_browser_ttl_${ttl}`;
}

function renderProfileLocation(c: Conf, site: PlannedSite, n: SiteNames, p: CacheProfile): void {
  c.block(`location @${n.upstream}_${p.name}`, () => {
    if (site.cache.httpFilters) renderSiteFilters(c);
    if (p.slice) c.line(`slice ${SLICE_SIZE};`);
    if (p.query !== 'all' || p.slice) c.line(`proxy_cache_key ${profileCacheKey(p)};`);
    if (p.slice || p.ignoreCookies) {
      renderProxyHeaders(c, site);
      if (p.slice) c.line('proxy_set_header Range $slice_range;');
      // Static objects: the origin cannot tell visitors apart by their cookies, so its
      // Set-Cookie is no reason to keep the answer out of the cache, and nobody gets it.
      if (p.ignoreCookies) c.line('proxy_set_header Cookie "";');
    }
    const ignore = [
      ...(p.force ? ['Cache-Control', 'Expires'] : []),
      ...(p.ignoreCookies ? ['Set-Cookie'] : []),
    ];
    if (ignore.length > 0) c.line(`proxy_ignore_headers ${ignore.join(' ')};`);
    if (p.ignoreCookies) c.line('proxy_hide_header Set-Cookie;');
    if (p.ttl !== undefined) c.line(`proxy_cache_valid ${p.ttlStatuses} ${p.ttl}s;`);
    const noCache = [
      '$http_authorization',
      // Forced: nginx no longer reads Cache-Control, so private/no-store are checked here.
      ...(p.force ? [`$${CC_PRIVATE_VARIABLE}`] : []),
      ...(n.responseRules ? [`$${n.nostore}`] : []),
    ];
    if (noCache.length > 1 || p.force)
      c.line(
        `proxy_no_cache ${noCache.join(' ')} ${noStore(p.force ? FORCED_NO_STORE_VARIABLES : NO_STORE_VARIABLES)};`,
      );
    if (p.browserTtl !== undefined) c.line(`expires $${browserTtlVariable(p.browserTtl)};`);
    c.line(proxyPass(site, n));
  });
}

function renderSiteLocations(c: Conf, site: PlannedSite, n: SiteNames): void {
  c.block('location /', () => {
    if (site.cache.httpFilters) renderSiteFilters(c);
    renderAccessActions(c, site, n.upstream, redirectTarget);
    site.modifiers.forEach((m, i) => {
      const a = m.action;
      if (a.type === 'redirect')
        c.block(`if ($${n.mod} = ${i + 1})`, () =>
          c.line(`return ${a.status} ${redirectTarget(a.target)};`),
        );
      if (a.type === 'deny')
        c.block(`if ($${n.mod} = ${i + 1})`, () => c.line(`return ${a.status};`));
    });
    // Upgrades (WebSocket) are proxied uncached, with the long idle timeout.
    c.block('if ($http_upgrade)', () => {
      c.line(`error_page 418 = @${n.upstream}_upgrade;`);
      c.line('return 418;');
    });
    for (const p of n.located)
      c.block(`if ($${n.cache} = ${p.name})`, () => {
        c.line(`error_page 418 = @${n.upstream}_${p.name};`);
        c.line('return 418;');
      });
    c.line(`proxy_cache_bypass $${n.bypass} $http_authorization;`);
    const nostore = n.responseRules ? ` $${n.nostore}` : '';
    c.line(
      `proxy_no_cache $${n.bypass} $http_authorization${nostore} ${noStore(NO_STORE_VARIABLES)};`,
    );
    c.line(proxyPass(site, n));
  });
  c.block(`location @${n.upstream}_upgrade`, () => {
    c.line('proxy_cache off;');
    c.line(`proxy_read_timeout ${site.timeouts.upgraded}s;`);
    c.line(`proxy_send_timeout ${site.timeouts.upgraded}s;`);
    c.line(proxyPass(site, n));
  });
  for (const p of n.located) renderProfileLocation(c, site, n, p);
  renderAccessLocations(c, site, n.upstream);
}

function renderSiteServers(c: Conf, site: PlannedSite, n: SiteNames, opts: NginxSiteOptions): void {
  const hasCert = opts.certificate;
  const names = site.serverNames.map(nginxLiteral).join(' ');

  c.block('server', () => {
    c.line(`include ${nginxLiteral(`release/${LISTEN_HTTP_PATH}`)};`);
    c.line(`server_name ${names};`);
    renderSiteDecision(c, site, n);
    renderSiteHeaders(c, site, n, false);
    renderProxySettings(c, site);
    const redirectOnly = hasCert && site.https.redirectHttp;
    // The WAF where the site is served (not on a server that only redirects to HTTPS).
    if (site.waf !== null && !redirectOnly) renderSiteWaf(c, site.waf);
    renderAcmeLocation(c, site, n, opts, !redirectOnly);
    if (redirectOnly) {
      const port = opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`;
      c.block('location /', () => {
        renderAccessActions(c, site, n.upstream, redirectTarget);
        c.line(`return 301 "https://$host${port}$request_uri";`);
      });
      renderAccessLocations(c, site, n.upstream);
    } else {
      renderSiteLocations(c, site, n);
    }
    if (site.rawNginx !== null) c.raw(`site ${site.domain}`, site.rawNginx);
  });

  if (!hasCert) return;
  c.block('server', () => {
    c.line(`include ${nginxLiteral(`release/${LISTEN_HTTPS_PATH}`)};`);
    c.line(`server_name ${names};`);
    const cert = certificatePaths(site.domain);
    c.line(`ssl_certificate ${nginxLiteral(`release/${cert.certificate}`)};`);
    c.line(`ssl_certificate_key ${nginxLiteral(`release/${cert.key}`)};`);
    if (opts.staple) {
      c.line('# OCSP stapling from the response the control plane fetched (no resolver needed).');
      c.line('ssl_stapling on;');
      c.line(`ssl_stapling_file ${nginxLiteral(`release/${ocspStaplePath(site.domain)}`)};`);
    }
    renderSiteDecision(c, site, n);
    renderSiteHeaders(c, site, n, true);
    renderProxySettings(c, site);
    if (site.waf !== null) renderSiteWaf(c, site.waf);
    renderSiteLocations(c, site, n);
    if (site.rawNginx !== null) c.raw(`site ${site.domain}`, site.rawNginx);
  });
}

function renderEdgeConf(
  plan: EdgePlan,
  opts: RenderNginxOptions,
  anyHttps: boolean,
  needs: readonly NginxSiteNeeds[],
): string {
  const c = new Conf();
  c.line(
    `# Outpost edge ${nginxLiteral(plan.edge)}, release ${opts.release}. Generated: do not edit.`,
  );
  if (plan.paused) c.line('# This edge is paused: it serves no site.');
  c.line();
  c.line('# A literal "$" for strings (nginx has no escape for it).');
  c.block(`geo $${DOLLAR_VARIABLE}`, () => c.line('default "$";'));
  c.line('# The X-CDN-Node and X-Outpost-Release of every server (sites/ name no edge).');
  c.block(`geo $${NODE_VARIABLE}`, () => c.line(`default ${nginxString(plan.edge)};`));
  c.block(`geo $${RELEASE_VARIABLE}`, () =>
    c.line(`default ${nginxString(String(opts.release))};`),
  );
  c.line('# X-Cache-Status: the cache status; BYPASS when proxied without the cache; EDGE when');
  c.line('# the edge answered by itself (redirects, denies, unknown hosts).');
  c.block('map "$upstream_cache_status:$upstream_status" $outpost_cache_status', () => {
    c.line('default EDGE;');
    c.line('"~^([A-Z]+):" $1;');
    c.line('"~^:." BYPASS;');
  });
  c.line('# The raw path of the request (the {path} placeholder of redirect targets).');
  c.block('map $request_uri $outpost_path', () => {
    c.line('default "";');
    c.line('"~^(?<outpost_p>[^?]*)" $outpost_p;');
  });
  renderEdgeHttp(c, plan);
  renderEdgeTls(c);
  renderEdgeCacheMaps(c, needs);
  renderEdgeRateLimitMap(
    c,
    needs.some((n) => n.rateLimits),
  );
  // ---- issue 16 (country data on the edge): the geoip2 lookups, when a site needs them ----
  renderEdgeGeoip(
    c,
    opts.release,
    { country: needs.some((n) => n.geoip), asn: needs.some((n) => n.asn) },
    opts.geoip ?? { country: false, asn: undefined },
  );
  // ---- end country data ----
  c.line(
    `proxy_cache_path ${CACHE_DIR} levels=1:2 keys_zone=${CACHE_ZONE}:64m inactive=7d use_temp_path=off;`,
  );
  c.line();
  c.line('# Unknown hosts: 421 over HTTP (with the release headers, which the agent probes);');
  c.line('# the TLS handshake is refused for unknown names over HTTPS.');
  c.block('server', () => {
    for (const l of listenAddresses(plan, plan.listen.http)) c.line(`listen ${l} default_server;`);
    c.line('server_name "";');
    renderHeaders(c);
    c.line('# Connection counts for the agent on this machine (it reports active connections).');
    c.block(`location = ${STUB_STATUS_PATH}`, () => {
      c.line('stub_status;');
      c.line('access_log off;');
      c.line('allow 127.0.0.0/8;');
      c.line('allow ::1;');
      c.line('deny all;');
    });
    // ---- DNS health (issue 12): the edge's own health, answered here, never proxied. ----
    c.block(`location = ${EDGE_HEALTH_PATH}`, () => {
      c.line('access_log off;');
      c.line('default_type text/plain;');
      c.line(`return 200 ${nginxString(`${EDGE_HEALTH_MATCH} release ${opts.release}`)};`);
    });
    c.block('location /', () => c.line('return 421;'));
  });
  if (anyHttps)
    c.block('server', () => {
      for (const l of listenAddresses(plan, plan.listen.https))
        c.line(`listen ${l} ssl http2 default_server;`);
      c.line('server_name "";');
      c.line('ssl_reject_handshake on;');
      renderHeaders(c);
      c.line('return 421;');
    });
  if (plan.rawNginx !== null) {
    c.line();
    c.raw(`edge ${plan.edge}`, plan.rawNginx);
  }
  return c.toString();
}

/** Shared maps for forced TTLs and browser TTLs, rendered only when a site uses them. */
function renderEdgeCacheMaps(c: Conf, needs: readonly NginxSiteNeeds[]): void {
  if (needs.some((n) => n.force)) {
    c.line("# A forced TTL ignores Cache-Control: the origin's private/no-store still win.");
    c.block(`map $upstream_http_cache_control $${CC_PRIVATE_VARIABLE}`, () => {
      c.line('volatile;');
      c.line('default 0;');
      c.line(`${nginxLiteral(PRIVATE_REGEX)} 1;`);
    });
  }
  const browserTtls = [...new Set(needs.flatMap((n) => n.browserTtls))].sort((a, b) => a - b);
  if (browserTtls.length === 0) return;
  c.line('# Browser TTLs replace Cache-Control, except on private/no-store or Set-Cookie answers.');
  c.block('map $sent_http_cache_control $outpost_private_sent', () => {
    c.line('volatile;');
    c.line('default 0;');
    c.line(`${nginxLiteral(PRIVATE_REGEX)} 1;`);
  });
  c.block('map $sent_http_set_cookie $outpost_cookie_sent', () => {
    c.line('volatile;');
    c.line('default 1;');
    c.line('"" 0;');
  });
  for (const ttl of browserTtls)
    c.block(`map "$outpost_private_sent$outpost_cookie_sent" $${browserTtlVariable(ttl)}`, () => {
      c.line('default off;');
      c.line(`00 ${ttl};`);
    });
}

/** The options' domain lists as sets, made once per list (10,000 sites: no N² lookups). */
const domainSets = new WeakMap<readonly string[], Set<string>>();
function setOf(list: readonly string[]): Set<string> {
  let set = domainSets.get(list);
  if (set === undefined) {
    set = new Set(list);
    domainSets.set(list, set);
  }
  return set;
}

/**
 * The options `renderNginx` gives a site of `plan`, with what the site's text does not use left
 * neutral (the HTTPS port matters only to a redirect), so equal options mean equal files: the
 * bundle builder keys its kept renderings by them.
 */
export function nginxSiteOptions(
  plan: EdgePlan,
  opts: RenderNginxOptions,
  site: PlannedSite,
): NginxSiteOptions {
  const certificate = setOf(opts.certificates).has(site.domain);
  return {
    httpsPort: certificate && site.https.redirectHttp ? plan.listen.https : 443,
    certificate,
    staple: certificate && setOf(opts.staples ?? []).has(site.domain),
    ...(opts.acmeChallengeUrl !== undefined ? { acmeChallengeUrl: opts.acmeChallengeUrl } : {}),
  };
}

/** One site's files: `nginx/sites/<stem>.conf` and its origins' CA bundle, if any. */
export function renderNginxSite(site: PlannedSite, opts: NginxSiteOptions): NginxSiteRendering {
  const n = siteNames(site);
  const c = new Conf();
  c.line(`# ---- site ${nginxLiteral(site.domain)} (${n.id}). Generated: do not edit. ----`);
  renderSiteHttpLevel(c, site, n);
  renderSiteServers(c, site, n, opts);
  const files: RenderedFile[] = [{ path: sitePath(site.domain), content: c.toString() }];
  if (site.upstream.tlsCas.length > 0) {
    const pem = site.upstream.tlsCas.map((ca) => (ca.endsWith('\n') ? ca : `${ca}\n`)).join('');
    files.push({ path: trustPath(site.domain), content: pem });
  }
  const browserTtls = n.located.flatMap((p) => (p.browserTtl === undefined ? [] : [p.browserTtl]));
  const geo = plannedMatchers(site).map(geographyNeeds);
  return {
    files,
    needs: {
      brotli: site.cache.brotli,
      waf: site.waf !== null,
      force: n.located.some((p) => p.force),
      browserTtls,
      https: opts.certificate,
      rateLimits: site.rateLimits.length > 0,
      geoip: geo.some((g) => g.country),
      asn: geo.some((g) => g.asn),
    },
  };
}

/**
 * The edge's own files (edge.conf, modules, njs, listen lines, sites.conf), given what its
 * sites need (`renderNginxSite(...).needs`, one per site of the plan).
 */
export function renderNginxEdge(
  plan: EdgePlan,
  opts: RenderNginxOptions,
  needs: readonly NginxSiteNeeds[],
): RenderedFile[] {
  // From the sites' needs, not the plan's sites: the bundle builder renders this per edge and
  // hands one merged entry, so an edge's own files cost the same at 10 sites or 10,000.
  const anyHttps = needs.some((n) => n.https);
  const brotli = needs.some((n) => n.brotli);
  const waf = needs.some((n) => n.waf);
  const geoip = needs.some((n) => n.geoip || n.asn);
  const sites = new Conf();
  sites.line('# Every site of the edge, one file each. Generated: do not edit.');
  if (plan.sites.length === 0) sites.line('# (no sites)');
  else sites.line(`include ${nginxLiteral('release/nginx/sites/*.conf')};`);
  const listen = (port: number, suffix: string) =>
    `${listenAddresses(plan, port)
      .map((l) => `listen ${l}${suffix};`)
      .join('\n')}\n`;
  const lists = renderIpLists(plan);
  return [
    { path: 'nginx/edge.conf', content: renderEdgeConf(plan, opts, anyHttps, needs) },
    { path: MODULES_PATH, content: renderModulesConf(brotli, waf, geoip) },
    { path: NJS_PATH, content: njsSource(CACHE_DIR) },
    { path: LISTEN_HTTP_PATH, content: listen(plan.listen.http, '') },
    { path: LISTEN_HTTPS_PATH, content: listen(plan.listen.https, ' ssl http2') },
    { path: 'nginx/sites.conf', content: sites.toString() },
    ...(lists !== null ? [{ path: IP_LISTS_PATH, content: lists }] : []),
  ];
}

/** Renders the release files of one edge (see the layout contract at the top). */
export function renderNginx(plan: EdgePlan, opts: RenderNginxOptions): RenderedFile[] {
  const sites = plan.sites.map((site) => renderNginxSite(site, nginxSiteOptions(plan, opts, site)));
  return [
    ...renderNginxEdge(
      plan,
      opts,
      sites.map((s) => s.needs),
    ),
    ...sites.flatMap((s) => s.files),
  ];
}
