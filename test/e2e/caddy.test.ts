// A Caddy edge beside an nginx edge, behind one control plane: the distribution's Caddy (no
// cache module) on 127.0.0.22 and nginx on 127.0.0.21, each driven by a real `outpost agent`,
// both proxying to an HTTPS origin whose certificate is for origin.test (from a test CA).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { TestCdn, type EdgeStatusRow } from '../support/cdn.js';
import { makeTestCa } from '../support/tls.js';

const CADDY = '/usr/bin/caddy';
const EDGES = { n: '127.0.0.21', c: '127.0.0.22' } as const;
type EdgeName = keyof typeof EDGES;
/** TEST-NET-1: on no interface, so a Caddy config that binds it cannot load. */
const UNBINDABLE = '192.0.2.1';

/** A status row with what it says about the proxy. */
interface ProxyStatusRow extends EdgeStatusRow {
  proxy: string;
  cache: boolean | null;
  note: string | null;
}

describe('a Caddy edge and an nginx edge behind one control plane', () => {
  const cdn = new TestCdn({
    edges: EDGES,
    // The edges' own validation is what this test exercises.
    serveArgs: ['--nginx-check', 'off', '--caddy-check', 'off'],
    agentArgs: ['--caddy', CADDY],
  });
  let origin: TestOrigin;
  let caPem = '';

  const root = (edge: EdgeName) => cdn.root(edge);
  const get = (edge: EdgeName, path: string, host = 'shop.test') => cdn.get(edge, path, host);

  const specYaml = (extra: { caddyAddresses?: string[] } = {}) => `
edges:
${cdn.edgeYaml('n')}${cdn.edgeYaml('c', extra.caddyAddresses)}    proxy: caddy
sites:
  - domain: shop.test
    origins:
      - host: {v4: 127.0.0.1}
        port: ${origin.port}
        protocol: https
        tls_server_name: origin.test
        tls_ca: ${JSON.stringify(caPem)}
    modifiers:
      - name: large-files
        match: {paths: ["/downloads/*"], extensions: [zip]}
        action: {type: redirect, status: 302, target: "https://static.shop.test{uri}"}
`;

  const apply = (yaml: string) => cdn.apply(yaml);
  const status = async () => (await cdn.status()) as ProxyStatusRow[];
  const row = async (edge: EdgeName) => (await status()).find((r) => r.name === edge);
  const startAgent = (edge: EdgeName) => cdn.startAgent(edge);

  beforeAll(async () => {
    mkdirSync(join(cdn.tmp.path, 'ca'));
    const ca = makeTestCa(join(cdn.tmp.path, 'ca'));
    caPem = ca.caCert;
    origin = await startOrigin({ tls: ca.issue('origin', ['origin.test']) });
    await cdn.start();
    await apply(specYaml());
    await cdn.startAgents();
  }, 60_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('both edges serve the site over HTTPS to the origin with SNI origin.test, each naming itself', async () => {
    for (const edge of ['n', 'c'] as const) {
      const r = await get(edge, '/assets/app.js');
      expect(r.status).toBe(200);
      expect(r.body).toBe('origin says /assets/app.js');
      expect(r.headers['x-cdn-node']).toBe(edge);
      expect(r.headers['x-outpost-release']).toMatch(/^\d+$/);
    }
    const seen = origin.seen.filter((s) => s.path === '/assets/app.js');
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.sni).toBe('origin.test');
      expect(s.host).toBe('shop.test');
    }
    // The distribution's Caddy has no cache module: it proxies every request.
    const again = await get('c', '/assets/app.js');
    expect(again.headers['x-cache-status']).toBe('BYPASS');
    expect(origin.count('/assets/app.js')).toBe(3);
    expect((await get('n', '/assets/app.js')).headers['x-cache-status']).toBe('HIT');
    expect(origin.count('/assets/app.js')).toBe(3);
  });

  it('the modifier redirect answers on both, from the edge', async () => {
    for (const edge of ['n', 'c'] as const) {
      const r = await get(edge, '/downloads/big.zip?v=2');
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('https://static.shop.test/downloads/big.zip?v=2');
      expect(r.headers['x-cdn-node']).toBe(edge);
      expect(r.headers['x-cache-status']).toBe('EDGE');
      expect((await get(edge, '/downloads/readme.txt')).status).toBe(200);
    }
    expect(origin.count('/downloads/big.zip')).toBe(0);
  });

  it('Caddy answers unknown hosts with 421 and the release, and binds only its address', async () => {
    const r = await get('c', '/', 'unknown.test');
    expect(r.status).toBe(421);
    expect(r.headers['x-cdn-node']).toBe('c');
    expect(r.headers['x-outpost-release']).toBe(String((await row('c'))?.applied_release));
    await expect(
      httpGet(`http://127.0.0.1:${cdn.edgePort}/`, { host: 'shop.test' }),
    ).rejects.toThrow();
  });

  it('status says plainly that the Caddy edge proxies without caching', async () => {
    const c = await eventually('edge c to report its capabilities', async () => {
      const r = await row('c');
      return r?.cache === false ? r : undefined;
    });
    expect(c).toMatchObject({ proxy: 'caddy', state: 'ok' });
    expect(c.note).toContain('without caching');
    expect(await row('n')).toMatchObject({ proxy: 'nginx', cache: true, note: null });
    const cli = await cdn.cli(['status']);
    expect(cli.stdout).toMatch(/NOTE c: Caddy without the cache module .* without caching/);
    expect(cli.stdout).not.toMatch(/NOTE n:/);
  });

  it('a Caddy release that cannot load is rolled back: the previous one keeps serving', async () => {
    const previous = (await row('c'))?.applied_release;
    expect(previous).toBeTypeOf('number');
    await apply(specYaml({ caddyAddresses: [EDGES.c, UNBINDABLE] }));
    const failed = await eventually('edge c to report the failure', async () => {
      const r = await row('c');
      return r?.error ? r : undefined;
    });
    expect(failed.state).toBe('error');
    expect(failed.applied_release).toBe(previous);
    expect(failed.error).toContain('did not go live');
    expect(failed.error).toContain(UNBINDABLE);
    // Only the previous release answers (Caddy was restarted on it: no server of the refused
    // config is left accepting connections).
    for (let i = 0; i < 20; i++) {
      const served = await get('c', '/assets/app.js');
      expect(served.status).toBe(200);
      expect(served.headers['x-outpost-release']).toBe(String(previous));
    }
    // Fixing the spec publishes a newer release, which applies and clears the error.
    await apply(specYaml());
    const fixed = await eventually('edge c to recover', async () => {
      const r = await row('c');
      return r?.state === 'ok' && r.applied_release !== previous ? r : undefined;
    });
    expect(fixed.error).toBeNull();
    for (let i = 0; i < 20; i++)
      expect((await get('c', '/assets/app.js')).headers['x-outpost-release']).toBe(
        String(fixed.applied_release),
      );
  });

  it('after a restart, the agent starts Caddy on the last good release', async () => {
    const release = (await get('c', '/assets/app.js')).headers['x-outpost-release'];
    await cdn.agents.c?.stop('SIGKILL');
    process.kill(Number(readFileSync(join(root('c'), 'logs', 'caddy.pid'), 'utf8').trim()));
    await eventually('Caddy to stop', () =>
      get('c', '/assets/app.js').then(
        () => undefined,
        () => true,
      ),
    );
    startAgent('c');
    const back = await eventually('edge c to serve again', async () => {
      const r = await get('c', '/assets/app.js');
      return r.status === 200 ? r : undefined;
    });
    expect(back.headers['x-outpost-release']).toBe(release);
  });
});
