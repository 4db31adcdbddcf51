// The EdgePlan: everything one edge serves, resolved from the spec and nothing else. Renderers
// (nginx, Caddy) take a plan and return files; they never look at the spec themselves.
import type {
  AccessRule,
  CacheRule,
  EdgeListen,
  Matcher,
  ModifierAction,
  RateLimit,
} from '../spec/index.js';

export interface EdgePlan {
  /** The edge's name (goes into `X-CDN-Node`). */
  edge: string;
  /** A paused edge keeps its listeners and raw snippet but serves no site. */
  paused: boolean;
  listen: EdgeListen;
  /** The edge's unchecked raw nginx snippet (http level), or null. */
  rawNginx: string | null;
  /** Trusted proxies in front of the edge (CIDR): their X-Forwarded-For names the client. */
  realIpFrom: string[];
  /** Sites this edge serves, sorted by domain. */
  sites: PlannedSite[];
  /** One certificate per site, in the same order as `sites`. */
  certificates: PlannedCertificate[];
  /**
   * The spec's named IP lists that this edge's sites reference (`@NAME` in a matcher), by
   * name in code-unit order (issue 16 part A). nginx renders them into their own file.
   */
  ipLists: { name: string; networks: string[] }[];
}

export interface PlannedCertificate {
  /** The site's domain: the certificate's file name stem and its key in bundles. */
  domain: string;
  /** Subject names: the domain first, then the aliases. */
  names: string[];
}

export interface PlannedSite {
  domain: string;
  /** `server_name`s: domain first, then the aliases in spec order. */
  serverNames: string[];
  origins: PlannedOrigin[];
  /** TLS and scheme shared by the whole upstream group (the spec makes origins agree). */
  upstream: PlannedUpstream;
  cache: PlannedCache;
  /** Seconds the edge waits on the origins (spec `timeouts`, defaults filled in). */
  timeouts: PlannedTimeouts;
  /** Modifiers that apply on this edge, in precedence order: the first match wins. */
  modifiers: PlannedModifier[];
  https: PlannedHttps;
  /** The site's unchecked raw nginx snippet (server level), or null. */
  rawNginx: string | null;
  certificate: PlannedCertificate;
  /** Access rules that apply on this edge (issue 16 part A), or null: everyone is served. */
  access: PlannedAccess | null;
  /** Rate limits that apply on this edge (their `edges` select it), in spec order. */
  rateLimits: RateLimit[];
  /** The WAF (CRS on ModSecurity) of the site, or null when it is off (issue 16 part B). */
  waf: PlannedWaf | null;
}

export interface PlannedAccess {
  default: 'allow' | 'deny';
  status: number;
  body: string | null;
  /** In modifier precedence (edge name, tag, site; spec order within a level): first match wins. */
  rules: PlannedAccessRule[];
}

export interface PlannedAccessRule {
  name: string | null;
  level: ModifierLevel;
  selector: string | null;
  /** Position in the site's `access.rules`. */
  index: number;
  match: Matcher;
  action: AccessRule['action'];
  /** deny: the rule's status or the site's; redirect: 301/302/307/308 (302 unless set). */
  status: number;
  target: string | null;
}

/** A site's WAF settings, defaults filled in (spec `waf`, docs/waf.md). */
export interface PlannedWaf {
  mode: 'detect' | 'block';
  paranoia: number;
  inboundThreshold: number;
  outboundThreshold: number;
  /** Rule ids removed for the whole site. */
  removedIds: number[];
  /** Rule ids removed for requests whose path matches one of the globs. */
  pathExclusions: { ids: number[]; paths: string[] }[];
  requestBodyLimit: number;
}

export interface PlannedOrigin {
  /** IP addresses (v4 then v6) of an address origin, or one hostname (resolved by the proxy). */
  hosts: string[];
  hostKind: 'addresses' | 'hostname';
  /** Resolved port: the spec's, else 443 for https and 80 for http. */
  port: number;
  protocol: 'http' | 'https';
  /** SNI and verified name for HTTPS; defaults to the site's domain. */
  tlsServerName: string;
  verifyTls: boolean;
  /** PEM CA certificates to trust for this origin instead of the system store, or null. */
  tlsCa: string | null;
  weight: number;
  backup: boolean;
}

export interface PlannedUpstream {
  protocol: 'http' | 'https';
  tlsServerName: string;
  verifyTls: boolean;
  /** Distinct PEM CA bundles of the origins (empty: the system trust store). */
  tlsCas: string[];
}

export interface PlannedTimeouts {
  connect: number;
  read: number;
  send: number;
  /** Idle time of an upgraded (WebSocket) connection. */
  upgraded: number;
}

export interface PlannedCache {
  /**
   * First matching rule wins; requests no rule matches are proxied uncached. With the spec's
   * `mode: origin` the last rule is a catch-all `cache` rule (the origin's headers decide).
   */
  rules: CacheRule[];
  mode: 'rules' | 'origin';
  staleIfError: boolean;
  staleWhileUpdating: boolean;
  /** Compress text responses with gzip at the edge (origins are asked for identity). */
  gzip: boolean;
  /** The same with brotli for clients that accept `br`. */
  brotli: boolean;
  /** nginx: njs filters on every answer (Age, unsafe-method invalidation, non-HTTP origins). */
  httpFilters: boolean;
}

export type ModifierLevel = 'edge' | 'tag' | 'site';

export interface PlannedModifier {
  name: string | null;
  /** Why it applies here: named this edge, matched by tag or `*`, or site-wide. */
  level: ModifierLevel;
  /** The selector that matched (`hk-1`, `tag:asia`, `*`), or null for a site-wide modifier. */
  selector: string | null;
  /** Position in the site's `modifiers` list in the spec. */
  index: number;
  match: Matcher;
  action: ModifierAction;
}

export interface PlannedHttps {
  redirectHttp: boolean;
  hsts: false | { maxAge: number; includeSubdomains: boolean; preload: boolean };
}
