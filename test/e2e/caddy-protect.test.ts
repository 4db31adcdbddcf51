// Issue 16 on a Caddy edge: the same access rules served by a real nginx edge and a real Caddy
// 2.6 edge (Debian's packages, each driven by its own `outpost agent`) answer every request of
// one table alike: client address and named list, path, header (exact, case-insensitive, a
// missing header as the empty value), query (present, prefix on the FIRST `name=` parameter,
// exact ""), user agent (substring, prefix, regex), each action (allow, deny with status and
// the body byte for byte, 444 closing the connection, redirect), default deny, the ACME path
// exempt, a modifier with a header condition. What Caddy cannot do is refused by `outpost
// apply` with the field path, and the edges keep their release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { TestCdn } from '../support/cdn.js';

const CADDY = '/usr/bin/caddy';
const EDGES = { n: '127.0.0.141', c: '127.0.0.142' } as const;
type EdgeName = keyof typeof EDGES;
const OFFICE = '127.0.0.146';
const OTHER = '127.0.0.147';
const BAD = '127.0.0.148';
const BODY = 'refused by {host} {guard} `test` "here"; $host\n';

interface Ask {
  path: string;
  host?: string;
  from?: string;
  headers?: Record<string, string>;
  /** Compare the status only (nginx and Caddy have their own empty-deny pages). */
  statusOnly?: boolean;
}
/** What a request got: its status (and location or body), or "closed" without an answer. */
type Got = { status: number; location?: string; body?: string } | 'closed';

