// What a Caddy 2.6 edge (Debian's package) cannot do of the protection features (issue 16),
// checked on the parsed spec for every site a Caddy edge serves, with the field path and the
// reason (the table in docs/proxies.md). What it can do is rendered (render/caddy-match.ts):
// client networks (remote_ip), headers, user agents, query present/exact/prefix, access rules.
import type { Matcher, Spec } from './schema.js';
import { problem, type PathSegment, type Problem } from './problems.js';
import { caddyRegexProblem } from './protect.js';
import { selectorMatch } from './selectors.js';
import { siteMatchers } from './validate-protect.js';

function matcherProblems(
  m: Matcher,
  at: PathSegment[],
  edges: string,
  behindProxies: string | undefined,
): Problem[] {
  const out: Problem[] = [];
  if (m.client_ips !== undefined && behindProxies !== undefined)
    out.push(
      problem(
        [...at, 'client_ips'],
        `cannot be matched on the Caddy edge "${behindProxies}": it has real_ip_from, and Caddy 2.6 has no trusted proxies for matchers (remote_ip sees the proxy's address; its "forwarded" option would trust any client's X-Forwarded-For); see docs/proxies.md`,
      ),
    );
  const regex = (re: string | undefined, path: PathSegment[]) => {
    const why = re === undefined ? undefined : caddyRegexProblem(re);
    if (why !== undefined) out.push(problem(path, `${why}, and the site is served by ${edges}`));
  };
  m.headers?.forEach((h, k) => regex(h.regex, [...at, 'headers', k, 'regex']));
  m.user_agents?.forEach((u, k) => {
    if (typeof u !== 'string') regex(u.regex, [...at, 'user_agents', k, 'regex']);
  });
  m.query?.forEach((q, k) => {
    if (q.regex !== undefined)
      out.push(
        problem(
          [...at, 'query', k, 'regex'],
          `cannot be matched by ${edges}: Caddy 2.6 has no matcher for one query parameter's value pattern (exact, prefix and present are rendered); see docs/proxies.md`,
        ),
      );
  });
  return out;
}

/** Problems of the protection fields of sites served by (unpaused) Caddy edges. */
export function caddyProtectProblems(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  spec.sites.forEach((site, i) => {
    const caddy = spec.edges.filter(
      (e) => e.proxy === 'caddy' && !e.paused && selectorMatch(site.edges, e) !== undefined,
    );
    if (caddy.length === 0) return;
    const edges = `the Caddy edge${caddy.length > 1 ? 's' : ''} ${caddy.map((e) => `"${e.name}"`).join(', ')}`;
    const base: PathSegment[] = ['sites', i];
    if (site.rate_limits !== undefined && site.rate_limits.length > 0)
      problems.push(
        problem(
          [...base, 'rate_limits'],
          `cannot be applied by Caddy 2.6 (it has no rate limiter; the rate_limit plugin is not in Debian's package), and this site is served by ${edges}; see docs/proxies.md`,
        ),
      );
    const behindProxies = caddy.find((e) => (e.real_ip_from ?? []).length > 0)?.name;
    for (const { at, m } of siteMatchers(site)) {
      // Rate limits are refused whole above.
      if (at[0] === 'rate_limits') continue;
      problems.push(...matcherProblems(m, [...base, ...at], edges, behindProxies));
    }
    const body = site.access?.body;
    if (body?.includes('{$') === true)
      problems.push(
        problem(
          [...base, 'access', 'body'],
          `contains "{$", which Caddy would read as an environment variable, and this site is served by ${edges}`,
        ),
      );
    else if (body === '}')
      problems.push(
        problem(
          [...base, 'access', 'body'],
          `is only "}", which ends a Caddyfile snippet in Caddy 2.6 even when quoted, and this site is served by ${edges}`,
        ),
      );
    else if (body?.includes('`') === true && /\\(?="|$)/.test(body))
      problems.push(
        problem(
          [...base, 'access', 'body'],
          `has a backquote and a backslash before a quote (or at its end), which no Caddyfile token can hold, and this site is served by ${edges}`,
        ),
      );
  });
  return problems;
}
