// Issue 16 part A through a real nginx edge driven by a real agent: access rules by each
// matcher kind (client address and named list, path, header, query, user agent), every action
// (allow, deny with status and body, redirect, default deny), a rate limit answering 429 with
// Retry-After exactly after its burst and recovering, a limit keyed by a header, a named list
// changed without the sites' file changing, hostile values refused with their field path, and
// the refusals counted in the status answer and /metrics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { TestCdn } from '../support/cdn.js';

const EDGES = { a: '127.0.0.41' } as const;
const OFFICE = '127.0.0.66';
const OTHER = '127.0.0.67';
const HOST = 'protect.test';

describe('protection rules on a real nginx edge', () => {
  const cdn = new TestCdn({ edges: EDGES, serveArgs: ['--probe-interval', '1'] });
  let origin: TestOrigin;

  const specYaml = (officeNet: string, extra = '') => `
ip_lists:
  office: [${officeNet}]
edges:
${cdn.edgeYaml('a')}sites:
  - domain: ${HOST}
    origins:
      - host: {v4: 127.0.0.1}
        port: ${origin.port}
        protocol: http
    access:
      body: "refused by protect.test\\n"
      rules:
        - {match: {paths: ["/admin/*"], client_ips: ["@office"]}, action: allow}
        - {match: {paths: ["/admin/*"]}, action: deny}
        - {match: {user_agents: [sqlmap, {prefix: "Nikto/"}]}, action: deny, status: 451}
        - {match: {headers: [{name: X-Block, exact: "yes", case_sensitive: false}]}, action: deny, status: 400}
        - {match: {query: [{name: go, present: true}]}, action: redirect, status: 307, target: "https://elsewhere.test{uri}"}
        - {match: {paths: ["/closed/*"], client_ips: ["${OTHER}"]}, action: allow}
        - {match: {paths: ["/closed/*"]}, action: deny, status: 404}
    rate_limits:
      - {name: api, match: {paths: ["/api/*"]}, rate: 10r/m, burst: 3}
      - {name: keyed, key: "header:X-Key", match: {paths: ["/keyed/*"]}, rate: 10r/m, burst: 1}
${extra}`;

  const get = (path: string, opts: { from?: string; headers?: Record<string, string> } = {}) =>
    httpGet(`http://${EDGES.a}:${cdn.edgePort}${path}`, {
      host: HOST,
      headers: opts.headers ?? {},
      ...(opts.from !== undefined ? { localAddress: opts.from } : {}),
    });

  const releaseFile = async (file: string) => {
    const rows = await cdn.status();
    const release = rows[0]?.applied_release ?? 0;
    return readFileSync(join(cdn.root('a'), 'releases', String(release), file), 'utf8');
  };

  beforeAll(async () => {
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(specYaml(`${OFFICE}/32`));
    await cdn.startAgents().catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${cdn.cp.output().slice(-3000)}`);
    });
  }, 120_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('allows and denies by client address, named list and path', async () => {
    const fromOffice = await get('/admin/panel', { from: OFFICE });
    expect(fromOffice.status).toBe(200);
    expect(fromOffice.body).toBe('origin says /admin/panel');
    const elsewhere = await get('/admin/panel', { from: OTHER });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toBe('refused by protect.test\n');
    expect(elsewhere.headers['content-type']).toBe('text/plain');
    expect(origin.seen.filter((r) => r.path === '/admin/panel')).toHaveLength(1);
    // An inline address, then the path rule behind it; the default (allow) for the rest.
    expect((await get('/closed/x', { from: OTHER })).status).toBe(200);
    expect((await get('/closed/x', { from: OFFICE })).status).toBe(404);
    expect((await get('/open', { from: OTHER })).status).toBe(200);
  });

  it('denies by user agent and header, redirects by query parameter', async () => {
    expect((await get('/', { headers: { 'user-agent': 'sqlmap/1.7' } })).status).toBe(451);
    expect((await get('/', { headers: { 'user-agent': 'SQLMAP' } })).status).toBe(451);
    expect((await get('/', { headers: { 'user-agent': 'Nikto/2.5' } })).status).toBe(451);
    expect((await get('/', { headers: { 'user-agent': 'nikto/2.5' } })).status).toBe(200);
    expect((await get('/', { headers: { 'user-agent': 'Mozilla/5.0' } })).status).toBe(200);
    expect((await get('/', { headers: { 'x-block': 'YES' } })).status).toBe(400);
    expect((await get('/', { headers: { 'x-block': 'yes please' } })).status).toBe(200);
    const r = await get('/page?go=1');
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('https://elsewhere.test/page?go=1');
    expect((await get('/page?going=1')).status).toBe(200);
  });

  it('answers 429 with Retry-After exactly after the burst, and recovers', async () => {
    // 10r/m is one request per 6 s: the first request and the burst of 3 pass, the 5th not.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await get('/api/x');
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(limited?.headers['retry-after']).toBe('6');
    const served = await get('/api/x');
    expect(served.status).toBe(429);
    // A request the limit let through carries no Retry-After.
    expect((await get('/open')).headers['retry-after']).toBeUndefined();
    await new Promise((r) => setTimeout(r, 6_500));
    expect((await get('/api/x')).status).toBe(200);
    expect((await get('/api/x')).status).toBe(429);
  }, 30_000);

  it('counts a header-keyed limit per header value, and not requests without it', async () => {
    const keyed = (key?: string) =>
      get('/keyed/x', { headers: key === undefined ? {} : { 'x-key': key } }).then((r) => r.status);
    expect([await keyed('k1'), await keyed('k1'), await keyed('k1')]).toEqual([200, 200, 429]);
    expect(await keyed('k2')).toBe(200);
    expect([await keyed(), await keyed(), await keyed(), await keyed()]).toEqual([
      200, 200, 200, 200,
    ]);
  });

  it('counts denied and rate-limited requests in the status answer and /metrics', async () => {
    const traffic = await eventually(
      'the refusals to be reported',
      async () => {
        const res = await fetch(`${cdn.cpUrl}/v1/status`, {
          headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
        });
        const body = (await res.json()) as {
          edges: { traffic: { denied: number; rate_limited: number } }[];
        };
        const t = body.edges[0]?.traffic;
        return t !== undefined && t.denied >= 6 && t.rate_limited >= 5 ? t : undefined;
      },
      30_000,
    );
    // Denied: 403, 404, 451 x3, 400 (the redirect is not a denial); limited: 4 + 1 (keyed).
    expect(traffic).toEqual({ ...traffic, denied: 6, rate_limited: 5 });
    const metrics = await (
      await fetch(`${cdn.cpUrl}/metrics`, {
        headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
      })
    ).text();
    expect(metrics).toContain(`outpost_requests_denied_total{edge="a",site="${HOST}"} 6`);
    expect(metrics).toContain(`outpost_requests_rate_limited_total{edge="a",site="${HOST}"} 5`);
    const cli = await cdn.cli(['status']);
    expect(cli.stdout).toContain('REFUSED a: 6 denied by access rules, 5 rate-limited');
  }, 40_000);

  it('changes a named list without changing the sites file', async () => {
    const sitesBefore = await releaseFile('nginx/sites.conf');
    const siteBefore = await releaseFile(`nginx/sites/${HOST}.conf`);
    const listsBefore = await releaseFile('nginx/lists.conf');
    const before = await cdn.releases();
    await cdn.apply(specYaml(`${OTHER}/32`));
    await cdn.allApplied(before);
    const sitesAfter = await releaseFile('nginx/sites.conf');
    const siteAfter = await releaseFile(`nginx/sites/${HOST}.conf`);
    const listsAfter = await releaseFile('nginx/lists.conf');
    // Since sites name no release (one file per site, shared by edges), they are the same bytes.
    expect(sitesAfter).toBe(sitesBefore);
    expect(siteAfter).toBe(siteBefore);
    expect(listsAfter).not.toBe(listsBefore);
    expect(listsAfter).toContain(`"${OTHER}/32" 1;`);
    expect((await get('/admin/panel', { from: OTHER })).status).toBe(200);
    expect((await get('/admin/panel', { from: OFFICE })).status).toBe(403);
  }, 60_000);

  it('refuses hostile values with their field path, and keeps serving', async () => {
    const before = await cdn.releases();
    const hostile = `
  - domain: evil.test
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    access:
      rules:
        - {match: {headers: [{name: "X-A\\"; return 200", exact: "x"}]}, action: deny}
        - {match: {headers: [{name: X-B, regex: "a)|(.*"}]}, action: deny}
        - {match: {client_ips: ["10.0.0.0/8; allow all"]}, action: allow}
`;
    await expect(cdn.apply(specYaml(`${OTHER}/32`, hostile))).rejects.toThrow(
      /sites\[1\]\.access\.rules\[0\]\.match\.headers\[0\]\.name[\s\S]*sites\[1\]\.access\.rules\[1\]\.match\.headers\[0\]\.regex[\s\S]*sites\[1\]\.access\.rules\[2\]\.match\.client_ips\[0\]/,
    );
    expect(await cdn.releases()).toEqual(before);
    // A hostile but valid value is rendered harmlessly: nginx -t passes, the rule works.
    const harmless = `
  - domain: odd.test
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    access:
      rules:
        - {match: {headers: [{name: X-A, exact: "\\"; } return 200 pwned; #"}]}, action: deny}
`;
    await cdn.apply(specYaml(`${OTHER}/32`, harmless));
    await cdn.allApplied(before);
    const odd = (v: string) =>
      httpGet(`http://${EDGES.a}:${cdn.edgePort}/`, { host: 'odd.test', headers: { 'x-a': v } });
    expect((await odd('"; } return 200 pwned; #')).status).toBe(403);
    const ok = await odd('fine');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('origin says /');
  }, 60_000);
});
