// The desired state of an Outpost CDN, which is also the shape of `outpost.yaml`.
// One zod schema per shape; the API, the store, the compiler and the UI derive from these.
import { z } from 'zod';
import { issue, said, sentence, type Said } from './problems.js';
import {
  Cidr,
  describeChar,
  DomainName,
  Extension,
  HeaderValue,
  Hostname,
  HttpMethod,
  HttpUrl,
  IPv4,
  IPv6,
  Name,
  PathGlob,
  PemCertificates,
  Port,
  QueryParamName,
  SecretRef,
  SettableHeaderName,
  UrlTemplate,
} from './primitives.js';
import { COUNTRY_CODES } from './countries.js';
import {
  ClientIp,
  HeaderCondition,
  IpLists,
  QueryCondition,
  RateLimitKey,
  RequestRate,
  UserAgentCondition,
} from './protect.js';
import { isNetworkLineName, NETWORK_LINE_NAMES } from './network-lines.js';

export const HostAddresses = z
  .object({ v4: IPv4.optional(), v6: IPv6.optional() })
  .strict()
  .refine((h) => h.v4 !== undefined || h.v6 !== undefined, issue(said('host_addresses_none')));
export type HostAddresses = z.infer<typeof HostAddresses>;

export const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;
/** An ISO 3166 alpha-2 country code, upper case, one a client can be found in (countries.ts). */
export const CountryCode = z.string().superRefine((c, ctx) => {
  if (!/^[A-Z]{2}$/.test(c)) ctx.addIssue(issue(said('country_code_format')));
  else if (!COUNTRY_CODES.has(c))
    ctx.addIssue(issue(said('country_code_unassigned', { value: c })));
});
/** An autonomous system number (32-bit, 0 and 4294967295 reserved). */
export const Asn = z.number().int().min(1).max(4_294_967_294);

/** Geo hints for GeoDNS: where an edge is and whom it should serve. */
export const EdgeMeta = z
  .object({
    countries: z.array(CountryCode).optional(),
    continents: z.array(z.enum(CONTINENTS)).optional(),
    latlong: z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]).optional(),
    asn: z.array(z.number().int().positive()).optional(),
    weight: z.number().int().min(0).max(1000).optional(),
    notes: z.string().max(500).optional(),
  })
  .strict();
export type EdgeMeta = z.infer<typeof EdgeMeta>;

/** An edge selector: an edge name, `tag:NAME`, or `*` for every edge. */
export const EdgeSelector = z
  .string()
  .regex(
    /^(\*|tag:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/,
    sentence('edge_selector_format'),
  );
export type EdgeSelector = z.infer<typeof EdgeSelector>;

// ---- issue 22 (steering by network) ----
/** A line preset of src/spec/network-lines.ts, e.g. `china-telecom`. */
export const NetworkLineName = z.string().superRefine((name, ctx) => {
  if (!isNetworkLineName(name))
    ctx.addIssue(
      issue(said('network_line_unknown', { value: name, options: NETWORK_LINE_NAMES.join(', ') })),
    );
});

/**
 * The networks an edge serves best: GeoDNS answers a client whose ASN is listed (directly or
 * through a line preset) with this edge before looking at countries (docs/dns.md).
 */
export const EdgeNetworks = z
  .object({
    asns: z.array(Asn).min(1).max(2000).optional(),
    lines: z.array(NetworkLineName).min(1).max(32).optional(),
  })
  .strict();
export type EdgeNetworks = z.infer<typeof EdgeNetworks>;

/** For one site, the networks of the edges it selects, instead of the edges' own `networks`. */
export const SiteNetworks = EdgeNetworks.extend({ edges: z.array(EdgeSelector).min(1) }).strict();
export type SiteNetworks = z.infer<typeof SiteNetworks>;
// ---- end issue 22 ----

/** What a request must look like for a rule to apply. Lists are OR-ed, fields are AND-ed. */
export const Matcher = z
  .object({
    paths: z.array(PathGlob).min(1).optional(),
    extensions: z.array(Extension).min(1).optional(),
    methods: z.array(HttpMethod).min(1).optional(),
    // ---- issue 16 part A (protect): client, header, query and user-agent conditions ----
    /** Client addresses or networks (v4/v6), or `@NAME` of a shared `ip_lists` entry. */
    client_ips: z.array(ClientIp).min(1).max(10_000).optional(),
    /** Request headers; every listed condition must hold (AND), unlike the other lists. */
    headers: z.array(HeaderCondition).min(1).max(32).optional(),
    /** Query parameters; every listed condition must hold (AND). */
    query: z.array(QueryCondition).min(1).max(32).optional(),
    /** User agents: any of them (OR). A string is a case-insensitive substring. */
    user_agents: z.array(UserAgentCondition).min(1).max(256).optional(),
    // ---- end issue 16 part A ----
    // ---- issue 16 part B (w3-waf): client geography, from the edge's country data ----
    /** The client's country (ISO 3166 alpha-2), from the edge's MMDB (nginx geoip2). */
    countries: z.array(CountryCode).min(1).optional(),
    /** The client's continent (the MMDB's continent code). */
    continents: z.array(z.enum(CONTINENTS)).min(1).optional(),
    /** The client's autonomous system number; needs an ASN database on the edge (docs/waf.md). */
    asns: z.array(Asn).min(1).optional(),
    // ---- end issue 16 part B ----
  })
  .strict();
export type Matcher = z.infer<typeof Matcher>;

export const ModifierAction = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('redirect'),
      status: z
        .union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)])
        .default(302),
      target: UrlTemplate,
    })
    .strict(),
  z
    .object({ type: z.literal('deny'), status: z.number().int().min(400).max(499).default(403) })
    .strict(),
  z
    .object({ type: z.literal('set_header'), name: SettableHeaderName, value: HeaderValue })
    .strict(),
  z.object({ type: z.literal('bypass_cache') }).strict(),
  z
    .object({
      type: z.literal('cache_ttl'),
      ttl: z.number().int().min(1).max(31_536_000).describe('seconds'),
    })
    .strict(),
]);
export type ModifierAction = z.infer<typeof ModifierAction>;

