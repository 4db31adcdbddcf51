// Edge-level (http block) pieces of an nginx release that make every request work and every
// answer cached by the HTTP caching rules: the upgrade map (WebSocket), the client's address
// to the origin, the njs filters, and the maps that keep answers RFC 9111/9213 forbid out of
// the cache. Pure: data in, text out. Measured facts behind each: docs/proxies.md.
import type { EdgePlan } from '../compile/index.js';
import type { Conf } from './nginx-conf.js';
import { nginxLiteral } from './escape.js';
import { GARBAGE_VARIABLE, NJS_PATH } from './njs/outpost.js';

export {
  MODULES_PATH,
  NGINX_MODULE_DIR,
  NGINX_MODULES,
  type NginxModule,
} from '../bundle/layout.js';
import {
  GEOIP_ASN_PATH,
  GEOIP_COUNTRY_PATH,
  NGINX_MODULE_DIR,
  NGINX_MODULES,
  releaseDirFromPrefix,
  type NginxModule,
} from '../bundle/layout.js';
import { plannedMatchers } from '../compile/index.js';
import { RenderError } from './escape.js';
import {
  ASN_VARIABLE,
  CONTINENT_VARIABLE,
  COUNTRY_VARIABLE,
  geographyNeeds,
} from './nginx-match.js';

/** `Connection` to the origin: `upgrade` when the client asks for one, else "" (keep-alive). */
export const CONNECTION_VARIABLE = 'outpost_connection';
/** `for=` of the Forwarded header: the client address, IPv6 quoted in brackets (RFC 7239). */
export const FORWARDED_FOR_VARIABLE = 'outpost_forwarded_for';

/**
 * Variables that keep an origin's answer out of the cache (`proxy_no_cache`), each 1 when:
 * - `outpost_vary_star`: Vary lists `*` (nginx refuses only a bare `Vary: *`);
 * - `outpost_expires_stale`: no max-age/s-maxage and an Expires that is not an HTTP-date or
 *   equals Date (RFC 9111 §5.3: such an answer is already stale);
 * - `outpost_cdn_no_store`: CDN-Cache-Control (RFC 9213) says private, no-store or no-cache.
 */
export const NO_STORE_VARIABLES = [
  'outpost_vary_star',
  'outpost_expires_stale',
  'outpost_cdn_no_store',
] as const;
/** The same, for a forced TTL (Cache-Control and Expires are ignored there, Vary is not). */
export const FORCED_NO_STORE_VARIABLES = ['outpost_vary_star', 'outpost_cdn_no_store'] as const;

const DAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAYS = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const TIME = '\\d\\d:\\d\\d:\\d\\d';
/** The three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7), as PCRE. */
export const HTTP_DATE_FORMS = [
  `(?:${DAYS}), \\d\\d (?:${MONTHS}) \\d{4} ${TIME} GMT`,
  `(?:${LONG_DAYS}), \\d\\d-(?:${MONTHS})-\\d\\d ${TIME} GMT`,
  `(?:${DAYS}) (?:${MONTHS}) [ \\d]\\d ${TIME} \\d{4}`,
];

/**
 * The modules a release loads: njs always (Age, non-HTTP origins), brotli when a site uses it,
 * ModSecurity when a site has the WAF on, geoip2 when a site matches on the client's country,
 * continent or ASN.
 */
export function releaseModules(plan: EdgePlan): NginxModule[] {
  const geo = plan.sites.flatMap((s) => plannedMatchers(s).map(geographyNeeds));
  return modulesFor(
    plan.sites.some((s) => s.cache.brotli),
    plan.sites.some((s) => s.waf !== null),
    geo.some((g) => g.country || g.asn),
  );
}

export function modulesFor(brotli: boolean, waf: boolean, geoip = false): NginxModule[] {
  const modules: NginxModule[] = ['njs'];
  if (brotli) modules.push('brotli');
  if (waf) modules.push('modsecurity');
  if (geoip) modules.push('geoip2');
  return modules;
}

