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
//       nginx/sites.conf           upstreams, maps and servers of every site
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
//   the origin sends no Cache-Control/Expires), or `bypass`. `ttlN` requests are handed to a
//   named location carrying `proxy_cache_valid`, the one setting nginx cannot take from a
//   variable.
import type { EdgePlan, PlannedModifier, PlannedSite } from '../compile/index.js';
import type { Matcher } from '../spec/index.js';
import {
  DOLLAR_VARIABLE,
  escapeRegex,
  globToRegex,
  nginxLiteral,
  nginxRegex,
  nginxString,
  RenderError,
} from './escape.js';

export interface RenderedFile {
  /** Relative to the release directory, e.g. `nginx/sites.conf`. */
  path: string;
  content: string;
}

export interface RenderNginxOptions {
  /** Monotonic release number, sent in `X-Outpost-Release`. */
  release: number;
  /** Site domains whose certificate files are in the release (`certs/<stem>.crt|.key`). */
  certificates: readonly string[];
  /**
   * The control plane's public URL. When set, every site's HTTP server proxies
   * `/.well-known/acme-challenge/` to it (it answers ACME HTTP-01 challenges); otherwise the
   * path is proxied to the site's origin.
   */
  acmeChallengeUrl?: string;
}

/** Where the default server answers nginx's connection counts, to loopback clients only. */
export const STUB_STATUS_PATH = '/.well-known/outpost/nginx-status';

/** The cache zone and its directory (relative to the prefix), one per edge. */
export const CACHE_ZONE = 'outpost';
export const CACHE_DIR = 'cache/outpost';
/** Used for HTTPS origins unless the site's origins set `tls_ca`. */
export const SYSTEM_TRUST_STORE = '/etc/ssl/certs/ca-certificates.crt';
/**
 * Response statuses a rule's `ttl` applies to when the origin sent no caching headers: the
 * heuristically cacheable successes and permanent redirects (RFC 9110 §15.1), not errors.
 */
export const TTL_STATUSES = '200 203 204 206 300 301 308';

/** File name stem of a site's certificate and trust files: `*.` becomes `_wildcard.`. */
export function certFileStem(domain: string): string {
  return domain.replace(/^\*\./, '_wildcard.');
}

/** Paths, relative to the release directory, of a site's certificate and key. */
export function certificatePaths(domain: string): { certificate: string; key: string } {
  const stem = certFileStem(domain);
  return { certificate: `certs/${stem}.crt`, key: `certs/${stem}.key` };
}

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

const RAW_MARK = '# UNCHECKED raw_nginx from the spec';

class Conf {
  private readonly out: string[] = [];
  private depth = 0;
  line(text = ''): this {
    this.out.push(text === '' ? '' : `${'    '.repeat(this.depth)}${text}`);
    return this;
  }
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }
  /** Inserts text verbatim (raw snippets), between markers. */
  raw(label: string, snippet: string): this {
    this.line(`${RAW_MARK} (${label}): begin`);
    for (const l of snippet.replace(/\n$/, '').split('\n')) this.out.push(l);
    return this.line(`${RAW_MARK} (${label}): end`);
  }
  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

