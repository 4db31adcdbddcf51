// EdgePlan → Caddyfile (Caddy 2.6 or newer). Pure: same plan and options, same bytes.
//
// Layout (shared with the agent; docs/proxies.md):
//
//   <release>/caddy/Caddyfile        for a Caddy without the cache module: proxies uncached
//   <release>/caddy/Caddyfile.cache  the same plus `cache` directives (http.handlers.cache)
//   <release>/trust/<stem>.pem       CA bundle of a site whose origins set `tls_ca`
//   <release>/certs/<stem>.crt|.key  NOT rendered: added by the bundle for `certificates`
//
// File paths are written `{$OUTPOST_RELEASE}/…`: the agent adapts the Caddyfile to JSON
// (`caddy adapt`) with OUTPOST_RELEASE set to the release directory, so the JSON it loads names
// the immutable release's files. Everything edge-local (admin socket, storage) is added to the
// JSON by the agent.
//
// What Caddy does with each request of a site (mirroring nginx.ts where Caddy can):
// - `header` at the top of each site block sets X-CDN-Node, X-Outpost-Release and
//   X-Cache-Status (BYPASS) on every response, errors included; answers the edge gives by itself
//   (modifier redirects and denies, HTTP→HTTPS redirects, unknown hosts) say EDGE.
// - One `route` per site: each modifier is a `handle` with a named matcher, in precedence order,
//   and every branch ends in a terminal handler (respond, redir, reverse_proxy): the first
//   matching modifier is the only one that applies, as with nginx's map.
// - Without the cache module the cache rules change nothing: every request is proxied. With it,
//   the first matching rule decides (`cache` or not), requests with Authorization never use it.
// - Catch-all blocks answer unknown hosts with 421 (plain HTTP); over HTTPS, Caddy refuses the
//   handshake for a name it has no certificate for.
import type {
  EdgePlan,
  PlannedAccess,
  PlannedAccessRule,
  PlannedModifier,
  PlannedOrigin,
  PlannedSite,
} from '../compile/index.js';
import {
  EDGE_HEALTH_MATCH,
  EDGE_HEALTH_PATH,
  type CacheRule,
  type Matcher,
} from '../spec/index.js';
import { RenderError } from './escape.js';
import {
  caddyNamedMatcher,
  describeCaddyMatcher,
  type CaddyWriter,
  type MatchContext,
} from './caddy-match.js';
import { certificatePaths, trustPath, type RenderedFile } from './nginx.js';
import {
  CADDY_CACHE_MODULE,
  CADDY_RELEASE_VARIABLE,
  CADDYFILE_CACHE,
  caddyfilePath,
} from '../bundle/layout.js';

// Moved to bundle/layout.ts (shared with proxy-check and the agent); re-exported for callers.
export {
  CADDY_CACHE_MODULE,
  CADDY_RELEASE_VARIABLE,
  CADDYFILE,
  CADDYFILE_CACHE,
  caddyfilePath,
} from '../bundle/layout.js';

export interface RenderCaddyOptions {
  /** Monotonic release number, sent in `X-Outpost-Release`. */
  release: number;
  /** Site domains whose certificate files are in the release (`certs/<stem>.crt|.key`). */
  certificates: readonly string[];
  /**
   * The edge's Caddy has the cache-handler module (`http.handlers.cache`): cache rules and
   * `cache_ttl` modifiers become `cache` directives. Without it the edge proxies uncached.
   */
  cache: boolean;
  /**
   * The control plane's public URL. When set, every site's HTTP server proxies
   * `/.well-known/acme-challenge/` to it (it answers ACME HTTP-01 challenges), as on nginx.
   */
  acmeChallengeUrl?: string;
}

/** How long a cached object may be served stale when the origin fails (`stale_if_error`). */
const STALE_IF_ERROR = '168h';