/**
 * A modifier changes how matching requests are served: the original system's "this 30 Mbit/s
 * node redirects large files". Inside a site it applies to that site; `edges` narrows it to
 * some edges (by name or tag). Precedence: edge-name rules over tag rules over site rules;
 * the first match wins within a level.
 */
export const Modifier = z
  .object({
    name: Name.optional(),
    edges: z.array(EdgeSelector).min(1).optional(),
    match: Matcher.default({}),
    action: ModifierAction,
  })
  .strict();
export type Modifier = z.infer<typeof Modifier>;

/** A response status a cache rule can match: 100-599. */
export const HttpStatus = z.number().int().min(100).max(599);

/**
 * A media type a cache rule can match, without parameters: `text/html`, or a whole type with
 * `*` as the subtype (`image/*`). Compared case-insensitively with the origin's Content-Type.
 */
export const ContentTypePattern = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/,
    sentence('content_type_format'),
  );

/**
 * What a request (paths, extensions, methods) and, for cache rules, its response (statuses,
 * content_types) must look like. Lists are OR-ed, fields are AND-ed. The request fields choose
 * the rule; the response fields narrow what it stores (see docs/spec.md).
 */
export const CacheMatcher = Matcher.extend({
  statuses: z.array(HttpStatus).min(1).optional(),
  content_types: z.array(ContentTypePattern).min(1).optional(),
}).strict();
export type CacheMatcher = z.infer<typeof CacheMatcher>;

/** What goes into the cache key: the whole query (default), none of it, or listed parameters. */
export const CacheKey = z
  .object({
    query: z
      .union([z.enum(['all', 'ignore']), z.array(QueryParamName).min(1).max(32)])
      .default('all'),
  })
  .strict();
export type CacheKey = z.infer<typeof CacheKey>;

const TtlSeconds = z.number().int().min(1).max(31_536_000);
/**
 * A rule's `ttl`: seconds, or `none` (the same as leaving it out: only what the origin marks
 * fresh is stored). `none` lets a copy of the default rules say "no default TTL" explicitly.
 */
const RuleTtl = z.union([TtlSeconds, z.literal('none').transform(() => undefined)]);

/** Options only a `cache` rule can have (a bypass rule keeps accepting and ignoring `ttl`). */
const CACHE_ONLY_OPTIONS = ['force', 'browser_ttl', 'key', 'ignore_cookies', 'slice'] as const;