function listenAddresses(plan: EdgePlan, port: number): string[] {
  if (plan.listen.addresses.length === 0) return [`${port}`, `[::]:${port}`];
  return plan.listen.addresses.map((a) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`));
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The PCRE matching "$request_method:$uri" for a matcher (lists OR-ed, fields AND-ed). */
export function matcherRegex(m: Matcher): string {
  const method = m.methods ? `(?:${m.methods.map(escapeRegex).join('|')})` : '[^:]*';
  let re = `(?s)^${method}:`;
  const paths = m.paths ? `(?:${m.paths.map(globToRegex).join('|')})` : undefined;
  const exts = m.extensions ? `.*\\.(?i:${m.extensions.map(escapeRegex).join('|')})$` : undefined;
  if (paths !== undefined && exts !== undefined) re += `(?=${paths}$)${exts}`;
  else if (paths !== undefined) re += `${paths}$`;
  else if (exts !== undefined) re += exts;
  return re;
}

function describeMatcher(m: Matcher): string {
  const parts: string[] = [];
  if (m.methods) parts.push(`methods ${m.methods.join(',')}`);
  if (m.paths) parts.push(`paths ${m.paths.join(',')}`);
  if (m.extensions) parts.push(`extensions ${m.extensions.join(',')}`);
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

interface SiteNames {
  id: string;
  upstream: string;
  mod: string;
  rule: string;
  cache: string;
  bypass: string;
  /** Lower-cased header name → its variable and the name as first written. */
  headers: Map<string, { variable: string; name: string }>;
  ttls: number[];
}

function siteNames(site: PlannedSite, index: number): SiteNames {
  const id = `s${index}`;
  const headers = new Map<string, { variable: string; name: string }>();
  for (const m of site.modifiers) {
    if (m.action.type !== 'set_header') continue;
    const key = m.action.name.toLowerCase();
    if (!headers.has(key))
      headers.set(key, { variable: `outpost_${id}_h${headers.size}`, name: m.action.name });
  }
  const ttls = new Set<number>();
  for (const m of site.modifiers) if (m.action.type === 'cache_ttl') ttls.add(m.action.ttl);
  for (const r of site.cache.rules)
    if (r.action === 'cache' && r.ttl !== undefined) ttls.add(r.ttl);
  return {
    id,
    upstream: `outpost_${id}`,
    mod: `outpost_${id}_mod`,
    rule: `outpost_${id}_rule`,
    cache: `outpost_${id}_cache`,
    bypass: `outpost_${id}_bypass`,
    headers,
    ttls: [...ttls].sort((a, b) => a - b),
  };
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

  c.block(`map "$request_method:$uri" $${n.mod}`, () => {
    c.line('default 0;');
    site.modifiers.forEach((m, i) => {
      c.line(`# ${i + 1}: ${describeModifier(m)}`);
      c.line(`${nginxRegex(matcherRegex(m.match))} ${i + 1};`);
    });
  });

  c.block(`map "$request_method:$uri" $${n.rule}`, () => {
    c.line('default 0;');
    site.cache.rules.forEach((r, i) => {
      const ttl = r.ttl === undefined ? '' : `, ttl ${r.ttl}s`;
      c.line(`# ${i + 1}: ${r.action}${ttl}; ${describeMatcher(r.match)}`);
      c.line(`${nginxRegex(matcherRegex(r.match))} ${i + 1};`);
    });
  });

  // The cache decision: a bypass_cache/cache_ttl modifier (first match overall) decides,
  // otherwise the first matching cache rule; requests no rule matches are not cached.
  c.block(`map "$${n.mod}:$${n.rule}" $${n.cache}`, () => {
    c.line('default bypass;');
    site.modifiers.forEach((m, i) => {
      if (m.action.type === 'bypass_cache') c.line(`"~^${i + 1}:" bypass;`);
      if (m.action.type === 'cache_ttl') c.line(`"~^${i + 1}:" ttl${m.action.ttl};`);
    });
    site.cache.rules.forEach((r, i) => {
      const value =
        r.action === 'bypass' ? 'bypass' : r.ttl === undefined ? 'cache' : `ttl${r.ttl}`;
      c.line(`"~:${i + 1}$" ${value};`);
    });
  });
  c.block(`map $${n.cache} $${n.bypass}`, () => {
    c.line('default 1;');
    c.line('cache 0;');
  });

  for (const [key, h] of n.headers) {
    c.block(`map $${n.mod} $${h.variable}`, () => {
      c.line('default "";');
      site.modifiers.forEach((m, i) => {
        if (m.action.type === 'set_header' && m.action.name.toLowerCase() === key)
          c.line(`${i + 1} ${nginxString(m.action.value)};`);
      });
    });
  }
}

function renderHeaders(c: Conf, plan: EdgePlan, opts: RenderNginxOptions): void {
  c.line(`add_header X-CDN-Node ${nginxString(plan.edge)} always;`);
  c.line('add_header X-Cache-Status $outpost_cache_status always;');
  c.line(`add_header X-Outpost-Release ${nginxString(String(opts.release))} always;`);
}

function renderSiteHeaders(
  c: Conf,
  plan: EdgePlan,
  site: PlannedSite,
  n: SiteNames,
  opts: RenderNginxOptions,
  https: boolean,
): void {
  renderHeaders(c, plan, opts);
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
}