function refuseControl(value: string, what: string): void {
  const bad = /[\0-\x1f\x7f]/.exec(value);
  if (bad !== null)
    throw new RenderError(
      `${what} contains a control character (0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')})`,
    );
}

/**
 * A double-quoted Caddyfile token for a value from the spec. Caddy expands `{placeholders}`
 * (and `{$ENV}` when adapting) in most values, and a backslash before the closing quote would
 * escape it: the spec already rejects `{`, `}` and `\` where a value reaches a renderer, and
 * here they are refused again.
 */
export function caddyString(value: string): string {
  refuseControl(value, 'a value');
  const bad = /[{}\\]/.exec(value);
  if (bad !== null) throw new RenderError(`a value contains "${bad[0]}", which Caddy would expand`);
  return `"${value.replace(/"/g, '\\"')}"`;
}

/** A host or address in a site address, `bind` or upstream: only the characters they can have. */
function caddyHost(value: string): string {
  if (!/^[A-Za-z0-9*.:[\]-]+$/.test(value))
    throw new RenderError(`"${value}" cannot be written in a Caddy address`);
  return value;
}

/** A CIDR range from the spec (already validated): digits, hex, `.`, `:` and `/` only. */
function caddyCidr(value: string): string {
  if (!/^[0-9A-Fa-f.:/]+$/.test(value))
    throw new RenderError(`"${value}" cannot be written as a Caddy IP range`);
  return value;
}

