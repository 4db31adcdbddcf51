// The file layout of a release, shared by the renderers (which write it), proxy-check (which
// starts nginx/Caddy on it) and the agent (which installs it). The full on-disk layout of an
// nginx edge is described in render/nginx.ts and docs/nginx-layout.md; Caddy's in
// render/caddy.ts and docs/proxies.md. The agent depends on these names, never on a renderer.

/** One file of a release. */
export interface RenderedFile {
  /** Relative to the release directory, e.g. `nginx/sites.conf`. */
  path: string;
  content: string;
}

/** Where the default server answers nginx's connection counts, to loopback clients only. */
export const STUB_STATUS_PATH = '/.well-known/outpost/nginx-status';

/** The cache zone and its directory (relative to the prefix), one per edge. */
export const CACHE_ZONE = 'outpost';
export const CACHE_DIR = 'cache/outpost';

/** File name stem of a site's certificate and trust files: `*.` becomes `_wildcard.`. */
export function certFileStem(domain: string): string {
  return domain.replace(/^\*\./, '_wildcard.');
}

/** Paths, relative to the release directory, of a site's certificate and key. */
export function certificatePaths(domain: string): { certificate: string; key: string } {
  const stem = certFileStem(domain);
  return { certificate: `certs/${stem}.crt`, key: `certs/${stem}.key` };
}

/**
 * The OCSP response (DER) an nginx edge staples for a site's certificate
 * (`ssl_stapling_file`), in a release whose site has one (certs/stapler.ts fetches it).
 */
export function ocspStaplePath(domain: string): string {
  return `certs/${certFileStem(domain)}.ocsp`;
}

/** The Caddyfile for a Caddy without, and with, the cache module. */
export const CADDYFILE = 'caddy/Caddyfile';
export const CADDYFILE_CACHE = 'caddy/Caddyfile.cache';
/** Environment variable holding the release directory when the agent adapts the Caddyfile. */
export const CADDY_RELEASE_VARIABLE = 'OUTPOST_RELEASE';
/** The module that gives Caddy a cache (github.com/caddyserver/cache-handler). */
export const CADDY_CACHE_MODULE = 'http.handlers.cache';

export function caddyfilePath(cache: boolean): string {
  return cache ? CADDYFILE_CACHE : CADDYFILE;
}

/** Where Debian's nginx keeps its dynamic modules (libnginx-mod-*). */
export const NGINX_MODULE_DIR = '/usr/lib/nginx/modules';

/** Dynamic modules a release can need, by what they give, with their Debian packages. */
export const NGINX_MODULES = {
  njs: { file: 'ngx_http_js_module.so', package: 'libnginx-mod-http-js' },
  brotli: { file: 'ngx_http_brotli_filter_module.so', package: 'libnginx-mod-http-brotli-filter' },
  /** ModSecurity v3 (libmodsecurity3) for the WAF; the rules are Debian's modsecurity-crs. */
  modsecurity: {
    file: 'ngx_http_modsecurity_module.so',
    package: 'libnginx-mod-http-modsecurity modsecurity-crs',
  },
  /** MaxMind DB lookups (libmaxminddb) for country, continent and ASN matchers. */
  geoip2: { file: 'ngx_http_geoip2_module.so', package: 'libnginx-mod-http-geoip2' },
} as const;
export type NginxModule = keyof typeof NGINX_MODULES;

/**
 * Where Debian's modsecurity-crs (3.3.x) keeps the OWASP Core Rule Set: the rules a WAF'd site
 * includes after its own setup (Outpost renders the crs-setup part itself, never
 * /etc/modsecurity/crs/crs-setup.conf, which is the machine's to edit).
 */
export const CRS_RULES_DIR = '/usr/share/modsecurity-crs/rules';

/**
 * The edge's WAF log (relative to the prefix): every WAF'd server block logs ModSecurity's
 * messages (rule ids, unique_id, server) there at level info; the agent counts them.
 */
export const WAF_LOG_PATH = 'logs/waf.log';

/** The release file the main nginx.conf includes at the top level (load_module lines). */
export const MODULES_PATH = 'nginx/main/modules.conf';

/**
 * The client-geography databases (MaxMind DB files) of a release whose sites match on the
 * client's country, continent or ASN: the country one in the GeoIP2 layout (`country.iso_code`,
 * `continent.code`: what `outpost geoip build` writes), the ASN one with
 * `autonomous_system_number`. Content-addressed like every release file, so an edge fetches a
 * database once, whatever the number of releases that carry it.
 */
export const GEOIP_COUNTRY_PATH = 'geoip/country.mmdb';
export const GEOIP_ASN_PATH = 'geoip/asn.mmdb';

/**
 * The directory of release N relative to the nginx prefix (the agent's root and proxy-check's
 * throwaway tree). nginx's geoip2 module opens its database relative to the prefix, not to the
 * main file's directory as `include` does, so a release names its databases under it.
 */
export function releaseDirFromPrefix(release: number): string {
  return `releases/${release}`;
}
