// Runs the rendered configuration in a real nginx on a loopback address, in front of real
// origins, and checks what the golden files can only show: caching semantics, modifiers,
// headers, and origin TLS verification.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { request, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCa } from '../../test/support/tls.js';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { writeReleaseFiles } from '../proxy-check/nginx-check.js';
import { renderNginxMain } from '../proxy-check/nginx-main.js';
import { renderNginx } from './nginx.js';

const NGINX = '/usr/sbin/nginx';
const run = promisify(execFile);
const EDGE = '127.0.0.7';
const PORT = 18080;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(
  path: string,
  opts: { host?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: EDGE,
        port: PORT,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? 'www.example.com', ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('rendered config in a real nginx', () => {
  let root = '';
  let origin: Server;
  let tlsOrigin: Server;
  const seen: string[] = [];
  const nginxArgs = () => ['-p', `${root}/`, '-c', join(root, 'live', 'nginx.conf')];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'outpost-live-'));
    await chmod(root, 0o755); // nginx workers run as nobody when the test runs as root
    // A private CA and an origin certificate for origin.test.
    const pki = join(root, 'pki');
    await mkdir(pki);
    const testCa = makeTestCa(pki);
    const ca = testCa.caCert;
    const originCert = testCa.issue('origin', ['origin.test']);

    origin = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host}`);
      if (req.url?.startsWith('/assets/nostore')) res.setHeader('Cache-Control', 'no-store');
      if (req.url?.startsWith('/assets/private')) res.setHeader('Cache-Control', 'private');
      res.end(`body ${req.url}`);
    });
    tlsOrigin = createHttpsServer({ key: originCert.key, cert: originCert.cert }, (req, res) =>
      res.end(`tls ${req.url} host=${req.headers.host}`),
    );
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tlsOrigin.listen(0, '127.0.0.1', r));
    const port = (s: Server) => (s.address() as { port: number }).port;

    const tlsSite = (domain: string, name: string) => ({
      domain,
      origins: [
        { host: { v4: '127.0.0.1' }, port: port(tlsOrigin), tls_server_name: name, tls_ca: ca },
      ],
    });
    const spec = parseSpec({
      edges: [
        {
          name: 'live-1',
          host: { v4: EDGE },
          listen: { addresses: [EDGE], http: PORT, https: PORT + 363 },
        },
      ],
      sites: [
        {
          domain: 'www.example.com',
          origins: [{ host: { v4: '127.0.0.1' }, port: port(origin), protocol: 'http' }],
          cache: {
            rules: [
              { match: { paths: ['/api/*'] }, action: 'bypass' },
              { match: { paths: ['/assets/*'] }, ttl: 600 },
              { match: { extensions: ['js'] } },
            ],
          },
          modifiers: [
            {
              match: { paths: ['/downloads/*'], extensions: ['zip'] },
              action: { type: 'redirect', target: 'https://static.example.com{uri}' },
            },
            { match: { methods: ['DELETE'] }, action: { type: 'deny' } },
            {
              match: { paths: ['/x/*'] },
              action: { type: 'set_header', name: 'X-Test', value: "it's here" },
            },
            { match: { paths: ['/t/*'] }, action: { type: 'cache_ttl', ttl: 60 } },
          ],
        },
        tlsSite('tls.example.com', 'origin.test'),
        tlsSite('wrong.example.com', 'not-origin.test'),
      ],
    });
    const files = renderNginx(compileEdgePlan(spec, 'live-1'), { release: 42, certificates: [] });
    await writeReleaseFiles(join(root, 'releases', '42'), files);
    for (const d of ['live', 'logs', 'tmp', 'cache']) await mkdir(join(root, d));
    await writeFile(
      join(root, 'live', 'nginx.conf'),
      renderNginxMain({ edgeName: 'live-1', workerProcesses: 1 }),
    );
    await symlink(join('..', 'releases', '42'), join(root, 'live', 'release'));
    await run(NGINX, nginxArgs());
    for (let i = 0; i < 50 && !existsSync(join(root, 'logs', 'nginx.pid')); i++)
      await new Promise((r) => setTimeout(r, 20));
  }, 30_000);

  afterAll(async () => {
    if (existsSync(join(root, 'logs', 'nginx.pid')))
      await run(NGINX, [...nginxArgs(), '-s', 'stop']);
    origin?.close();
    tlsOrigin?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('caches rule matches: MISS then HIT, ttl used when the origin sends no caching headers', async () => {
    const a = await get('/assets/a%20b.png?q=1');
    const b = await get('/assets/a%20b.png?q=1');
    expect([a.status, a.headers['x-cache-status'], b.headers['x-cache-status']]).toEqual([
      200,
      'MISS',
      'HIT',
    ]);
    expect(a.body).toBe('body /assets/a%20b.png?q=1'); // the raw URI reaches the origin
    expect(a.headers['x-cdn-node']).toBe('live-1');
    expect(a.headers['x-outpost-release']).toBe('42');
  });

  it('never overrides no-store or private with a rule ttl', async () => {
    for (const p of ['/assets/nostore.png', '/assets/private.png']) {
      await get(p);
      expect((await get(p)).headers['x-cache-status']).toBe('MISS');
    }
  });

  it('a rule without ttl caches only what the origin allows', async () => {
    await get('/app.js');
    expect((await get('/app.js')).headers['x-cache-status']).toBe('MISS');
  });

  it('bypasses the cache for Authorization, bypass rules and unmatched paths', async () => {
    await get('/assets/auth.png');
    const auth = await get('/assets/auth.png', { headers: { authorization: 'Bearer x' } });
    expect(auth.headers['x-cache-status']).toBe('BYPASS');
    expect((await get('/api/x.js')).headers['x-cache-status']).toBe('BYPASS');
    expect((await get('/page')).headers['x-cache-status']).toBe('BYPASS');
  });

  it('applies modifiers: redirect, deny, set_header, cache_ttl', async () => {
    const r = await get('/downloads/big.zip?v=2');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://static.example.com/downloads/big.zip?v=2');
    expect(r.headers['x-cache-status']).toBe('EDGE');
    expect(r.headers['x-outpost-release']).toBe('42');
    const d = await get('/anything', { method: 'DELETE' });
    expect([d.status, d.headers['x-cdn-node']]).toEqual([403, 'live-1']);
    expect((await get('/x/y')).headers['x-test']).toBe("it's here");
    await get('/t/z');
    expect((await get('/t/z')).headers['x-cache-status']).toBe('HIT');
  });

  it('answers unknown hosts with 421 and the release headers', async () => {
    const r = await get('/', { host: 'unknown.example' });
    expect([r.status, r.headers['x-outpost-release'], r.headers['x-cache-status']]).toEqual([
      421,
      '42',
      'EDGE',
    ]);
  });

  // DNS health (issue 12): the edge answers its own health, locally, with its release.
  it('answers the DNS health check itself on the default server', async () => {
    const r = await get('/.well-known/outpost/health', { host: 'health.outpost.invalid' });
    expect([r.status, r.body, r.headers['x-outpost-release']]).toEqual([
      200,
      'outpost edge ok release 42',
      '42',
    ]);
  });

  it('verifies the HTTPS origin against its CA with the configured name, and fails closed', async () => {
    const ok = await get('/hello', { host: 'tls.example.com' });
    expect([ok.status, ok.body]).toEqual([200, 'tls /hello host=tls.example.com']);
    const wrong = await get('/hello', { host: 'wrong.example.com' });
    expect(wrong.status).toBe(502);
  });
});
