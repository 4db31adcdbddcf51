// A real CDN on loopback: a control plane, two edges (two nginx masters on 127.0.0.2 and
// 127.0.0.3, each driven by a real `outpost agent`), an HTTPS origin with a certificate for
// origin.test from a test CA, and an HTTP origin. Everything the edges serve, they pulled.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { TestCdn } from '../support/cdn.js';
import { makeTestCa } from '../support/tls.js';

const EDGES = { a: '127.0.0.2', b: '127.0.0.3' } as const;
type EdgeName = keyof typeof EDGES;

describe('a CDN of two nginx edges, configured only by what they pull', () => {
  const cdn = new TestCdn({
    edges: EDGES,
    serveArgs: ['--nginx-check', 'off', '--probe-interval', '1'],
  });
  // The agents' own nginx -t is what this test exercises: the control plane publishes without
  // checking (as on a control plane without nginx installed).
  let httpsOrigin: TestOrigin;
  let httpOrigin: TestOrigin;
  let caPem = '';
  const root = (edge: EdgeName) => cdn.root(edge);
  const get = (
    edge: EdgeName,
    path: string,
    host = 'shop.test',
    headers: Record<string, string> = {},
  ) => cdn.get(edge, path, host, headers);

  const specYaml = (extra: { aliases?: string[]; rawA?: string } = {}) => `
edges:
${cdn.edgeYaml('a')}    tags: [fast]
${extra.rawA ? `    raw_nginx: ${JSON.stringify(extra.rawA)}\n` : ''}${cdn.edgeYaml('b')}    tags: [slow]
    bandwidth_mbps: 30
sites:
  - domain: shop.test
    aliases: ${JSON.stringify(extra.aliases ?? [])}
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpsOrigin.port}
        protocol: https
        tls_server_name: origin.test
        tls_ca: ${JSON.stringify(caPem)}
    edges: [a, b]
    modifiers:
      - name: large-files
        edges: [b]
        match: {paths: ["/downloads/*"], extensions: [zip]}
        action: {type: redirect, status: 302, target: "https://static.shop.test{uri}"}
  - domain: wrong-name.test
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpsOrigin.port}
        protocol: https
        tls_server_name: not-the-origin.test
        tls_ca: ${JSON.stringify(caPem)}
    edges: ["*"]
  - domain: plain.test
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpOrigin.port}
        protocol: http
    edges: ["tag:fast"]
`;

  const apply = (yaml: string) => cdn.apply(yaml);
  const status = () => cdn.status();
  const allApplied = (after: Partial<Record<EdgeName, number>> = {}) => cdn.allApplied(after);

  beforeAll(async () => {
    mkdirSync(join(cdn.tmp.path, 'ca'));
    const ca = makeTestCa(join(cdn.tmp.path, 'ca'));
    caPem = ca.caCert;
    httpsOrigin = await startOrigin({
      tls: ca.issue('origin', ['origin.test']),
      routes: {
        '/slow.js': async (_req, res) => {
          await new Promise((r) => setTimeout(r, 500));
          res.setHeader('cache-control', 'max-age=300');
          res.end('slow');
        },
        '/assets/short.css': (_req, res) => {
          res.setHeader('cache-control', 'max-age=1');
          res.end('short-lived');
        },
      },
    });
    httpOrigin = await startOrigin({});
    await cdn.start();
    await apply(specYaml());
    await cdn.startAgents();
  }, 90_000);

  afterAll(async () => {
    await cdn.close();
    await httpsOrigin?.close();
    await httpOrigin?.close();
  });

  it('each edge names itself, caches static files once and never caches the API', async () => {
    for (const edge of ['a', 'b'] as const) {
      const before = httpsOrigin.count('/assets/app.js');
      const first = await get(edge, '/assets/app.js');
      const second = await get(edge, '/assets/app.js');
      expect(first.status).toBe(200);
      expect(first.body).toBe('origin says /assets/app.js');
      expect(first.headers['x-cdn-node']).toBe(edge);
      expect(first.headers['x-outpost-release']).toMatch(/^\d+$/);
      expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual([
        'MISS',
        'HIT',
      ]);
      expect(httpsOrigin.count('/assets/app.js') - before).toBe(1);

      const apiBefore = httpsOrigin.count('/api/x');
      const api1 = await get(edge, '/api/x');
      const api2 = await get(edge, '/api/x');
      expect(api1.body).toBe('api');
      expect(api2.headers['x-cache-status']).toBe('BYPASS');
      expect(httpsOrigin.count('/api/x') - apiBefore).toBe(2);
    }
  });

  it('reaches the origin over TLS with SNI origin.test, verified, and fails closed on a wrong name', async () => {
    const seen = httpsOrigin.seen.filter((s) => s.path === '/assets/app.js');
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.sni).toBe('origin.test');
      expect(s.host).toBe('shop.test'); // Host preserved
    }
    const before = httpsOrigin.seen.length;
    const wrong = await get('a', '/assets/app.js', 'wrong-name.test');
    expect(wrong.status).toBe(502);
    expect(wrong.headers['x-cdn-node']).toBe('a');
    expect(httpsOrigin.seen.length).toBe(before); // the handshake failed: no request reached it
  });

  it('serves an HTTP origin only on the edges its tag selects', async () => {
    const onA = await get('a', '/assets/plain.js', 'plain.test');
    expect(onA.status).toBe(200);
    expect(onA.body).toBe('origin says /assets/plain.js');
    const onB = await get('b', '/assets/plain.js', 'plain.test');
    expect(onB.status).toBe(421); // edge b does not serve plain.test
    expect(httpOrigin.count('/assets/plain.js')).toBe(1);
  });

  it('50 concurrent cold requests for one static object make one origin request', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('a', '/slow.js')));
    expect(answers.every((a) => a.status === 200 && a.body === 'slow')).toBe(true);
    expect(httpsOrigin.count('/slow.js')).toBe(1);
  });

  it('a modifier on edge b only: large files redirect on b and are proxied on a', async () => {
    const onB = await get('b', '/downloads/big.zip?v=2');
    expect(onB.status).toBe(302);
    expect(onB.headers.location).toBe('https://static.shop.test/downloads/big.zip?v=2');
    expect(onB.headers['x-cdn-node']).toBe('b');
    const onA = await get('a', '/downloads/big.zip');
    expect(onA.status).toBe(200);
    expect(onA.body).toBe('origin says /downloads/big.zip');
    const notZip = await get('b', '/downloads/readme.txt');
    expect(notZip.status).toBe(200);
  });

  it('wrong, revoked or another edge’s token: 401 and no bundle', async () => {
    const bundle = (token: string) =>
      fetch(`${cdn.cpUrl}/v1/edge/bundle`, { headers: { authorization: `Bearer ${token}` } });
    expect((await bundle('ope_not-a-token')).status).toBe(401);
    const noToken = await fetch(`${cdn.cpUrl}/v1/edge/bundle`);
    expect(noToken.status).toBe(401);
    expect(await noToken.text()).not.toContain('manifest');
    // Edge a's token yields edge a's bundle and nothing of b's.
    const ofA = await bundle(cdn.tokens.a as string);
    expect(ofA.status).toBe(200);
    const body = (await ofA.json()) as { manifest: string };
    expect(JSON.parse(body.manifest)).toMatchObject({ edge: 'a' });
    expect(body.manifest).not.toContain(EDGES.b);
    // A revoked token stops working at once; rotating gives the edge a new one.
    const c = await cdn.cli(['edge', 'add', 'c', '--ipv4', '127.0.0.4', '--paused']);
    const tokenC = /\n {2}(ope_\S+)\n/.exec(c.stdout)?.[1] as string;
    expect((await bundle(tokenC)).status).toBe(200);
    expect((await cdn.cli(['edge', 'revoke-token', 'c'])).code).toBe(0);
    expect((await bundle(tokenC)).status).toBe(401);
    expect((await cdn.cli(['edge', 'rm', 'c'])).code).toBe(0);
  });

  it('an apply that changes a site reaches both edges, and says how fast', async () => {
    const before = Object.fromEntries(
      (await status()).map((r) => [r.name, r.desired_release ?? 0]),
    );
    const started = Date.now();
    await apply(specYaml({ aliases: ['www.shop.test'] }));
    const rows = await allApplied(before);
    const ms = Date.now() - started;
    process.stdout.write(`apply → both edges applied: ${ms} ms (CLI start included)\n`);
    expect(rows.every((r) => r.state === 'ok')).toBe(true);
    for (const edge of ['a', 'b'] as const) {
      const r = await get(edge, '/assets/app.js', 'www.shop.test');
      expect(r.status).toBe(200);
      expect(r.headers['x-outpost-release']).toBe(
        String(rows.find((x) => x.name === edge)?.applied_release),
      );
    }
  });

  it('a release nginx rejects: the edge keeps serving the previous one and status shows the error', async () => {
    const previous = (await status()).find((r) => r.name === 'a')?.applied_release;
    await apply(specYaml({ aliases: ['www.shop.test'], rawA: 'this_is_not_a_directive on;' }));
    const row = await eventually('edge a to report the failure', async () => {
      const a = (await status()).find((r) => r.name === 'a');
      return a?.error ? a : undefined;
    });
    expect(row.state).toBe('error');
    expect(row.applied_release).toBe(previous);
    expect(row.error).toContain('unknown directive "this_is_not_a_directive"');
    const served = await get('a', '/assets/app.js');
    expect(served.status).toBe(200);
    expect(served.headers['x-outpost-release']).toBe(String(previous));
    const cli = await cdn.cli(['status']);
    expect(cli.stdout).toMatch(/\ba\s+error\s+\d+\/\d+\s+\d+s ago\s+nginx -t rejected release \d+/);
    // Fixing the spec publishes a newer release, which applies and clears the error.
    await apply(specYaml({ aliases: ['www.shop.test'] }));
    const fixed = await eventually('edge a to recover', async () => {
      const a = (await status()).find((r) => r.name === 'a');
      return a?.state === 'ok' && a.applied_release !== previous ? a : undefined;
    });
    expect(fixed.error).toBeNull();
  });

  it('traffic, connections and health reach the control plane and its metrics', async () => {
    const before = await status();
    const baseline = (
      before.find((r) => r.name === 'b') as unknown as { traffic: { requests: number } }
    ).traffic.requests;
    for (let i = 0; i < 5; i++) await get('b', '/assets/app.js');
    const row = await eventually('edge b to report the traffic', async () => {
      const b = (await status()).find((r) => r.name === 'b') as unknown as {
        traffic: { requests: number; hit_ratio: number | null; series: { requests: number }[] };
        health: string;
        active_connections: number | null;
        validation_ms: number | null;
      };
      return b.traffic.requests >= baseline + 5 && b.health === 'up' ? b : undefined;
    });
    expect(row.traffic.hit_ratio).toBeGreaterThan(0);
    expect(row.traffic.series.reduce((n, p) => n + p.requests, 0)).toBe(row.traffic.requests);
    expect(row.active_connections).toBeGreaterThanOrEqual(1); // its own stub_status request
    // The agent ran nginx -t on the release it applied and says how long it took.
    expect(row.validation_ms).toBeGreaterThan(0);
    const metrics = await (
      await fetch(`${cdn.cpUrl}/metrics`, {
        headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
      })
    ).text();
    expect(metrics).toMatch(
      /outpost_cache_total\{edge="b",site="shop.test",cache_status="HIT"\} \d+/,
    );
    expect(metrics).toMatch(/outpost_edge_up\{edge="a"\} 1/);
    expect(metrics).toMatch(/outpost_edge_config_lag_releases\{edge="a"\} 0/);
    const pub = (await (await fetch(`${cdn.cpUrl}/v1/public/status`)).json()) as {
      edges: unknown[];
    };
    expect(JSON.stringify(pub)).not.toContain('127.0.0');
    expect(pub.edges).toEqual([
      { name: 'a', state: 'ok', health: 'up' },
      { name: 'b', state: 'ok', health: 'up' },
    ]);
  });

  it('control plane down: edges keep serving, and an edge reboot serves its last good release', async () => {
    await cdn.cp.stop('SIGKILL');
    for (const edge of ['a', 'b'] as const) {
      const r = await get(edge, '/assets/app.js');
      expect(r.status).toBe(200);
      expect(r.headers['x-cdn-node']).toBe(edge);
    }
    // "Reboot" edge b: its agent and nginx go away, then the agent starts with no control plane.
    const releaseB = (await get('b', '/assets/app.js')).headers['x-outpost-release'];
    await cdn.agents.b?.stop('SIGKILL');
    cdn.stopProxy('b');
    await eventually(
      'edge b to go quiet',
      async () =>
        await get('b', '/assets/app.js').then(
          () => undefined,
          () => true,
        ),
    );
    cdn.startAgent('b');
    const back = await eventually('edge b to serve again', async () => {
      const r = await get('b', '/assets/app.js');
      return r.status === 200 ? r : undefined;
    });
    expect(back.headers['x-outpost-release']).toBe(releaseB);
  });

  it('control plane back: agents reconnect and take new releases', async () => {
    await cdn.startCp();
    const before = Object.fromEntries(
      (await status()).map((r) => [r.name, r.desired_release ?? 0]),
    );
    await apply(specYaml({ aliases: ['www.shop.test', 'shop2.test'] }));
    const rows = await allApplied(before);
    expect(rows.map((r) => r.state)).toEqual(['ok', 'ok']);
    expect((await get('b', '/assets/app.js', 'shop2.test')).status).toBe(200);
  }, 60_000);

  it('origin down: a cached object is served stale', async () => {
    const first = await get('a', '/assets/short.css');
    expect(first.headers['x-cache-status']).toBe('MISS');
    await httpsOrigin.close();
    // Fresh for max-age=1 (nginx keeps an object through the whole second it expires in), the
    // object is a HIT; once it expires the origin cannot answer and it is served stale.
    const stale = await eventually('the cached object to expire and be served stale', async () => {
      const r = await get('a', '/assets/short.css');
      if (r.headers['x-cache-status'] === 'HIT') return undefined;
      return r;
    });
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('short-lived');
    expect(stale.headers['x-cache-status']).toBe('STALE');
  });

  it('the agent keeps its state private and holds only its own edge', () => {
    const file = join(root('a'), 'agent.json');
    const state = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(state)).toMatchObject({ edge: 'a', failed: null });
    expect(state).not.toContain(cdn.tokens.a as string);
    // One file per site (nginx/sites/<domain>.conf): b serves no plain.test.
    const site = (edge: 'a' | 'b', domain: string) =>
      join(root(edge), 'live', 'release', 'nginx', 'sites', `${domain}.conf`);
    expect(readFileSync(site('a', 'shop.test'), 'utf8')).toContain('shop.test');
    expect(existsSync(site('b', 'plain.test'))).toBe(false);
  });
});