describe('protection rules on a Caddy edge answer as on an nginx edge', () => {
  const cdn = new TestCdn({ edges: EDGES, agentArgs: ['--caddy', CADDY] });
  let origin: TestOrigin;

  const specYaml = (extraSite = '') => `
ip_lists:
  office: [${OFFICE}/32]
edges:
${cdn.edgeYaml('n')}${cdn.edgeYaml('c')}    proxy: caddy
sites:
  - domain: guard.test
    origins:
      - {host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}
    access:
      body: ${JSON.stringify(BODY)}
      rules:
        - {match: {paths: ["/admin/*"], client_ips: ["@office"]}, action: allow}
        - {match: {paths: ["/admin/*"]}, action: deny}
        - {match: {client_ips: ["${BAD}"]}, action: deny, status: 444}
        - {match: {user_agents: [sqlmap, {prefix: "Nikto/"}, {regex: "^(?:Masscan|zgrab)", case_sensitive: false}]}, action: deny, status: 451}
        - {match: {headers: [{name: X-Block, exact: "yes", case_sensitive: false}]}, action: deny, status: 400}
        - {match: {paths: ["/private/*"], headers: [{name: X-Token, exact: ""}]}, action: deny, status: 401}
        - {match: {query: [{name: go, present: true}]}, action: redirect, status: 307, target: "https://elsewhere.test{uri}"}
        - {match: {query: [{name: lang, prefix: "e"}, {name: v, exact: ""}]}, action: deny, status: 409}
        - {match: {paths: ["/closed/*"], client_ips: ["${OTHER}"]}, action: allow}
        - {match: {paths: ["/closed/*"]}, action: deny, status: 404}
    modifiers:
      - {match: {headers: [{name: X-Beta, regex: "^(?:1|on)$"}]}, action: {type: redirect, target: "https://beta.test{uri}"}}
  - domain: closed.test
    origins:
      - {host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}
    access:
      default: deny
      status: 403
      rules:
        - {match: {client_ips: ["@office", "::1"]}, action: allow}
${extraSite}`;

  const ask = async (edge: EdgeName, a: Ask): Promise<Got> => {
    try {
      const r = await httpGet(`http://${EDGES[edge]}:${cdn.edgePort}${a.path}`, {
        host: a.host ?? 'guard.test',
        headers: a.headers ?? {},
        ...(a.from !== undefined ? { localAddress: a.from } : {}),
      });
      if (r.status >= 300 && r.status < 400)
        return { status: r.status, location: r.headers.location ?? '' };
      return r.status >= 400 && a.statusOnly !== true
        ? { status: r.status, body: r.body }
        : { status: r.status };
    } catch (e) {
      if (/socket hang up|ECONNRESET/.test(String(e))) return 'closed';
      throw e;
    }
  };

  beforeAll(async () => {
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(specYaml());
    // Two agents (tsx) start slowly on a loaded machine: a second 20 s wait before failing.
    await cdn
      .startAgents()
      .catch(() => cdn.allApplied())
      .catch(async (e: unknown) => {
        const rows = (await cdn.status()).map((r) => [r.name, r.state, r.error]);
        throw new Error(`${String(e)}: ${JSON.stringify(rows)}`);
      });
  }, 120_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  const denied = (status: number) => ({ status, body: BODY });
  // [request, what both edges must answer]
  const TABLE: [Ask, Got][] = [
    [{ path: '/admin/panel', from: OFFICE }, { status: 200 }],
    [{ path: '/admin/panel', from: OTHER }, denied(403)],
    [{ path: '/anything', from: BAD }, 'closed'],
    [{ path: '/', headers: { 'user-agent': 'sqlmap/1.7' } }, denied(451)],
    [{ path: '/', headers: { 'user-agent': 'a SQLMAP b' } }, denied(451)],
    [{ path: '/', headers: { 'user-agent': 'Nikto/2.5' } }, denied(451)],
    [{ path: '/', headers: { 'user-agent': 'nikto/2.5' } }, { status: 200 }],
    [{ path: '/', headers: { 'user-agent': 'ZGRAB/0.x' } }, denied(451)],
    [{ path: '/', headers: { 'user-agent': 'x zgrab' } }, { status: 200 }],
    [{ path: '/', headers: { 'x-block': 'YES' } }, denied(400)],
    [{ path: '/', headers: { 'x-block': 'yes please' } }, { status: 200 }],
    [{ path: '/private/x' }, denied(401)],
    [{ path: '/private/x', headers: { 'x-token': 't' } }, { status: 200 }],
    [{ path: '/page?go=1' }, { status: 307, location: 'https://elsewhere.test/page?go=1' }],
    [{ path: '/page?GO' }, { status: 307, location: 'https://elsewhere.test/page?GO' }],
    [{ path: '/page?going=1&ago=2' }, { status: 200 }],
    [{ path: '/q?lang=en' }, denied(409)],
    [{ path: '/q?x=1&LANG=en&v=' }, denied(409)],
    [{ path: '/q?lang=de&lang=en' }, { status: 200 }],
    [{ path: '/q?xlang=en&lang=de' }, { status: 200 }],
    [{ path: '/q?lang=en&v=1' }, { status: 200 }],
    [{ path: '/q?lang&lang=en' }, denied(409)],
    [{ path: '/closed/x', from: OTHER }, { status: 200 }],
    [{ path: '/closed/x', from: OFFICE }, denied(404)],
    [
      { path: '/b', headers: { 'x-beta': 'on' } },
      { status: 302, location: 'https://beta.test/b' },
    ],
    [{ path: '/b', headers: { 'x-beta': 'only' } }, { status: 200 }],
    [{ path: '/', host: 'closed.test', from: OFFICE }, { status: 200 }],
    [{ path: '/', host: 'closed.test', from: OTHER, statusOnly: true }, { status: 403 }],
    // The ACME challenge path is exempt even under default deny: proxied to the control plane,
    // which answers HTTP-01 challenges (and knows no token "t").
    [
      { path: '/.well-known/acme-challenge/t', host: 'closed.test', from: OTHER },
      { status: 404, body: 'no such challenge\n' },
    ],
  ];

  it('answers every request of the table the same on both edges', async () => {
    const mismatches: string[] = [];
    for (const [a, want] of TABLE)
      for (const edge of ['n', 'c'] as const) {
        const got = await ask(edge, a);
        try {
          expect(got).toEqual(want);
        } catch {
          mismatches.push(
            `${edge} ${a.host ?? 'guard.test'}${a.path} ${JSON.stringify(a)}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
          );
        }
      }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it('sends the deny body as text/plain with the edge headers, and never reaches the origin', async () => {
    const before = origin.seen.filter((r) => r.path === '/admin/secret').length;
    for (const edge of ['n', 'c'] as const) {
      const r = await httpGet(`http://${EDGES[edge]}:${cdn.edgePort}/admin/secret`, {
        host: 'guard.test',
        localAddress: OTHER,
      });
      expect(r.status).toBe(403);
      expect(r.body).toBe(BODY);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.headers['x-cdn-node']).toBe(edge);
      expect(r.headers['x-outpost-release']).toMatch(/^[0-9]+$/);
    }
    expect(origin.seen.filter((r) => r.path === '/admin/secret').length).toBe(before);
  });

  it('refuses at apply what the Caddy edge cannot do, naming the field, and keeps serving', async () => {
    const releases = await cdn.releases();
    const limited = `    rate_limits:
      - {name: all, rate: 10r/s}
`;
    const err = await cdn.apply(specYaml(limited)).then(
      () => '',
      (e: unknown) => String(e),
    );
    expect(err).toContain('sites[1].rate_limits');
    expect(err).toContain('Caddy edge "c"');
    const pattern = specYaml().replace('{name: lang, prefix: "e"}', '{name: lang, regex: "^e"}');
    const err2 = await cdn.apply(pattern).then(
      () => '',
      (e: unknown) => String(e),
    );
    expect(err2).toContain('sites[0].access.rules[7].match.query[0].regex');
    expect(await cdn.releases()).toEqual(releases);
    expect(await ask('c', { path: '/admin/panel', from: OTHER })).toEqual(denied(403));
  });
});