export const CacheRule = z
  .object({
    match: CacheMatcher,
    action: z.enum(['cache', 'bypass']).default('cache'),
    ttl: RuleTtl.optional().describe(
      'seconds to keep an object when the origin sends no Cache-Control or Expires, or "none"',
    ),
    /** Apply `ttl` whatever the origin's Cache-Control/Expires say (private/no-store still win). */
    force: z.boolean().optional(),
    /** Cache-Control max-age (seconds) sent to clients, independent of the edge TTL. */
    browser_ttl: z.number().int().min(0).max(31_536_000).optional(),
    key: CacheKey.optional(),
    /** Static objects: no Cookie to the origin, its Set-Cookie removed and ignored. */
    ignore_cookies: z.boolean().optional(),
    /** Cache in 1 MiB slices fetched with Range (large files: video, downloads). */
    slice: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.action === 'bypass') {
      for (const option of CACHE_ONLY_OPTIONS)
        if (r[option] !== undefined)
          ctx.addIssue(issue(said('cache_option_bypass', { option }), [option]));
      return;
    }
    if (r.force === true && r.ttl === undefined)
      ctx.addIssue(issue(said('cache_force_ttl'), ['force']));
    if (r.slice === true && r.match.statuses !== undefined)
      ctx.addIssue(issue(said('cache_slice_statuses'), ['match', 'statuses']));
  });
export type CacheRule = z.infer<typeof CacheRule>;

/**
 * Seconds the default static rules keep an answer that carries no freshness information (no
 * Cache-Control max-age/s-maxage, no Expires): 2 hours, Cloudflare's default for cacheable
 * statuses. `private`, `no-store` and `Set-Cookie` still keep an answer out of the cache.
 */
export const DEFAULT_STATIC_TTL = 7200;

/**
 * The original system's static list: cached (the origin's headers first, DEFAULT_STATIC_TTL
 * when it sends none); everything else is proxied uncached.
 */
export const DEFAULT_CACHE_RULES: CacheRule[] = [
  { match: { paths: ['/static/*', '/assets/*'] }, action: 'cache', ttl: DEFAULT_STATIC_TTL },
  {
    match: { extensions: ['css', 'js', 'png', 'jpg', 'jpeg', 'webp', 'gif', 'svg'] },
    action: 'cache',
    ttl: DEFAULT_STATIC_TTL,
  },
];

export const CachePolicy = z
  .object({
    /**
     * `rules` (default): requests no rule matches are proxied uncached. `origin`: they are
     * cached by what the origin's headers allow (RFC 9111, CDN-Cache-Control first), so an
     * origin that sets its own Cache-Control needs no path list; rules still come first.
     */
    mode: z.enum(['rules', 'origin']).optional(),
    rules: z.array(CacheRule).default(DEFAULT_CACHE_RULES),
    /** Serve stale content while the origin errors or times out (honours no headers). */
    stale_if_error: z.boolean().default(true),
    /** Serve stale content while refreshing. Ignores response headers: opt-in per site. */
    stale_while_updating: z.boolean().default(false),
    /**
     * Compress text responses with gzip at the edge (the origin is asked for identity). Off
     * unless set.
     */
    gzip: z.boolean().optional(),
    /**
     * Compress text responses with brotli at the edge for clients that accept `br` (nginx:
     * Debian's libnginx-mod-http-brotli-filter; Caddy 2.6 has no brotli encoder). One identity
     * object is cached; answers carry `Vary: Accept-Encoding`.
     */
    brotli: z.boolean().optional(),
    /**
     * nginx edges: the njs filters every answer passes through: `Age` on cached answers
     * (RFC 9111 §5.1), a successful unsafe method invalidating the stored answer (§4.4), and a
     * 502 instead of an origin's non-HTTP bytes. They cost about a third of the cache-hit
     * throughput (docs/benchmarks.md); `false` turns all three off for the site. On unless set.
     */
    http_filters: z.boolean().optional(),
  })
  .strict();
export type CachePolicy = z.infer<typeof CachePolicy>;

export const Origin = z
  .object({
    host: z.union([HostAddresses, Hostname]),
    port: Port.optional(),
    protocol: z.enum(['http', 'https']).default('https'),
    /** TLS server name sent to the origin; defaults to the site's domain. */
    tls_server_name: Hostname.optional(),
    verify_tls: z.boolean().default(true),
    /**
     * PEM CA certificate(s) to verify this HTTPS origin against instead of the system trust
     * store (a private CA). Written into the edge's release as a trust file.
     */
    tls_ca: PemCertificates.optional(),
    weight: z.number().int().min(1).max(100).default(1),
    backup: z.boolean().default(false),
  })
  .strict();
