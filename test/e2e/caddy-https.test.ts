// The same answers from a Caddy edge and an nginx edge (issue 21): a served SNI name with
// another Host over HTTPS gets 421, one Server header (the edge's, never the origin's too), and
// the ACME challenge path carries the same X-Cache-Status (BYPASS: proxied, uncached).
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { makeTestCa } from '../support/tls.js';

const EDGES = { n: '127.0.0.73', c: '127.0.0.74' } as const;
const SITE = 'both.test';

/** GET over HTTPS with SNI `sni` and Host `host`; raw header lines (to count duplicates). */
function httpsGet(
  address: string,
  port: number,
  sni: string,
  host: string,
  path = '/',
): Promise<{ status: number; raw: string[]; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, path, servername: sni, headers: { host }, rejectUnauthorized: false },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS answers agree on Caddy and nginx edges', () => {
  const cdn = new TestCdn({ edges: EDGES, agentArgs: ['--caddy', '/usr/bin/caddy'] });
  let origin: TestOrigin;

  beforeAll(async () => {
    origin = await startOrigin({
      routes: {
        '/': (_req, res) => {
          res.setHeader('server', 'OriginServer/1.0');
          res.end('home');
        },
        '/.well-known/acme-challenge/tok': (_req, res) => {
          res.setHeader('server', 'OriginServer/1.0');
          res.end('tok.thumb');
        },
      },
    });
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('n')}${cdn.edgeYaml('c')}    proxy: caddy
sites:
  - domain: ${SITE}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    https: {redirect_http: false}
`);
    await cdn.startAgents();
    const dir = join(cdn.tmp.path, 'ca');
    mkdirSync(dir);
    const ca = makeTestCa(dir);
    const leaf = ca.issue('both', [SITE]);
    writeFileSync(join(dir, 'both.crt'), leaf.cert + ca.caCert);
    writeFileSync(join(dir, 'both.key'), leaf.key, { mode: 0o600 });
    const before = await cdn.releases();
    const up = await cdn.cli([
      'cert',
      'upload',
      SITE,
      '--cert',
      join(dir, 'both.crt'),
      '--key',
      join(dir, 'both.key'),
    ]);
    expect(up.stderr).toBe('');
    await cdn.allApplied(before);
  }, 120_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  for (const edge of ['n', 'c'] as const) {
    it(`${edge}: a served SNI name with another Host gets 421 with the release headers`, async () => {
      const r = await httpsGet(EDGES[edge], cdn.edgePort + 1, SITE, 'other.test');
      expect(r.status).toBe(421);
      expect(r.headers['x-outpost-release']).toBeDefined();
      expect(r.headers['x-cdn-node']).toBe(edge);
      const ok = await httpsGet(EDGES[edge], cdn.edgePort + 1, SITE, SITE);
      expect(ok.status).toBe(200);
    });

    it(`${edge}: one Server header, never the origin's`, async () => {
      for (const tls of [true, false]) {
        const r = tls
          ? await httpsGet(EDGES[edge], cdn.edgePort + 1, SITE, SITE)
          : await cdn.get(edge, '/', SITE).then((a) => ({
              status: a.status,
              raw: Object.entries(a.headers).flat(),
              headers: a.headers,
            }));
        const servers = r.raw.filter((_, i) => i % 2 === 0 && r.raw[i]?.toLowerCase() === 'server');
        expect(servers.length, `${edge} tls=${tls}`).toBeLessThanOrEqual(1);
        expect(JSON.stringify(r.headers.server ?? null)).not.toContain('OriginServer');
      }
    });

    it(`${edge}: the ACME challenge path is BYPASS`, async () => {
      const r = await cdn.get(edge, '/.well-known/acme-challenge/tok', SITE);
      // Proxied to the control plane (it answers HTTP-01 for every edge): no such token here.
      expect(r.body).toBe('no such challenge\n');
      expect(r.status).toBe(404);
      expect(r.headers['x-cache-status']).toBe('BYPASS');
    });
  }
});
