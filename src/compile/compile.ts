// compileEdgePlan: desired state → what one edge serves. Pure: no clock, I/O or randomness.
import { DEFAULT_TIMEOUTS, wafOverrideFor } from '../spec/index.js';
import type { CacheRule, Edge, Matcher, Modifier, Origin, Site, Spec } from '../spec/index.js';
import { selectorMatch } from '../spec/selectors.js';

// Moved to spec/selectors.ts (certs, dns and health need it too); re-exported for callers.
export { selectorMatch } from '../spec/selectors.js';
import type {
  PlannedWaf,
  EdgePlan,
  ModifierLevel,
  PlannedAccess,
  PlannedModifier,
  PlannedOrigin,
  PlannedSite,
  PlannedUpstream,
} from './plan.js';

/** A plan cannot be made: an unknown edge, or a spec that skipped validation. */
export class PlanError extends Error {
  constructor(
    readonly code: 'unknown_edge' | 'inconsistent_origins' | 'unknown_ip_list',
    message: string,
  ) {
    super(message);
    this.name = 'PlanError';
  }
}

/** The rule `cache.mode: origin` appends: every request, cached by the origin's headers. */
export const ORIGIN_RULE: CacheRule = { match: {}, action: 'cache' };

/** Code-unit order, independent of the locale. */
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The plan for `edgeName`: the sites it serves, with origins, cache policy, the modifiers
 * that apply on it (merged in precedence order), HTTPS policy and needed certificates.
 * A paused edge gets a plan without sites. An edge the spec does not name is an error
 * (a typo must not silently empty an edge).
 */
export function compileEdgePlan(
  spec: Spec,
  edgeName: string,
  /** Plans one site for the edge; the bundle builder passes a memo of `planSite`. */
  plan: (site: Site, edge: Edge) => PlannedSite = planSite,
): EdgePlan {
  const edge = spec.edges.find((e) => e.name === edgeName);
  if (edge === undefined)
    throw new PlanError('unknown_edge', `no edge named "${edgeName}" in the spec`);

  const sites = edge.paused
    ? []
    : spec.sites
        .filter((site) => selectorMatch(site.edges, edge) !== undefined)
        .map((site) => plan(site, edge))
        .sort((a, b) => byString(a.domain, b.domain));

  return {
    edge: edge.name,
    paused: edge.paused,
    listen: {
      addresses: [...edge.listen.addresses],
      http: edge.listen.http,
      https: edge.listen.https,
    },
    rawNginx: edge.raw_nginx ?? null,
    realIpFrom: [...(edge.real_ip_from ?? [])],
    sites,
    certificates: sites.map((s) => s.certificate),
    ipLists: usedIpLists(spec, sites),
  };
}

/** Every matcher of a planned site (modifiers, cache rules, access rules, rate limits). */
export function plannedMatchers(site: PlannedSite): Matcher[] {
  return [
    ...site.modifiers.map((m) => m.match),
    ...site.cache.rules.map((r) => r.match),
    ...(site.access?.rules.map((r) => r.match) ?? []),
    ...site.rateLimits.flatMap((l) => (l.match === undefined ? [] : [l.match])),
  ];
}

/** The named IP lists the sites reference, by name. */
function usedIpLists(spec: Spec, sites: readonly PlannedSite[]): EdgePlan['ipLists'] {
  const names = new Set<string>();
  for (const site of sites)
    for (const m of plannedMatchers(site))
      for (const ip of m.client_ips ?? []) if (ip.startsWith('@')) names.add(ip.slice(1));
  return [...names].sort(byString).map((name) => {
    const networks = spec.ip_lists?.[name];
    if (networks === undefined)
      throw new PlanError(
        'unknown_ip_list',
        `a matcher names the IP list "${name}", which ip_lists does not define`,
      );
    return { name, networks: [...networks] };
  });
}

/** The access rules that apply on `edge`, in the modifiers' precedence. */
function planAccess(site: Site, edge: Edge): PlannedAccess | null {
  const a = site.access;
  if (a === undefined) return null;
  const rules = a.rules.flatMap((r, index) => {
    let level: ModifierLevel = 'site';
    let selector: string | null = null;
    if (r.edges !== undefined) {
      const hit = selectorMatch(r.edges, edge);
      if (hit === undefined) return [];
      level = hit.level;
      selector = hit.selector;
    }
    return [
      {
        name: r.name ?? null,
        level,
        selector,
        index,
        match: structuredClone(r.match),
        action: r.action,
        status: r.status ?? (r.action === 'redirect' ? 302 : a.status),
        target: r.target ?? null,
      },
    ];
  });
  return {
    default: a.default,
    status: a.status,
    body: a.body ?? null,
    rules: rules.sort((x, y) => LEVEL_ORDER[x.level] - LEVEL_ORDER[y.level]),
  };
}

/**
 * One site as `edge` serves it. It depends on the edge only through modifiers that name edges
 * (`siteVariesByEdge`): the bundle builder plans every other site once for all edges.
 */