function hostPort(host: string, port: number): string {
  const h = caddyHost(host);
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

/** Placeholders of a redirect target and the Caddy placeholders they become. */
const PLACEHOLDERS: Record<string, string> = {
  uri: '{uri}',
  // Caddy has the decoded path only: %XX sequences reach the target decoded (nginx: raw).
  path: '{path}',
  args: '{query}',
  host: '{host}',
  scheme: '{scheme}',
};

function redirectTarget(template: string): string {
  let out = '';
  for (const part of template.split(/(\{[a-z]+\})/)) {
    const ph = /^\{([a-z]+)\}$/.exec(part);
    const placeholder = ph ? PLACEHOLDERS[ph[1] ?? ''] : undefined;
    if (placeholder !== undefined) out += placeholder;
    else out += caddyString(part).slice(1, -1);
  }
  return `"${out}"`;
}

class Caddyfile implements CaddyWriter {
  private readonly out: string[] = [];
  private depth = 0;
  line(text = ''): this {
    this.out.push(text === '' ? '' : `${'\t'.repeat(this.depth)}${text}`);
    return this;
  }
  block(head: string, body: () => void): this {
    this.line(head === '' ? '{' : `${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }
  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

function comment(text: string): string {
  return `# ${text.replace(/[\r\n]/g, ' ')}`;
}

function describeModifier(m: PlannedModifier): string {
  const where = m.selector === null ? 'site' : `${m.level} ${m.selector}`;
  const name = m.name === null ? '' : ` ${m.name}`;
  return `modifier${name} (${where}, spec #${m.index}): ${m.action.type}; ${describeCaddyMatcher(m.match)}`;
}

/** `handle @name { … }`, or a plain `handle { … }` for a matcher that matches everything. */
function handleFor(
  c: Caddyfile,
  name: string,
  m: Matcher,
  ctx: MatchContext,
  body: () => void,
): void {
  const matched = caddyNamedMatcher(c, name, m, ctx);
  c.block(matched ? `handle @${name}` : 'handle', body);
}

interface SiteNames {
  id: string;
  proxy: string;
  serve: string;
  route: string;
  access: string;
  /** What the site's matchers need from the edge (named lists, trusted proxies). */
  match: MatchContext;
}

function siteNames(index: number, match: MatchContext): SiteNames {
  const id = `s${index}`;
  return {
    id,
    proxy: `${id}_proxy`,
    serve: `${id}_serve`,
    route: `${id}_route`,
    access: `${id}_access`,
    match,
  };
}

function upstreams(origins: PlannedOrigin[]): string[] {
  const ordered = [...origins.filter((o) => !o.backup), ...origins.filter((o) => o.backup)];
  return ordered.flatMap((o) => o.hosts.map((h) => `${o.protocol}://${hostPort(h, o.port)}`));
}

function renderProxySnippet(
  c: Caddyfile,
  site: PlannedSite,
  n: SiteNames,
  realIpFrom: readonly string[],
): void {
  const list = upstreams(site.origins);
  const backups = site.origins.some((o) => o.backup);
  const weighted = site.origins.some((o) => o.weight !== 1);
  c.block(`(${n.proxy})`, () => {
    c.block(`reverse_proxy ${list.join(' ')}`, () => {
      if (list.length > 1) {
        if (backups) {
          c.line('# Backups: primaries first, then backups; the first available one is used.');
          c.line('lb_policy first');
        } else {
          c.line('lb_policy round_robin');
        }
        if (weighted) c.line('# Origin weights are not applied: Caddy 2.6 has no weighted policy.');
        c.line('lb_try_duration 5s');
        c.line('fail_duration 10s');
      }
      // The client's address to the origin (Caddy sets X-Forwarded-For/-Proto/-Host itself).
      c.line('header_up X-Real-IP {remote_host}');
      // One Server header: Caddy's own, not the origin's beside it.
      c.line('header_down -Server');
      if (realIpFrom.length > 0) c.line(`trusted_proxies ${realIpFrom.map(caddyCidr).join(' ')}`);
      const up = site.upstream;
      c.block('transport http', () => {
        c.line(`dial_timeout ${site.timeouts.connect}s`);
        c.line(`response_header_timeout ${site.timeouts.read}s`);
        if (up.protocol !== 'https') return;
        c.line(`tls_server_name ${caddyString(up.tlsServerName)}`);
        if (!up.verifyTls) c.line('tls_insecure_skip_verify  # verify_tls: false');
        else if (up.tlsCas.length > 0)
          c.line(`tls_trusted_ca_certs {$${CADDY_RELEASE_VARIABLE}}/${trustPath(site.domain)}`);
      });
    });
  });
}

/**
 * Proxies through the cache: the origin's headers decide, or `ttl` when it sends none (the
 * module's `default_cache_control`). Requests with Authorization are proxied uncached.
 */
function renderCachedProxy(
  c: Caddyfile,
  site: PlannedSite,
  n: SiteNames,
  ttl: number | undefined,
): void {
  c.block('route', () => {
    c.line('@auth header Authorization *');
    c.block('handle @auth', () => c.line(`import ${n.proxy}`));
    c.block('handle', () => {
      c.line('header X-Cache-Status "CACHE"');
      c.block('cache', () => {
        if (ttl === undefined) {
          c.line('default_cache_control no-store');
        } else {
          c.line(`ttl ${ttl}s`);
          c.line(`default_cache_control "public, max-age=${ttl}"`);
        }
        if (site.cache.staleIfError) c.line(`stale ${STALE_IF_ERROR}`);
      });
      c.line(`import ${n.proxy}`);
    });
  });
}

/** With the cache module: the first matching cache rule decides; no rule, no cache. */
function renderServeSnippet(c: Caddyfile, site: PlannedSite, n: SiteNames): void {
  c.block(`(${n.serve})`, () => {
    c.block('route', () => {
      site.cache.rules.forEach((r: CacheRule, i) => {
        const ttl = r.ttl === undefined ? '' : `, ttl ${r.ttl}s`;
        c.line(comment(`cache rule ${i + 1}: ${r.action}${ttl}; ${describeCaddyMatcher(r.match)}`));
        handleFor(c, `rule${i + 1}`, r.match, n.match, () => {
          if (r.action === 'cache') renderCachedProxy(c, site, n, r.ttl);
          else c.line(`import ${n.proxy}`);
        });
      });
      c.line('# No rule matches: proxied uncached.');
      c.block('handle', () => c.line(`import ${n.proxy}`));
    });
  });
}

/** The variable the access rules set: the first matching rule (1-based), 0 for none. */
const ACCESS_VARIABLE = 'outpost_access';
const ACME_PATH = '/.well-known/acme-challenge/*';

/**
 * A deny answer's body as a Caddyfile token that Caddy 2.6.2 serves byte for byte (measured for
 * bodies with braces, backslashes and placeholders). `respond` expands placeholders (`\{` is a
 * literal `{`), and the token is in a snippet, whose `import` unescapes `\{` once more: each
 * brace gets two backslashes; both passes skip a text without `{`, which is then left as it
 * is. Then a backquoted token (no escapes at all), or a double-quoted one when the body has a
 * backquote. A token that is exactly `}` ends a snippet even quoted (Caddy 2.6.2): refused.
 */
export function caddyBody(body: string): string {
  const bad = /[\0-\x08\x0b-\x1f\x7f]/.exec(body);
  if (bad !== null)
    throw new RenderError(
      `a body contains a control character (0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')})`,
    );
  if (body.includes('{$'))
    throw new RenderError(
      'a body contains "{$", which Caddy would read as an environment variable',
    );
  if (body === '}') throw new RenderError('a body of only "}" ends a Caddyfile snippet');
  const text = body.includes('{') ? body.replace(/[{}]/g, (ch) => `\\\\${ch}`) : body;
  if (!text.includes('`')) return `\`${text}\``;
  if (/\\(?="|$)/.test(text))
    throw new RenderError(
      'a body with a backquote cannot have a backslash before a quote or at its end',
    );
  return `"${text.replace(/"/g, '\\"')}"`;
}

function describeAccessRule(r: PlannedAccessRule): string {
  const where = r.selector === null ? 'site' : `${r.level} ${r.selector}`;
  const name = r.name === null ? '' : ` ${r.name}`;
  const what = r.action === 'allow' ? 'allow' : `${r.action} ${r.status}`;
  return `access${name} (${where}, spec #${r.index}): ${what}; ${describeCaddyMatcher(r.match)}`;
}

/**
 * `(sN_access)`: the site's access rules, imported first inside a `route` (its directives run
 * in the order written). Each rule's matcher sets `outpost_access` to its number, last rule
 * first, so the first rule that matches has the last word; then a deny answers its status (444
 * closes the connection, as on nginx), a redirect redirects, an allow (or no rule, under
 * `default: allow`) falls through to the modifiers. The ACME challenge path is exempt.
 */
function renderAccessSnippet(c: Caddyfile, access: PlannedAccess, n: SiteNames): void {
  c.block(`(${n.access})`, () => {
    c.line(
      '# Access rules: the first matching rule decides (tried last to first: it is set last).',
    );
    c.line(`vars ${ACCESS_VARIABLE} 0`);
    [...access.rules].reverse().forEach((r, k) => {
      const i = access.rules.length - k;
      c.line(comment(`${i}: ${describeAccessRule(r)}`));
      const matched = caddyNamedMatcher(c, `access${i}`, r.match, n.match);
      c.line(`vars${matched ? ` @access${i}` : ''} ${ACCESS_VARIABLE} ${i}`);
    });
    const act = (i: number, name: string, action: () => void) => {
      c.block(`@${name}`, () => {
        c.line(`vars ${ACCESS_VARIABLE} ${i}`);
        c.line(`not path ${ACME_PATH}`);
      });
      action();
    };
    const deny = (name: string, status: number) => {
      if (status === 444) {
        c.line(`abort @${name}`);
        return;
      }
      c.line(`header @${name} X-Cache-Status "EDGE"`);
      if (access.body === null) c.line(`respond @${name} ${status}`);
      else
        c.block(`respond @${name} ${status}`, () => c.line(`body ${caddyBody(access.body ?? '')}`));
    };
    access.rules.forEach((r, k) => {
      const name = `access${k + 1}_do`;
      if (r.action === 'deny') act(k + 1, name, () => deny(name, r.status));
      else if (r.action === 'redirect')
        act(k + 1, name, () => {
          c.line(`header @${name} X-Cache-Status "EDGE"`);
          c.line(`redir @${name} ${redirectTarget(r.target ?? '/')} ${r.status}`);
        });
    });
    if (access.default === 'deny') {
      c.line('# No rule matched: default deny.');
      act(0, 'access_default', () => deny('access_default', access.status));
    }
  });
}

function renderRouteSnippet(
  c: Caddyfile,
  site: PlannedSite,
  n: SiteNames,
  opts: RenderCaddyOptions,
): void {
  const serve = opts.cache ? n.serve : n.proxy;
  c.block(`(${n.route})`, () => {
    c.block('route', () => {
      if (site.access !== null) c.line(`import ${n.access}`);
      site.modifiers.forEach((m, i) => {
        const a = m.action;
        c.line(comment(`${i + 1}: ${describeModifier(m)}`));
        handleFor(c, `mod${i + 1}`, m.match, n.match, () => {
          switch (a.type) {
            case 'redirect':
              c.line('header X-Cache-Status "EDGE"');
              c.line(`redir ${redirectTarget(a.target)} ${a.status}`);
              break;
            case 'deny':
              c.line('header X-Cache-Status "EDGE"');
              c.line(`respond ${a.status}`);
              break;
            case 'set_header':
              if (a.value !== '')
                c.line(`header +${caddyString(a.name).slice(1, -1)} ${caddyString(a.value)}`);
              c.line(`import ${serve}`);
              break;
            case 'bypass_cache':
              c.line(`import ${n.proxy}`);
              break;
            case 'cache_ttl':
              if (opts.cache) renderCachedProxy(c, site, n, a.ttl);
              else c.line(`import ${n.proxy}`);
              break;
          }
        });
      });
      c.block('handle', () => c.line(`import ${serve}`));
    });
  });
}

function renderBind(c: Caddyfile, plan: EdgePlan): void {
  // A site address does not limit where Caddy listens: always bind the edge's addresses.
  if (plan.listen.addresses.length > 0)
    c.line(`bind ${plan.listen.addresses.map(caddyHost).join(' ')}`);
}

function renderHeaders(
  c: Caddyfile,
  plan: EdgePlan,
  opts: RenderCaddyOptions,
  cacheStatus: 'BYPASS' | 'EDGE',
  extra: [string, string][] = [],
): void {
  c.block('header', () => {
    c.line(`X-CDN-Node ${caddyString(plan.edge)}`);
    c.line(`X-Cache-Status "${cacheStatus}"`);
    c.line(`X-Outpost-Release "${opts.release}"`);
    for (const [name, value] of extra) c.line(`${name} ${caddyString(value)}`);
  });
}

function hstsValue(site: PlannedSite): string | undefined {
  const hsts = site.https.hsts;
  if (hsts === false) return undefined;
  return [
    `max-age=${hsts.maxAge}`,
    hsts.includeSubdomains ? 'includeSubDomains' : '',
    hsts.preload ? 'preload' : '',
  ]
    .filter((p) => p !== '')
    .join('; ');
}

function renderSiteBlocks(
  c: Caddyfile,
  plan: EdgePlan,
  site: PlannedSite,
  n: SiteNames,
  opts: RenderCaddyOptions,
): void {
  const hasCert = opts.certificates.includes(site.domain);
  const addresses = (scheme: string, port: number) =>
    site.serverNames.map((name) => `${scheme}://${caddyHost(name)}:${port}`).join(', ');
  const rawNote = () => {
    if (site.rawNginx !== null)
      c.line('# This site has raw_nginx: nginx directives, not applied on a Caddy edge.');
  };

  c.block(addresses('http', plan.listen.http), () => {
    renderBind(c, plan);
    rawNote();
    if (hasCert && site.https.redirectHttp) {
      renderHeaders(c, plan, opts, 'EDGE');
      const port = plan.listen.https === 443 ? '' : `:${plan.listen.https}`;
      c.block('route', () => {
        if (site.access !== null) c.line(`import ${n.access}`);
        c.line('# HTTP-01 challenges are kept out of the redirect and proxied uncached.');
        renderAcmeHandle(c, n, opts);
        c.block('handle', () => c.line(`redir "https://{host}${port}{uri}" 301`));
      });
    } else {
      renderHeaders(c, plan, opts, 'BYPASS');
      if (opts.acmeChallengeUrl === undefined) c.line(`import ${n.route}`);
      else
        c.block('route', () => {
          renderAcmeHandle(c, n, opts);
          c.block('handle', () => c.line(`import ${n.route}`));
        });
    }
  });

  if (!hasCert) return;
  c.line();
  c.block(addresses('https', plan.listen.https), () => {
    renderBind(c, plan);
    rawNote();
    const cert = certificatePaths(site.domain);
    const release = `{$${CADDY_RELEASE_VARIABLE}}`;
    c.line(`tls ${release}/${cert.certificate} ${release}/${cert.key}`);
    const hsts = hstsValue(site);
    renderHeaders(
      c,
      plan,
      opts,
      'BYPASS',
      hsts === undefined ? [] : [['Strict-Transport-Security', hsts]],
    );
    c.line(`import ${n.route}`);
  });
}

function renderCaddyfile(plan: EdgePlan, opts: RenderCaddyOptions): string {
  if (plan.rawNginx !== null)
    throw new RenderError(
      `edge "${plan.edge}" has raw_nginx, which is nginx configuration: a Caddy edge cannot apply it (remove it, or use proxy: nginx)`,
    );
  // Validation refuses these for Caddy edges (spec/edge-capabilities.ts); a plan that skipped
  // it must not be served without the protection it asks for.
  const waf = plan.sites.find((s) => s.waf !== null);
  if (waf !== undefined)
    throw new RenderError(
      `site "${waf.domain}" has the WAF on, which a Caddy edge cannot run (OWASP CRS on ModSecurity is nginx only)`,
    );
  const limited = plan.sites.find((s) => s.rateLimits.length > 0);
  if (limited !== undefined)
    throw new RenderError(
      `site "${limited.domain}" has rate limits, which Caddy 2.6 cannot apply (it has no rate limiter)`,
    );
  const match: MatchContext = {
    ipLists: new Map(plan.ipLists.map((l) => [l.name, l.networks])),
    realIpFrom: plan.realIpFrom,
  };
  const c = new Caddyfile();
  c.line(comment(`Outpost edge "${plan.edge}", release ${opts.release}. Generated: do not edit.`));
  c.line(
    opts.cache
      ? `# Cache: ${CADDY_CACHE_MODULE} (cache rules and cache_ttl modifiers use \`cache\`).`
      : `# Cache: none. This Caddy has no ${CADDY_CACHE_MODULE}: every request is proxied uncached.`,
  );
  c.line(
    `# {$${CADDY_RELEASE_VARIABLE}} is the release directory, set by the agent when it adapts.`,
  );
  if (plan.paused) c.line('# This edge is paused: it serves no site.');
  c.block('', () => {
    c.line('# Certificates come with the release: Caddy must not get any by itself.');
    c.line('auto_https off');
    c.block('servers', () => {
      c.line(
        '# HTTP/3 (QUIC on the HTTPS port, UDP) besides HTTP/1.1 and HTTP/2, announced in Alt-Svc.',
      );
      c.line('protocols h1 h2 h3');
      c.line('metrics');
    });
  });

  plan.sites.forEach((site, i) => {
    const n = siteNames(i, match);
    c.line();
    c.line(comment(`---- site "${site.domain}" (${n.id}) ----`));
    renderProxySnippet(c, site, n, plan.realIpFrom);
    if (opts.cache) renderServeSnippet(c, site, n);
    try {
      if (site.access !== null) renderAccessSnippet(c, site.access, n);
      renderRouteSnippet(c, site, n, opts);
    } catch (e) {
      if (e instanceof RenderError) throw new RenderError(`site "${site.domain}": ${e.message}`);
      throw e;
    }
    renderSiteBlocks(c, plan, site, n, opts);
  });

  c.line();
  c.line('# Unknown hosts: 421 with the release headers (the agent probes this).');
  c.block(`http://:${plan.listen.http}`, () => {
    renderBind(c, plan);
    renderHeaders(c, plan, opts, 'EDGE');
    // DNS health (issue 12): the edge's own health, answered here, never proxied.
    c.line(
      `respond ${EDGE_HEALTH_PATH} ${caddyString(`${EDGE_HEALTH_MATCH} release ${opts.release}`)} 200`,
    );
    c.line('respond 421');
  });
  if (plan.sites.some((site) => opts.certificates.includes(site.domain))) {
    // A served SNI name with another Host gets 421 (as on nginx), not Caddy's empty 200. It
    // has no certificate: a handshake for a name the edge does not serve still fails.
    c.line('# HTTPS for a served name with another Host: 421 with the release headers.');
    c.block(`https://:${plan.listen.https}`, () => {
      renderBind(c, plan);
      renderHeaders(c, plan, opts, 'EDGE');
      c.line('respond 421');
    });
  }
  return c.toString();
}

/** Renders the release files of one Caddy edge for a Caddy with or without the cache module. */
export function renderCaddy(plan: EdgePlan, opts: RenderCaddyOptions): RenderedFile[] {
  const files: RenderedFile[] = [
    { path: caddyfilePath(opts.cache), content: renderCaddyfile(plan, opts) },
  ];
  for (const site of plan.sites) {
    if (site.upstream.tlsCas.length === 0) continue;
    const pem = site.upstream.tlsCas.map((ca) => (ca.endsWith('\n') ? ca : `${ca}\n`)).join('');
    files.push({ path: trustPath(site.domain), content: pem });
  }
  return files;
}

/**
 * Both Caddyfiles and the trust files: what a Caddy edge's bundle holds. The agent uses the
 * `.cache` one when its Caddy has the cache module.
 */
/**
 * `/.well-known/acme-challenge/*`: to the control plane when it answers HTTP-01 challenges,
 * otherwise to the site's origin, never cached. A key authorization is public by design, so
 * the control plane's own certificate is not verified (it may be private).
 */
function renderAcmeHandle(c: Caddyfile, n: SiteNames, opts: RenderCaddyOptions): void {
  c.block('handle /.well-known/acme-challenge/*', () => {
    if (opts.acmeChallengeUrl === undefined) {
      c.line('header X-Cache-Status "BYPASS"');
      c.line(`import ${n.proxy}`);
      return;
    }
    const url = new URL(opts.acmeChallengeUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new RenderError(`acmeChallengeUrl must be an http(s) URL, not ${url.protocol}`);
    // Proxied, uncached: BYPASS, as on nginx (EDGE is for answers the edge gives itself).
    c.line('header X-Cache-Status "BYPASS"');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    c.block(
      `reverse_proxy ${url.protocol}//${hostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(port))}`,
      () => {
        c.line('header_up Host {upstream_hostport}');
        if (url.protocol === 'https:')
          c.block('transport http', () => c.line('tls_insecure_skip_verify'));
      },
    );
  });
}

export function renderCaddyRelease(
  plan: EdgePlan,
  opts: Omit<RenderCaddyOptions, 'cache'>,
): RenderedFile[] {
  const plain = renderCaddy(plan, { ...opts, cache: false });
  const cached = renderCaddy(plan, { ...opts, cache: true });
  return [...plain, ...cached.filter((f) => f.path === CADDYFILE_CACHE)];
}