function renderProxySettings(c: Conf, site: PlannedSite): void {
  c.line('proxy_http_version 1.1;');
  c.line('proxy_set_header Host $host;');
  c.line('proxy_set_header Connection "";');
  c.line('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  c.line('proxy_set_header X-Forwarded-Proto $scheme;');
  c.line('proxy_redirect off;');
  c.line('proxy_connect_timeout 5s;');
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
  c.line('proxy_cache_key $scheme$host$request_uri;');
  c.line('proxy_cache_lock on;');
  c.line('proxy_cache_revalidate on;');
  const stale: string[] = [];
  if (site.cache.staleIfError) stale.push('error timeout http_500 http_502 http_503 http_504');
  if (site.cache.staleWhileUpdating) stale.push('updating');
  c.line(`proxy_cache_use_stale ${stale.length === 0 ? 'off' : stale.join(' ')};`);
  if (site.cache.staleWhileUpdating) c.line('proxy_cache_background_update on;');
  c.line('proxy_cache_bypass $http_authorization;');
  c.line('proxy_no_cache $http_authorization;');
}

function proxyPass(site: PlannedSite, n: SiteNames): string {
  return `proxy_pass ${site.upstream.protocol}://${n.upstream};`;
}

const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

function renderAcmeLocation(
  c: Conf,
  site: PlannedSite,
  n: SiteNames,
  opts: RenderNginxOptions,
): void {
  // Kept out of the HTTPS redirect for HTTP-01 challenges, never cached.
  c.block(`location ^~ ${ACME_CHALLENGE_PATH}`, () => {
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

function renderSiteLocations(c: Conf, site: PlannedSite, n: SiteNames): void {
  c.block('location /', () => {
    site.modifiers.forEach((m, i) => {
      const a = m.action;
      if (a.type === 'redirect')
        c.block(`if ($${n.mod} = ${i + 1})`, () =>
          c.line(`return ${a.status} ${redirectTarget(a.target)};`),
        );
      if (a.type === 'deny')
        c.block(`if ($${n.mod} = ${i + 1})`, () => c.line(`return ${a.status};`));
    });
    for (const ttl of n.ttls)
      c.block(`if ($${n.cache} = ttl${ttl})`, () => {
        c.line(`error_page 418 = @${n.upstream}_ttl${ttl};`);
        c.line('return 418;');
      });
    c.line(`proxy_cache_bypass $${n.bypass} $http_authorization;`);
    c.line(`proxy_no_cache $${n.bypass} $http_authorization;`);
    c.line(proxyPass(site, n));
  });
  for (const ttl of n.ttls)
    c.block(`location @${n.upstream}_ttl${ttl}`, () => {
      c.line(`proxy_cache_valid ${TTL_STATUSES} ${ttl}s;`);
      c.line(proxyPass(site, n));
    });
}

function renderSiteServers(
  c: Conf,
  plan: EdgePlan,
  site: PlannedSite,
  n: SiteNames,
  opts: RenderNginxOptions,
): void {
  const hasCert = opts.certificates.includes(site.domain);
  const names = site.serverNames.map(nginxLiteral).join(' ');

  c.block('server', () => {
    for (const l of listenAddresses(plan, plan.listen.http)) c.line(`listen ${l};`);
    c.line(`server_name ${names};`);
    renderSiteHeaders(c, plan, site, n, opts, false);
    renderProxySettings(c, site);
    renderAcmeLocation(c, site, n, opts);
    if (hasCert && site.https.redirectHttp) {
      const port = plan.listen.https === 443 ? '' : `:${plan.listen.https}`;
      c.block('location /', () => c.line(`return 301 "https://$host${port}$request_uri";`));
    } else {
      renderSiteLocations(c, site, n);
    }
    if (site.rawNginx !== null) c.raw(`site ${site.domain}`, site.rawNginx);
  });

  if (!hasCert) return;
  c.block('server', () => {
    for (const l of listenAddresses(plan, plan.listen.https)) c.line(`listen ${l} ssl http2;`);
    c.line(`server_name ${names};`);
    const cert = certificatePaths(site.domain);
    c.line(`ssl_certificate ${nginxLiteral(`release/${cert.certificate}`)};`);
    c.line(`ssl_certificate_key ${nginxLiteral(`release/${cert.key}`)};`);
    renderSiteHeaders(c, plan, site, n, opts, true);
    renderProxySettings(c, site);
    renderSiteLocations(c, site, n);
    if (site.rawNginx !== null) c.raw(`site ${site.domain}`, site.rawNginx);
  });
}

function renderEdgeConf(plan: EdgePlan, opts: RenderNginxOptions, anyHttps: boolean): string {
  const c = new Conf();
  c.line(
    `# Outpost edge ${nginxLiteral(plan.edge)}, release ${opts.release}. Generated: do not edit.`,
  );
  if (plan.paused) c.line('# This edge is paused: it serves no site.');
  c.line();
  c.line('# A literal "$" for strings (nginx has no escape for it).');
  c.block(`geo $${DOLLAR_VARIABLE}`, () => c.line('default "$";'));
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
  c.line(
    `proxy_cache_path ${CACHE_DIR} levels=1:2 keys_zone=${CACHE_ZONE}:64m inactive=7d use_temp_path=off;`,
  );
  c.line();
  c.line('# Unknown hosts: 421 over HTTP (with the release headers, which the agent probes);');
  c.line('# the TLS handshake is refused for unknown names over HTTPS.');
  c.block('server', () => {
    for (const l of listenAddresses(plan, plan.listen.http)) c.line(`listen ${l} default_server;`);
    c.line('server_name "";');
    renderHeaders(c, plan, opts);
    c.line('# Connection counts for the agent on this machine (it reports active connections).');
    c.block(`location = ${STUB_STATUS_PATH}`, () => {
      c.line('stub_status;');
      c.line('access_log off;');
      c.line('allow 127.0.0.0/8;');
      c.line('allow ::1;');
      c.line('deny all;');
    });
    c.block('location /', () => c.line('return 421;'));
  });
  if (anyHttps)
    c.block('server', () => {
      for (const l of listenAddresses(plan, plan.listen.https))
        c.line(`listen ${l} ssl http2 default_server;`);
      c.line('server_name "";');
      c.line('ssl_reject_handshake on;');
      renderHeaders(c, plan, opts);
      c.line('return 421;');
    });
  if (plan.rawNginx !== null) {
    c.line();
    c.raw(`edge ${plan.edge}`, plan.rawNginx);
  }
  return c.toString();
}

/** Renders the release files of one edge (see the layout contract at the top). */
export function renderNginx(plan: EdgePlan, opts: RenderNginxOptions): RenderedFile[] {
  const anyHttps = plan.sites.some((s) => opts.certificates.includes(s.domain));
  const files: RenderedFile[] = [
    { path: 'nginx/edge.conf', content: renderEdgeConf(plan, opts, anyHttps) },
  ];

  const c = new Conf();
  c.line(
    `# Sites of edge ${nginxLiteral(plan.edge)}, release ${opts.release}. Generated: do not edit.`,
  );
  if (plan.sites.length === 0) c.line('# (no sites)');
  plan.sites.forEach((site, i) => {
    const n = siteNames(site, i);
    c.line();
    c.line(`# ---- site ${nginxLiteral(site.domain)} (${n.id}) ----`);
    renderSiteHttpLevel(c, site, n);
    renderSiteServers(c, plan, site, n, opts);
  });
  files.push({ path: 'nginx/sites.conf', content: c.toString() });

  for (const site of plan.sites) {
    if (site.upstream.tlsCas.length === 0) continue;
    const pem = site.upstream.tlsCas.map((ca) => (ca.endsWith('\n') ? ca : `${ca}\n`)).join('');
    files.push({ path: trustPath(site.domain), content: pem });
  }
  return files;
}

export interface RenderNginxMainOptions {
  edgeName: string;
  /** Defaults to `auto` (one per CPU). */
  workerProcesses?: number;
  /**
   * Worker user when the master runs as root (nginx's default is `nobody`); the prefix, cache
   * and temp directories must be reachable by it.
   */
  user?: string;
}

/**
 * The main nginx.conf the agent writes into live/ and candidate/. It includes the release
 * through the `release` symlink next to it.
 */
export function renderNginxMain(opts: RenderNginxMainOptions): string {
  const c = new Conf();
  c.line(
    `# Outpost edge ${nginxLiteral(opts.edgeName)}: main configuration, written by the agent.`,
  );
  c.line("# Paths: include/ssl files relative to this file's directory; the rest to the prefix.");
  if (opts.user !== undefined) c.line(`user ${nginxLiteral(opts.user)};`);
  c.line(`worker_processes ${opts.workerProcesses ?? 'auto'};`);
  c.line('pid logs/nginx.pid;');
  c.line('error_log logs/error.log;');
  c.block('events', () => c.line('worker_connections 4096;'));
  c.block('http', () => {
    c.line('include /etc/nginx/mime.types;');
    c.line('default_type application/octet-stream;');
    c.line('server_tokens off;');
    c.line('keepalive_timeout 65s;');
    c.line('client_body_temp_path tmp/client_body;');
    c.line('proxy_temp_path tmp/proxy;');
    c.line('fastcgi_temp_path tmp/fastcgi;');
    c.line('uwsgi_temp_path tmp/uwsgi;');
    c.line('scgi_temp_path tmp/scgi;');
    c.line('server_names_hash_bucket_size 256;');
    c.line('server_names_hash_max_size 4096;');
    c.line('variables_hash_bucket_size 128;');
    c.line('variables_hash_max_size 8192;');
    c.line('ssl_protocols TLSv1.2 TLSv1.3;');
    c.line('ssl_session_cache shared:outpost_ssl:10m;');
    c.line('ssl_session_timeout 1h;');
    c.line('log_format outpost_json escape=json');
    c.line(
      `    '{"time":"$time_iso8601","site":"$server_name","host":"$host","remote":"$remote_addr",'`,
    );
    c.line(`    '"method":"$request_method","uri":"$request_uri","status":$status,'`);
    c.line(`    '"bytes":$body_bytes_sent,"cache":"$outpost_cache_status",'`);
    c.line(
      `    '"request_time":$request_time,"upstream_time":"$upstream_response_time","upstream":"$upstream_addr"}';`,
    );
    c.line('access_log logs/access.json outpost_json;');
    c.line('include release/nginx/*.conf;');
  });
  return c.toString();
}
