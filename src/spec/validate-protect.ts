// Whole-document rules of the protection features (issue 16, part A), run on a parsed Spec:
// `@list` references name a list of `ip_lists`, and rule selectors name edges or tags that
// exist. What a Caddy edge cannot do of these is in caddy-capabilities.ts (docs/proxies.md).
import type { Matcher, Spec } from './schema.js';
import { problem, said, type PathSegment, type Problem } from './problems.js';

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
          problems.push(problem([...at, k], said('unknown_tag', { tag: sel.slice(4) })));
      } else if (!edgeNames.has(sel))
        problems.push(problem([...at, k], said('unknown_edge', { edge: sel })));
    });

  spec.sites.forEach((site, i) => {
    const base: PathSegment[] = ['sites', i];
    for (const { at, m } of siteMatchers(site))
      m.client_ips?.forEach((ip, k) => {
        if (ip.startsWith('@') && !lists.has(ip.slice(1)))
          problems.push(
            problem(
              [...base, ...at, 'client_ips', k],
              said('ip_list_unknown', { list: ip.slice(1) }),
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
          problem([...base, 'cache', 'rules', k, 'match', cond], said('cache_answer_match')),
        );
    });
    site.access?.rules.forEach((r, k) =>
      checkSelectors(r.edges, [...base, 'access', 'rules', k, 'edges']),
    );
    site.rate_limits?.forEach((r, k) =>
      checkSelectors(r.edges, [...base, 'rate_limits', k, 'edges']),
    );
  });
  return problems;
}
