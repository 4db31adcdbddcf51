// What a Caddy 2.6 edge (Debian's package) cannot do of the protection features (issue 16),
// checked on the parsed spec for every site a Caddy edge serves, with the field path and the
// reason (the table in docs/proxies.md). What it can do is rendered (render/caddy-match.ts):
// client networks (remote_ip), headers, user agents, query present/exact/prefix, access rules.
import type { Matcher, Spec } from './schema.js';
import { problem, said, type PathSegment, type Problem } from './problems.js';
import { caddyRegexProblem } from './protect.js';
import { selectorMatch } from './selectors.js';
import { siteMatchers } from './validate-protect.js';

function matcherProblems(
  m: Matcher,
  at: PathSegment[],
  edges: { count: number; names: string },
  behindProxies: string | undefined,
): Problem[] {
  const out: Problem[] = [];
  if (m.client_ips !== undefined && behindProxies !== undefined)
    out.push(
      problem(
        [...at, 'client_ips'],
        said('caddy_client_ips_behind_proxy', { edge: behindProxies }),
      ),
    );
  const regex = (re: string | undefined, path: PathSegment[]) => {
    const why = re === undefined ? undefined : caddyRegexProblem(re);
    if (why !== undefined) out.push(problem(path, said(`caddy_regex_${why}`, edges)));
  };
  m.headers?.forEach((h, k) => regex(h.regex, [...at, 'headers', k, 'regex']));
  m.user_agents?.forEach((u, k) => {
    if (typeof u !== 'string') regex(u.regex, [...at, 'user_agents', k, 'regex']);
  });
  m.query?.forEach((q, k) => {
    if (q.regex !== undefined)
      out.push(problem([...at, 'query', k, 'regex'], said('caddy_query_regex', edges)));
  });
  return out;
}

/** Problems of the protection fields of sites served by (unpaused) Caddy edges (`caddyEdges`). */
export function caddyProtectProblems(
  spec: Spec,
  caddyEdges = spec.edges.filter((e) => e.proxy === 'caddy' && !e.paused),
): Problem[] {
  const problems: Problem[] = [];
  if (caddyEdges.length === 0) return problems;
  spec.sites.forEach((site, i) => {
    const caddy = caddyEdges.filter((e) => selectorMatch(site.edges, e) !== undefined);
    if (caddy.length === 0) return;
    const edges = { count: caddy.length, names: caddy.map((e) => `"${e.name}"`).join(', ') };
    const base: PathSegment[] = ['sites', i];
    if (site.rate_limits !== undefined && site.rate_limits.length > 0)
      problems.push(problem([...base, 'rate_limits'], said('caddy_rate_limits', edges)));
    const behindProxies = caddy.find((e) => (e.real_ip_from ?? []).length > 0)?.name;
    for (const { at, m } of siteMatchers(site)) {
      // Rate limits are refused whole above.
      if (at[0] === 'rate_limits') continue;
      problems.push(...matcherProblems(m, [...base, ...at], edges, behindProxies));
    }
    const body = site.access?.body;
    if (body?.includes('{$') === true)
      problems.push(problem([...base, 'access', 'body'], said('caddy_body_env', edges)));
    else if (body === '}')
      problems.push(problem([...base, 'access', 'body'], said('caddy_body_brace', edges)));
    else if (body?.includes('`') === true && /\\(?="|$)/.test(body))
      problems.push(problem([...base, 'access', 'body'], said('caddy_body_quotes', edges)));
  });
  return problems;
}