export function planSite(site: Site, edge: Edge): PlannedSite {
  const names = [site.domain, ...site.aliases];
  const origins = site.origins.map((o) => planOrigin(o, site.domain));
  const hsts = site.https.hsts;
  return {
    domain: site.domain,
    serverNames: names,
    origins,
    upstream: planUpstream(site.domain, origins),
    cache: {
      rules: [
        ...site.cache.rules.map((r) => structuredClone(r)),
        // Cache what the origin marks cacheable: every request no rule took.
        ...(site.cache.mode === 'origin' ? [structuredClone(ORIGIN_RULE)] : []),
      ],
      mode: site.cache.mode ?? 'rules',
      staleIfError: site.cache.stale_if_error,
      staleWhileUpdating: site.cache.stale_while_updating,
      gzip: site.cache.gzip ?? false,
      brotli: site.cache.brotli ?? false,
      httpFilters: site.cache.http_filters ?? true,
    },
    timeouts: { ...DEFAULT_TIMEOUTS, ...site.timeouts },
    modifiers: mergeModifiers(site.modifiers, edge),
    waf: planWaf(site, edge),
    https: {
      redirectHttp: site.https.redirect_http,
      hsts:
        hsts === false
          ? false
          : {
              maxAge: hsts.max_age,
              includeSubdomains: hsts.include_subdomains,
              preload: hsts.preload,
            },
    },
    rawNginx: site.raw_nginx ?? null,
    certificate: { domain: site.domain, names },
    access: planAccess(site, edge),
    rateLimits: (site.rate_limits ?? [])
      .filter((l) => l.edges === undefined || selectorMatch(l.edges, edge) !== undefined)
      .map((l) => structuredClone(l)),
  };
}

function planOrigin(origin: Origin, domain: string): PlannedOrigin {
  const addresses = typeof origin.host !== 'string';
  const hosts =
    typeof origin.host === 'string'
      ? [origin.host]
      : [origin.host.v4, origin.host.v6].filter((h): h is string => h !== undefined);
  return {
    hosts,
    hostKind: addresses ? 'addresses' : 'hostname',
    port: origin.port ?? (origin.protocol === 'https' ? 443 : 80),
    protocol: origin.protocol,
    tlsServerName: origin.tls_server_name ?? domain,
    verifyTls: origin.verify_tls,
    tlsCa: origin.tls_ca ?? null,
    weight: origin.weight,
    backup: origin.backup,
  };
}

/** The group-wide settings; the spec guarantees the origins agree, this re-checks it. */
function planUpstream(domain: string, origins: PlannedOrigin[]): PlannedUpstream {
  const first = origins[0];
  if (first === undefined)
    throw new PlanError('inconsistent_origins', `site "${domain}" has no origin`);
  for (const o of origins) {
    const same =
      o.protocol === first.protocol &&
      (o.protocol === 'http' ||
        (o.tlsServerName === first.tlsServerName &&
          o.verifyTls === first.verifyTls &&
          (o.tlsCa === null) === (first.tlsCa === null)));
    if (!same)
      throw new PlanError(
        'inconsistent_origins',
        `the origins of site "${domain}" must share protocol, tls_server_name, verify_tls and tls_ca presence`,
      );
  }
  const cas = origins.flatMap((o) => (o.tlsCa === null ? [] : [o.tlsCa]));
  return {
    protocol: first.protocol,
    tlsServerName: first.tlsServerName,
    verifyTls: first.verifyTls,
    tlsCas: first.protocol === 'https' ? [...new Set(cas)] : [],
  };
}

const LEVEL_ORDER: Record<ModifierLevel, number> = { edge: 0, tag: 1, site: 2 };

/**
 * The modifiers that apply on `edge`, in precedence order: those naming the edge, then those
 * selecting it by tag or `*`, then site-wide ones (no `edges`); declaration order within a
 * level. The first one whose matcher matches a request is the only one applied.
 */
/** True when `planSite(site, edge)` can differ between edges (a modifier selects edges). */
export function siteVariesByEdge(site: Site): boolean {
  return site.modifiers.some((m) => m.edges !== undefined);
}

export function mergeModifiers(modifiers: readonly Modifier[], edge: Edge): PlannedModifier[] {
  const planned: PlannedModifier[] = [];
  modifiers.forEach((m, index) => {
    let level: ModifierLevel = 'site';
    let selector: string | null = null;
    if (m.edges !== undefined) {
      const hit = selectorMatch(m.edges, edge);
      if (hit === undefined) return;
      level = hit.level;
      selector = hit.selector;
    }
    planned.push({
      name: m.name ?? null,
      level,
      selector,
      index,
      match: structuredClone(m.match),
      action: structuredClone(m.action),
    });
  });
  // Array.prototype.sort is stable: declaration order is kept within a level.
  return planned.sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]);
}

/** The site's WAF with defaults filled in, or null when it is off (issue 16 part B). */
export function planWaf(site: Site, edge: Pick<Edge, 'name' | 'tags'>): PlannedWaf | null {
  const w = site.waf;
  if (w === undefined) return null;
  const o = wafOverrideFor(w, edge);
  if (!(o?.enabled ?? w.enabled)) return null;
  const removed = new Set<number>();
  const pathExclusions: PlannedWaf['pathExclusions'] = [];
  for (const e of w.exclusions) {
    if (e.paths === undefined) for (const id of e.ids) removed.add(id);
    else pathExclusions.push({ ids: [...new Set(e.ids)], paths: [...e.paths] });
  }
  return {
    mode: o?.mode ?? w.mode,
    paranoia: o?.paranoia ?? w.paranoia,
    inboundThreshold: w.anomaly_threshold.inbound,
    outboundThreshold: w.anomaly_threshold.outbound,
    removedIds: [...removed].sort((a, b) => a - b),
    pathExclusions,
    requestBodyLimit: w.request_body_limit,
  };
}