/** `nginx/main/modules.conf`: load_module lines, included at the top of the main nginx.conf. */
export function renderModulesConf(brotli: boolean, waf: boolean, geoip = false): string {
  const lines = [
    '# Dynamic modules this release needs (Debian packages named beside each). Generated.',
  ];
  for (const m of modulesFor(brotli, waf, geoip)) {
    const mod = NGINX_MODULES[m];
    lines.push(`load_module ${nginxLiteral(`${NGINX_MODULE_DIR}/${mod.file}`)};  # ${mod.package}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The client-geography databases a release carries (bundle/layout.ts): the country one, and
 * where `$outpost_asn` is read: the ASN database, or the country one when it has
 * `autonomous_system_number` itself.
 */
export interface GeoipDatabases {
  country: boolean;
  asn: 'asn' | 'country' | undefined;
}

/**
 * edge.conf's `geoip2` blocks: `$outpost_country` and `$outpost_continent` from the country
 * database, `$outpost_asn` from the ASN one, looked up on `$remote_addr` (the client's address
 * after `set_real_ip_from`, as the geo blocks of client_ips use). The paths are relative to the
 * prefix, under this release's own directory (releaseDirFromPrefix).
 */
export function renderEdgeGeoip(
  c: Conf,
  release: number,
  need: { country: boolean; asn: boolean },
  dbs: GeoipDatabases,
): void {
  if (!need.country && !need.asn) return;
  if (need.country && !dbs.country)
    throw new RenderError(
      'a site matches on the client country or continent, but the release has no country database',
    );
  if (need.asn && (dbs.asn === undefined || (dbs.asn === 'country' && !dbs.country)))
    throw new RenderError('a site matches on the client ASN, but the release has no ASN database');
  const dir = releaseDirFromPrefix(release);
  c.line('# The client geography of country/continent/ASN matchers (libnginx-mod-http-geoip2),');
  c.line('# looked up on $remote_addr (after set_real_ip_from); "" when not in the database.');
  const asnLine = `$${ASN_VARIABLE} source=$remote_addr autonomous_system_number;`;
  if (need.country || dbs.asn === 'country')
    c.block(`geoip2 ${nginxLiteral(`${dir}/${GEOIP_COUNTRY_PATH}`)}`, () => {
      c.line(`$${COUNTRY_VARIABLE} source=$remote_addr country iso_code;`);
      c.line(`$${CONTINENT_VARIABLE} source=$remote_addr continent code;`);
      if (need.asn && dbs.asn === 'country') c.line(asnLine);
    });
  if (need.asn && dbs.asn === 'asn')
    c.block(`geoip2 ${nginxLiteral(`${dir}/${GEOIP_ASN_PATH}`)}`, () => c.line(asnLine));
}

/** The http-level part of edge.conf for requests and caching (see the file comment). */
export function renderEdgeHttp(c: Conf, plan: EdgePlan): void {
  c.line(
    '# Upgrades (WebSocket): Connection "upgrade" only when the client asks for one; "" keeps',
  );
  c.line('# the connections to the origins alive for every other request.');
  c.block(`map $http_upgrade $${CONNECTION_VARIABLE}`, () => {
    c.line('default upgrade;');
    c.line('"" "";');
  });
  c.line('# The client address in Forwarded (RFC 7239): an IPv6 address is quoted in brackets.');
  c.block(`map $remote_addr $${FORWARDED_FOR_VARIABLE}`, () => {
    c.line('default $remote_addr;');
    c.line('"~:" "\\"[$remote_addr]\\"";');
  });
  if (plan.realIpFrom.length > 0) {
    c.line('# The client address from X-Forwarded-For, when set by these trusted proxies only.');
    for (const cidr of plan.realIpFrom) c.line(`set_real_ip_from ${nginxLiteral(cidr)};`);
    c.line('real_ip_header X-Forwarded-For;');
    c.line('real_ip_recursive on;');
  }
  c.line('# Age on cached answers, and no relaying of non-HTTP origin bytes (njs filters).');
  c.line(`js_import outpost from ${nginxLiteral(`release/${NJS_PATH}`)};`);
  c.line(`js_var $${GARBAGE_VARIABLE};`);
  c.line(`js_var $${GARBAGE_VARIABLE}_sent;`);
  c.line(
    '# Answers the HTTP caching rules forbid storing, which nginx would store (see nginx-http.ts).',
  );
  c.block('map $upstream_http_vary $outpost_vary_star', () => {
    c.line('volatile;');
    c.line('default 0;');
    c.line('"~(?:^|,)[ \\t]*\\*[ \\t]*(?:,|$)" 1;');
  });
  c.block(
    'map "$upstream_http_cache_control\\n$upstream_http_expires\\n$upstream_http_date" $outpost_expires_stale',
    () => {
      c.line('volatile;');
      c.line('default 1;');
      c.line('"~*^[^\\n]*(?:^|[,\\s])(?:s-maxage|max-age)\\s*=" 0;');
      c.line('"~^[^\\n]*\\n\\n" 0;');
      c.line('"~^[^\\n]*\\n([^\\n]+)\\n\\1$" 1;');
      for (const form of HTTP_DATE_FORMS) c.line(`"~^[^\\n]*\\n${form}\\n" 0;`);
    },
  );
  c.block('map $upstream_http_cdn_cache_control $outpost_cdn_no_store', () => {
    c.line('volatile;');
    c.line('default 0;');
    c.line('"~*(?:^|[,\\s])(?:private|no-store|no-cache)(?:[\\s,=]|$)" 1;');
  });
}

/** njs filters of a proxied location (nginx allows them in locations only): Age on cached answers, 502 for non-HTTP origin bytes. */
export function renderSiteFilters(c: Conf): void {
  c.line('js_header_filter outpost.headers;');
  c.line('js_body_filter outpost.body buffer_type=buffer;');
}