export type Origin = z.infer<typeof Origin>;

/**
 * A site's origins form one nginx upstream group, and nginx applies the scheme and the TLS
 * settings (SNI name, verification, trusted CAs) to a whole group: so the origins of a site
 * must agree on `protocol`, `tls_server_name` and `verify_tls`, and `tls_ca` must be set on
 * every HTTPS origin or on none (several CAs are trusted together).
 */
export const SiteOrigins = z
  .array(Origin)
  .min(1, sentence('origins_none'))
  .superRefine((origins, ctx) => {
    const first = origins[0];
    if (first === undefined) return;
    origins.forEach((o, i) => {
      if (i === 0) return;
      const differs = (field: string, a: unknown, b: unknown) => {
        if (a === b) return false;
        ctx.addIssue(
          issue(said('origins_differ', { first: a === undefined ? 'none' : JSON.stringify(a) }), [
            i,
            field,
          ]),
        );
        return true;
      };
      if (differs('protocol', first.protocol, o.protocol)) return;
      if (o.protocol !== 'https') return;
      differs('tls_server_name', first.tls_server_name, o.tls_server_name);
      differs('verify_tls', first.verify_tls, o.verify_tls);
      if ((first.tls_ca === undefined) !== (o.tls_ca === undefined))
        ctx.addIssue(issue(said('origins_tls_ca'), [i, 'tls_ca']));
    });
  });

/**
 * DNS health of a site's edges. Every site is checked on each edge's own health endpoint
 * (`/.well-known/outpost/health`, answered by the edge itself, never proxied): that decides
 * whether an edge is in the answers. `uri` adds an end-to-end check through each edge to the
 * origin: edges that pass it are preferred, but when every edge fails it the answers stay on
 * the edges (they serve stale where allowed), never on the origin. `frequency` is the check
 * interval in seconds; `match`, text the end-to-end body must contain.
 */
export const HealthCheck = z
  .object({
    uri: HttpUrl.optional(),
    frequency: z.number().int().min(10).max(3600).default(60),
    timeout: z.number().int().min(1).max(60).default(5),
    match: z
      .string()
      .regex(/^[A-Za-z0-9 _.:/-]{1,100}$/, sentence('text_format'))
      .optional(),
  })
  .strict();
export type HealthCheck = z.infer<typeof HealthCheck>;

export const Hsts = z
  .object({
    max_age: z.number().int().min(0).default(31_536_000),
    include_subdomains: z.boolean().default(false),
    preload: z.boolean().default(false),
  })
  .strict();

export const HttpsPolicy = z
  .object({
    redirect_http: z.boolean().default(true),
    hsts: z.union([z.literal(false), Hsts]).default(false),
  })
  .strict();
export type HttpsPolicy = z.infer<typeof HttpsPolicy>;

/**
 * How a site gets its certificate. `acme` (default true): Outpost issues and renews it from
 * the spec's `acme` CA; false: only an uploaded certificate is used. `challenge`: `auto`
 * (DNS-01 for wildcard names, else HTTP-01 when an edge serves the site, else DNS-01),
 * `http-01` (answered by every edge of the site) or `dns-01` (through the `dns` provider).
 */
export const SiteTls = z
  .object({
    acme: z.boolean().default(true),
    challenge: z.enum(['auto', 'http-01', 'dns-01']).default('auto'),
  })
  .strict();
export type SiteTls = z.infer<typeof SiteTls>;

/**
 * How long the edge waits on a site's origins, in seconds: to connect, between two reads of
 * its answer (also for the first byte), and between two writes of the request. An expired
 * cached object is served stale (with `stale_if_error`) once `read` has passed. `upgraded`:
 * how long an upgraded connection (WebSocket) may stay idle in both directions.
 */
