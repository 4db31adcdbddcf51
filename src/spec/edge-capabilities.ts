// What a site asks of the edges that serve it and not every edge can give (issue 16 part B):
// the WAF (ModSecurity + CRS: nginx edges only) and the client-geography matchers (countries,
// continents, ASNs). Checked on the parsed spec, with the field path of what is refused.
import type { Edge, SiteWaf, Spec, WafOverride } from './schema.js';
import { problem, said, type PathSegment, type Problem } from './problems.js';
import { selectorMatch } from './selectors.js';
import { caddyProtectProblems } from './caddy-capabilities.js';
import { siteMatchers } from './validate-protect.js';

/** The Matcher fields that need the edge's country data (nginx geoip2). */
export const GEO_MATCHER_FIELDS = ['countries', 'continents', 'asns'] as const;

/**
 * The override of a site's WAF that applies on `edge`: the one naming it, else the first one
 * selecting it by tag or `*` (the precedence of modifiers); undefined when none does.
 */
export function wafOverrideFor(
  waf: SiteWaf,
  edge: Pick<Edge, 'name' | 'tags'>,
): WafOverride | undefined {
  const hits = waf.overrides.flatMap((o) => {
    const hit = selectorMatch(o.edges, edge);
    return hit === undefined ? [] : [{ o, level: hit.level }];
  });
  return (hits.find((h) => h.level === 'edge') ?? hits[0])?.o;
}

/** Whether the site's WAF is on for `edge`, its override applied. */
export function wafEnabledOn(waf: SiteWaf | undefined, edge: Pick<Edge, 'name' | 'tags'>): boolean {
  if (waf === undefined) return false;
  return wafOverrideFor(waf, edge)?.enabled ?? waf.enabled;
}

/** Where a site uses a geography matcher: the path of each field that does, in every rule. */
export function geoMatcherPaths(site: Spec['sites'][number]): PathSegment[][] {
  return siteMatchers(site).flatMap(({ at, m }) =>
    GEO_MATCHER_FIELDS.filter((f) => m[f] !== undefined).map((f) => [...at, f]),
  );
}

/**
 * Problems of sites whose edges cannot serve them as asked: the WAF or a geography matcher on a
 * site a Caddy edge serves (Caddy 2.6 has neither; docs/proxies.md). nginx edges look the client
 * up in the country database the control plane delivers in their release (docs/protect.md); a
 * control plane without one refuses those releases at build time, naming the setting.
 */
export function edgeCapabilityProblems(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  // Only Caddy edges refuse anything here: without one, no site needs a look (10,000 sites on
  // 100 nginx edges were a million selector matches per validation).
  const caddyEdges = spec.edges.filter((e) => e.proxy === 'caddy' && !e.paused);
  if (caddyEdges.length === 0) return problems;
  spec.sites.forEach((site, i) => {
    const caddy = caddyEdges.filter((e) => selectorMatch(site.edges, e) !== undefined);
    const names = caddy.map((e) => `"${e.name}"`).join(', ');
    // The WAF as each Caddy edge would get it (an override may turn it on or off there).
    const wafOn = caddy.filter((e) => wafEnabledOn(site.waf, e));
    if (wafOn.length > 0) {
      const names = wafOn.map((e) => `"${e.name}"`).join(', ');
      problems.push(
        problem(['sites', i, 'waf', 'enabled'], said('caddy_waf', { count: wafOn.length, names })),
      );
    }
    if (caddy.length === 0) return;
    for (const at of geoMatcherPaths(site)) {
      const field = at[at.length - 1];
      problems.push(
        problem(
          ['sites', i, ...at],
          said(String(field) === 'asns' ? 'caddy_geo_asn' : 'caddy_geo_country', {
            count: caddy.length,
            names,
          }),
        ),
      );
    }
  });
  // Access rules and matchers on Caddy edges (issue 16, w4-caddy-protect).
  problems.push(...caddyProtectProblems(spec, caddyEdges));
  return problems;
}
