// Whole-document rules of the protection features (issue 16, part A), run on a parsed Spec:
// `@list` references name a list of `ip_lists`, rule selectors name edges or tags that exist,
// and a site served by a Caddy edge asks nothing Caddy 2.6 cannot do (docs/proxies.md).
import type { Matcher, Spec } from './schema.js';
import { problem, type PathSegment, type Problem } from './problems.js';
import { selectorMatch } from './selectors.js';

/** Every matcher of a site with its path: modifiers, cache rules, access rules, rate limits. */
export function siteMatchers(site: Spec['sites'][number]): { at: PathSegment[]; m: Matcher }[] {
  const out: { at: PathSegment[]; m: Matcher }[] = [];
  site.modifiers.forEach((x, k) => out.push({ at: ['modifiers', k, 'match'], m: x.match }));
  site.cache.rules.forEach((x, k) => out.push({ at: ['cache', 'rules', k, 'match'], m: x.match }));
  site.access?.rules.forEach((x, k) =>
    out.push({ at: ['access', 'rules', k, 'match'], m: x.match }),
  );
  site.rate_limits?.forEach((x, k) => {
    if (x.match !== undefined) out.push({ at: ['rate_limits', k, 'match'], m: x.match });
  });
  return out;
}

/**
 * What the Caddy renderer does not render yet (issue 16 part A renders these for nginx only):
 * every new matcher field and access rules. Refused here with the edge named, so nothing is
 * silently dropped on a Caddy edge. Caddy 2.6 could do client_ips (remote_ip), headers and
 * user_agents (header_regexp, RE2: caddyRegexProblem) and respond/redir: see docs/proxies.md.
 */
function caddyMatcherProblems(m: Matcher, at: PathSegment[], edge: string): Problem[] {
  return (['client_ips', 'headers', 'query', 'user_agents'] as const)
    .filter((f) => m[f] !== undefined)
    .map((f) =>
      problem(
        [...at, f],
        `is not rendered for Caddy edges yet, and this site is served by the Caddy edge "${edge}"; see docs/proxies.md`,
      ),
    );
}

export function protectProblems(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const lists = new Set(Object.keys(spec.ip_lists ?? {}));
  const edgeNames = new Set(spec.edges.map((e) => e.name));
  const tags = new Set(spec.edges.flatMap((e) => e.tags));
  const checkSelectors = (selectors: readonly string[] | undefined, at: PathSegment[]) =>
    selectors?.forEach((sel, k) => {
      if (sel === '*') return;
      if (sel.startsWith('tag:')) {
        if (!tags.has(sel.slice(4)))
          problems.push(problem([...at, k], `no edge has the tag "${sel.slice(4)}"`));
      } else if (!edgeNames.has(sel)) problems.push(problem([...at, k], `unknown edge "${sel}"`));
    });

  spec.sites.forEach((site, i) => {
    const base: PathSegment[] = ['sites', i];
    for (const { at, m } of siteMatchers(site))
      m.client_ips?.forEach((ip, k) => {
        if (ip.startsWith('@') && !lists.has(ip.slice(1)))
          problems.push(
            problem(
              [...base, ...at, 'client_ips', k],
              `names the IP list "${ip.slice(1)}", which ip_lists does not define`,
            ),
          );
      });
    // The answer-side match ($resp map, render/nginx.ts) sees the request line only.
    site.cache.rules.forEach((r, k) => {
      const m = r.match;
      const answer = m.statuses !== undefined || m.content_types !== undefined;
      const cond = (
        [
          'client_ips',
          'headers',
          'query',
          'user_agents',
          'countries',
          'continents',
          'asns',
        ] as const
      ).find((f) => m[f] !== undefined);
      if (answer && cond !== undefined)
        problems.push(
          problem(
            [...base, 'cache', 'rules', k, 'match', cond],
            'cannot be combined with statuses or content_types in one cache rule: the answer is matched on the method and path only (split it into two rules)',
          ),
        );
    });
    site.access?.rules.forEach((r, k) =>
      checkSelectors(r.edges, [...base, 'access', 'rules', k, 'edges']),
    );
    site.rate_limits?.forEach((r, k) =>
      checkSelectors(r.edges, [...base, 'rate_limits', k, 'edges']),
    );

    // Caddy edges (docs/proxies.md): what Caddy 2.6 cannot do is refused here, not dropped.
    const caddy = spec.edges.find(
      (e) => e.proxy === 'caddy' && !e.paused && selectorMatch(site.edges, e) !== undefined,
    );
    if (caddy === undefined) return;
    if (site.rate_limits !== undefined && site.rate_limits.length > 0)
      problems.push(
        problem(
          [...base, 'rate_limits'],
          `cannot be rendered for Caddy 2.6 (it has no rate limiter), and this site is served by the Caddy edge "${caddy.name}"; see docs/proxies.md`,
        ),
      );
    if (site.access !== undefined)
      problems.push(
        problem(
          [...base, 'access'],
          `is not rendered for Caddy edges yet, and this site is served by the Caddy edge "${caddy.name}"; see docs/proxies.md`,
        ),
      );
    for (const { at, m } of siteMatchers(site))
      if (!at.includes('access'))
        problems.push(...caddyMatcherProblems(m, [...base, ...at], caddy.name));
  });
  return problems;
}