export const SiteTimeouts = z
  .object({
    connect: z.number().int().min(1).max(75).optional(),
    read: z.number().int().min(1).max(3600).optional(),
    send: z.number().int().min(1).max(3600).optional(),
    upgraded: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();
export type SiteTimeouts = z.infer<typeof SiteTimeouts>;
/** The timeouts of a site that sets none (seconds); documented in docs/spec.md. */
export const DEFAULT_TIMEOUTS = { connect: 5, read: 30, send: 30, upgraded: 3600 } as const;

// ---- issue 16 part A (protect): access rules and rate limits ----

/**
 * One access rule: the first rule (in modifier precedence: edge name, tag, site) whose matcher
 * matches decides. `allow` lets the request through, `deny` answers `status` (else the site's
 * `access.status`) with the site's `access.body`, `redirect` sends it to `target`.
 */
export const AccessRule = z
  .object({
    name: Name.optional(),
    edges: z.array(EdgeSelector).min(1).optional(),
    match: Matcher,
    action: z.enum(['allow', 'deny', 'redirect']),
    status: z.number().int().min(300).max(499).optional(),
    target: UrlTemplate.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const fail = (path: string, s: Said) => ctx.addIssue(issue(s, [path]));
    if (r.action === 'redirect') {
      if (r.target === undefined) fail('target', said('access_redirect_target'));
      if (r.status !== undefined && ![301, 302, 307, 308].includes(r.status))
        fail('status', said('access_redirect_status', { status: r.status }));
      return;
    }
    if (r.target !== undefined)
      fail('target', said('access_target_not_redirect', { action: r.action }));
    if (r.action === 'allow' && r.status !== undefined) fail('status', said('access_allow_status'));
    if (r.action === 'deny' && r.status !== undefined && (r.status < 400 || r.status > 499))
      fail('status', said('access_deny_status', { status: r.status }));
  });
export type AccessRule = z.infer<typeof AccessRule>;

/** A deny answer's body: printable text (and newlines), sent as text/plain. */
const AccessBody = z
  .string()
  .max(4096)
  .superRefine((v, ctx) => {
    const bad = /[\0-\x08\x0b-\x1f\x7f]/.exec(v)?.[0];
    if (bad !== undefined) ctx.addIssue(issue(said('bad_char', { char: describeChar(bad) })));
  });

export const SiteAccess = z
  .object({
    /** What happens to a request no rule matches. */
    default: z.enum(['allow', 'deny']).default('allow'),
    /** The status of a deny (a rule may set its own). */
    status: z.number().int().min(400).max(499).default(403),
    /** The body of a deny answer (text/plain); absent: nginx's own error page. */
    body: AccessBody.optional(),
    rules: z.array(AccessRule).max(256).default([]),
  })
  .strict();
export type SiteAccess = z.infer<typeof SiteAccess>;

/**
 * A request rate limit (nginx limit_req): `rate` per `key` (the client address, or a header's
 * value: requests without it are not counted), `burst` requests above the rate answered at once
 * (`delay: nodelay`, the default) or queued after the first `delay` of them, the rest get
 * `status` with Retry-After. Counted on each edge on its own.
 */
export const RateLimit = z
  .object({
    name: Name,
    edges: z.array(EdgeSelector).min(1).optional(),
    match: Matcher.optional(),
    key: RateLimitKey.default('ip'),
    rate: RequestRate,
    burst: z.number().int().min(0).max(100_000).default(0),
    delay: z.union([z.number().int().min(0).max(100_000), z.literal('nodelay')]).default('nodelay'),
    status: z.number().int().min(400).max(599).default(429),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (typeof r.delay === 'number' && r.delay > r.burst)
      ctx.addIssue(issue(said('rate_limit_delay', { delay: r.delay, burst: r.burst }), ['delay']));
  });
export type RateLimit = z.infer<typeof RateLimit>;

export const SiteRateLimits = z
  .array(RateLimit)
  .max(16)
  .superRefine((limits, ctx) => {
    const seen = new Map<string, number>();
    limits.forEach((l, i) => {
      const first = seen.get(l.name);
      if (first !== undefined)
        ctx.addIssue(issue(said('rate_limit_duplicate', { name: l.name, first }), [i, 'name']));
      else seen.set(l.name, i);
      const status = limits[0]?.status;
      if (i > 0 && l.status !== status)
        ctx.addIssue(
          issue(said('rate_limit_status', { status: l.status, first: String(status) }), [
            i,
            'status',
          ]),
        );
    });
  });

// ---- end issue 16 part A ----

/** Unchecked nginx directives pasted into a server/site block: an escape hatch, at your risk. */
export const RawSnippet = z.string().max(16_384);

// ---- issue 16 part B (w3-waf): the WAF (OWASP CRS on ModSecurity, nginx edges) ----
/** A ModSecurity/CRS rule id (CRS uses 900000-999999; ids below 100000 are for local rules). */
export const WafRuleId = z.number().int().min(1).max(99_999_999);

/**
 * CRS rules switched off for a site: everywhere, or for requests whose path matches one of
 * `paths` (globs, as in matchers).
 */
export const WafExclusion = z
  .object({
    ids: z.array(WafRuleId).min(1).max(256),
    paths: z.array(PathGlob).min(1).max(64).optional(),
  })
  .strict();
export type WafExclusion = z.infer<typeof WafExclusion>;

/** The request body size ModSecurity inspects when a site sets none: 13 MiB (ModSecurity's). */
export const DEFAULT_WAF_BODY_LIMIT = 13_107_200;

/**
 * The WAF settings of a site on some edges (names, `tag:NAME`, `*`), as modifiers: an
 * override naming the edge wins over one selecting it by tag or `*`; the first one wins
 * within a level. Fields left out keep the site's.
 */
export const WafOverride = z
  .object({
    edges: z.array(EdgeSelector).min(1),
    enabled: z.boolean().optional(),
    mode: z.enum(['detect', 'block']).optional(),
    paranoia: z.number().int().min(1).max(4).optional(),
  })
  .strict();
export type WafOverride = z.infer<typeof WafOverride>;

/**
 * The OWASP Core Rule Set on ModSecurity for a site (nginx edges; docs/waf.md). Off unless
 * `enabled`. `detect` logs what it would block; `block` answers 403 once a request's anomaly
 * score reaches `anomaly_threshold.inbound`. `paranoia` 1 (few false positives) to 4.
 */
export const SiteWaf = z
  .object({
    enabled: z.boolean().default(false),
    mode: z.enum(['detect', 'block']).default('detect'),
    paranoia: z.number().int().min(1).max(4).default(1),
    anomaly_threshold: z
      .object({
        inbound: z.number().int().min(1).max(10_000).default(5),
        outbound: z.number().int().min(1).max(10_000).default(4),
      })
      .strict()
      .default({}),
    exclusions: z.array(WafExclusion).max(256).default([]),
    /** Bytes of a request body inspected; the rest of a longer body passes uninspected. */
    request_body_limit: z
      .number()
      .int()
      .min(1024)
      .max(1_073_741_824)
      .default(DEFAULT_WAF_BODY_LIMIT),
    /** Per edge or tag: another mode, paranoia, or on/off (e.g. block on one edge first). */
    overrides: z.array(WafOverride).max(64).default([]),
  })
  .strict();
export type SiteWaf = z.infer<typeof SiteWaf>;
// ---- end issue 16 part B ----

export const Site = z
  .object({
    domain: DomainName,
    aliases: z.array(DomainName).default([]),
    origins: SiteOrigins,
    edges: z.array(EdgeSelector).default(['*']),
    cache: CachePolicy.default({}),
    timeouts: SiteTimeouts.optional(),
    modifiers: z.array(Modifier).default([]),
    health_check: HealthCheck.optional(),
    dns_ttl: z.number().int().min(1).max(86_400).default(60),
    https: HttpsPolicy.default({}),
    /** Certificate source and ACME challenge; absent: ACME with the automatic challenge. */
    tls: SiteTls.optional(),
    raw_nginx: RawSnippet.optional(),
    /** The WAF (issue 16 part B): off unless `waf.enabled`. */
    waf: SiteWaf.optional(),
    /** Labels for access grants (`sites:write`/`purge` for tag T); they change nothing served. */
    tags: z.array(Name).max(32).optional(),
    // ---- issue 16 part A (protect) ----
    /** Who may reach the site (allow/deny/redirect by matchers); absent: everyone. */
    access: SiteAccess.optional(),
    /** Request rate limits, each counted on each edge on its own (docs/protect.md). */
    rate_limits: SiteRateLimits.optional(),
    // ---- end issue 16 part A ----
    /**
     * Issue 22: per edge selector, the networks those edges serve for this site, replacing the
     * edges' own `networks` (and `meta.asn`); an entry naming the edge wins over one selecting
     * it by tag or `*`, the first one within a level.
     */
    networks: z.array(SiteNetworks).min(1).max(64).optional(),
  })
  .strict();
export type Site = z.infer<typeof Site>;
export type SiteInput = z.input<typeof Site>;

/** Where the edge's proxy listens. By default on every address, ports 80 and 443. */
export const EdgeListen = z
  .object({
    /** Local addresses to bind; empty means all (IPv4 and IPv6). */
    addresses: z.array(z.union([IPv4, IPv6])).default([]),
    http: Port.default(80),
    https: Port.default(443),
  })
  .strict();
export type EdgeListen = z.infer<typeof EdgeListen>;

export const Edge = z
  .object({
    name: Name,
    host: HostAddresses,
    listen: EdgeListen.default({}),
    paused: z.boolean().default(false),
    /** Out of the DNS answers, but still configured and serving (unlike `paused`). */
    drain: z.boolean().default(false),
    meta: EdgeMeta.default({}),
    /** Issue 22: the networks (ASNs, line presets) this edge serves best, for GeoDNS. */
    networks: EdgeNetworks.optional(),
    tags: z.array(Name).default([]),
    proxy: z.enum(['nginx', 'caddy']).default('nginx'),
    bandwidth_mbps: z.number().positive().max(1_000_000).optional(),
    /**
     * Proxies or load balancers in front of this edge whose X-Forwarded-For is trusted for the
     * client address (nginx `set_real_ip_from`); empty: the connection's address is the client.
     */
    real_ip_from: z.array(Cidr).optional(),
    /** Unchecked nginx directives for every site on this edge: an escape hatch. */
    raw_nginx: RawSnippet.optional(),
  })
  .strict();
export type Edge = z.infer<typeof Edge>;
export type EdgeInput = z.input<typeof Edge>;

export const DnsSettings = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('gcore'),
      api_token: SecretRef,
      api_url: HttpUrl.default('https://api.gcore.com/dns'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('powerdns'),
      api_url: HttpUrl,
      api_key: SecretRef,
      server_id: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, sentence('powerdns_server_id'))
        .default('localhost'),
      nameservers: z.array(Hostname).default([]),
      /** Text the health-check body must contain for an edge to count as up (ifurlup stringmatch). */
      health_match: z
        .string()
        .regex(/^[A-Za-z0-9 _.:/-]{1,100}$/, sentence('text_format'))
        .optional(),
      /** "ip:port" of this PowerDNS's DNS service: warm-up queries and ACME propagation checks. */
      dns_servers: z
        .array(
          z
            .string()
            .regex(
              /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/,
              sentence('ip_port_format'),
            ),
        )
        .optional(),
    })
    .strict(),
  // ---- issue 22: Cloudflare, DNSPod, Alibaba Cloud DNS ----
  z
    .object({
      provider: z.literal('cloudflare'),
      /** An API token with Zone:DNS:Edit on the zones (sent as `Authorization: Bearer`). */
      api_token: SecretRef,
      api_url: HttpUrl.default('https://api.cloudflare.com/client/v4'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('dnspod'),
      /** Tencent Cloud API key pair (CAM): SecretId and SecretKey, both references. */
      secret_id: SecretRef,
      secret_key: SecretRef,
      api_url: HttpUrl.default('https://dnspod.tencentcloudapi.com'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('alidns'),
      /** Alibaba Cloud AccessKey pair (RAM): AccessKey ID and secret, both references. */
      access_key_id: SecretRef,
      access_key_secret: SecretRef,
      api_url: HttpUrl.default('https://alidns.aliyuncs.com'),
    })
    .strict(),
  // ---- end issue 22 ----
]);
export type DnsSettings = z.infer<typeof DnsSettings>;

export const AcmeSettings = z
  .object({
    email: z.string().email(),
    directory_url: HttpUrl.default('https://acme-v02.api.letsencrypt.org/directory'),
    eab: z
      .object({ kid: z.string().min(1), hmac_key: SecretRef })
      .strict()
      .optional(),
    /** PEM CA file to trust for the directory (Pebble in tests, a private CA). */
    ca_file: z.string().startsWith('/').optional(),
  })
  .strict();
export type AcmeSettings = z.infer<typeof AcmeSettings>;

/** The whole desired state: the document `outpost.yaml`. */
export const Spec = z
  .object({
    edges: z.array(Edge).default([]),
    sites: z.array(Site).default([]),
    dns: DnsSettings.optional(),
    acme: AcmeSettings.optional(),
    // ---- issue 16 part A (protect) ----
    /** Named IP lists that matchers reference as `@NAME` (nginx: one shared geo block each). */
    ip_lists: IpLists.optional(),
    // ---- end issue 16 part A ----
  })
  .strict();
export type Spec = z.infer<typeof Spec>;
export type SpecInput = z.input<typeof Spec>;
