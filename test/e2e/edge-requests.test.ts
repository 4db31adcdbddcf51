// Requests that must work through every edge (issue 13): WebSocket upgrades over ws and wss on
// an nginx and a Caddy edge (each driven by a real agent), kept-alive origin connections for
// every other request, the per-site read timeout against a hanging origin (504, or the stale
// copy), non-HTTP bytes from an origin (502, never relayed), and the client's address to the
// origin (X-Forwarded-For, X-Real-IP, Forwarded; real_ip_from).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
} from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { httpGet } from '../support/http.js';
import { makeTestCa } from '../support/tls.js';
import { attachWebSocketEcho, openWebSocket, type SeenUpgrade } from '../support/websocket.js';

const CADDY = '/usr/bin/caddy';
const EDGES = { n: '127.0.0.41', c: '127.0.0.42' } as const;
type EdgeName = keyof typeof EDGES;
/** The only client address edge n trusts for X-Forwarded-For. */
const TRUSTED_PROXY = '127.0.0.99';
const GARBAGE = 'SSH-2.0-OpenSSH_9.2 not-http\r\nthese bytes must never reach a client\r\n';

interface SeenRequest {
  path: string;
  port: number;
  headers: IncomingMessage['headers'];
}

describe('requests through nginx and Caddy edges', () => {
  const cdn = new TestCdn({ edges: EDGES, agentArgs: ['--caddy', CADDY] });
  const seen: SeenRequest[] = [];
  const upgrades: SeenUpgrade[] = [];
  const origin = createServer();
  let originPort = 0;
  let garbage: NetServer;
  let garbagePort = 0;
  let caPem = '';
  let staleHangs = false;
  let staleVersion = 0;
  let closeUpgrades = () => {};

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/plain': (_req, res) => res.end('plain'),
    '/hang': () => undefined,
    '/stale/x': (_req, res) => {
      if (staleHangs) return;
      staleVersion++;
      res.setHeader('cache-control', 'max-age=1');
      res.end(`version ${staleVersion}`);
    },
  };

  const get = (edge: EdgeName, path: string, host: string, localAddress?: string) =>
    httpGet(`http://${cdn.address(edge)}:${cdn.edgePort}${path}`, {
      host,
      timeoutMs: 20_000,
      ...(localAddress ? { localAddress } : {}),
    });
  const wsUrl = (edge: EdgeName, tls: boolean) =>
    tls
      ? `wss://${cdn.address(edge)}:${cdn.edgePort + 1}/chat?room=1`
      : `ws://${cdn.address(edge)}:${cdn.edgePort}/chat?room=1`;

  beforeAll(async () => {
    origin.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      seen.push({ path, port: req.socket.remotePort ?? 0, headers: req.headers });
      const route = routes[path];
      if (route) route(req, res);
      else res.end(`origin says ${path}`);
    });
    closeUpgrades = attachWebSocketEcho(origin, upgrades).close;
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
    garbage = createNetServer((socket) => {
      socket.on('data', () => socket.end(GARBAGE));
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    garbagePort = (garbage.address() as AddressInfo).port;

    await cdn.start();
    const http = (port: number) =>
      `origins: [{host: {v4: 127.0.0.1}, port: ${port}, protocol: http}]`;
    await cdn.apply(`
edges:
${cdn.edgeYaml('n')}    real_ip_from: [${TRUSTED_PROXY}]
${cdn.edgeYaml('c')}    proxy: caddy
sites:
  - domain: ws.test
    ${http(originPort)}
    timeouts: {read: 2}
    https: {redirect_http: false}
  - domain: hang.test
    ${http(originPort)}
    timeouts: {connect: 2, read: 2}
    cache:
      rules: [{match: {paths: ['/stale/*']}}]
  - domain: garbage.test
    ${http(garbagePort)}
`);
    await cdn.startAgents();
    // A certificate for ws.test from a test CA, uploaded: both edges then serve it over TLS.
    const dir = join(cdn.tmp.path, 'ca');
    mkdirSync(dir);
    const ca = makeTestCa(dir);
    caPem = ca.caCert;
    const leaf = ca.issue('ws', ['ws.test']);
    writeFileSync(join(dir, 'ws.crt'), leaf.cert + ca.caCert);
    writeFileSync(join(dir, 'ws.key'), leaf.key, { mode: 0o600 });
    const before = await cdn.releases();
    const up = await cdn.cli([
      'cert',
      'upload',
      'ws.test',
      '--cert',
      join(dir, 'ws.crt'),
      '--key',
      join(dir, 'ws.key'),
    ]);
    expect(up.stderr).toBe('');
    await cdn.allApplied(before);
  }, 90_000);

  afterAll(async () => {
    closeUpgrades();
    await cdn.close();
    closeUpgrades();
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
    await new Promise((resolve) => garbage?.close(resolve));
  });

  for (const edge of ['n', 'c'] as const)
    for (const tls of [false, true])
      it(`WebSocket over ${tls ? 'wss' : 'ws'} through the ${edge === 'n' ? 'nginx' : 'Caddy'} edge: 101, echo, idle beyond the read timeout`, async () => {
        const count = upgrades.length;
        const ws = await openWebSocket(wsUrl(edge, tls), { host: 'ws.test', ca: caPem });
        try {
          expect(ws.status).toBe(101);
          expect(await ws.send('hello')).toBe('echo: hello');
          expect(upgrades.slice(count).map((u) => [u.path, u.host, u.upgrade])).toEqual([
            ['/chat?room=1', 'ws.test', 'websocket'],
          ]);
          // Idle for longer than the site's read timeout (2 s): an upgraded connection has
          // the long `upgraded` timeout, so it is still open.
          await new Promise((r) => setTimeout(r, 3000));
          expect(await ws.send('still there')).toBe('echo: still there');
        } finally {
          ws.close();
        }
      }, 30_000);

  it('ordinary requests keep the connection to the origin alive (nginx sends no Connection: upgrade)', async () => {
    const from = seen.length;
    for (let i = 0; i < 3; i++) expect((await get('n', '/plain', 'ws.test')).body).toBe('plain');
    const mine = seen.slice(from).filter((s) => s.path === '/plain');
    expect(mine).toHaveLength(3);
    expect(mine.map((s) => s.headers.connection)).toEqual([undefined, undefined, undefined]);
    expect(mine.map((s) => s.headers.upgrade)).toEqual([undefined, undefined, undefined]);
    // One upstream connection served all three.
    expect(new Set(mine.map((s) => s.port)).size).toBe(1);
  });

  for (const edge of ['n', 'c'] as const)
    it(`a hanging origin: ${edge === 'n' ? 'nginx' : 'Caddy'} answers 504 after the site's read timeout (2 s), not nginx's 60 s`, async () => {
      const start = Date.now();
      const r = await get(edge, '/hang', 'hang.test');
      const took = Date.now() - start;
      expect(r.status).toBe(504);
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(15_000);
    }, 30_000);

  it('a hanging origin with an expired cached copy: STALE once the read timeout has passed', async () => {
    expect((await get('n', '/stale/x', 'hang.test')).headers['x-cache-status']).toBe('MISS');
    const hit = await get('n', '/stale/x', 'hang.test');
    expect([hit.headers['x-cache-status'], hit.body]).toEqual(['HIT', 'version 1']);
    // nginx counts lifetimes in whole seconds: max-age=1 has surely passed after 2.2 s.
    await new Promise((r) => setTimeout(r, 2200));
    staleHangs = true;
    try {
      const start = Date.now();
      const stale = await get('n', '/stale/x', 'hang.test');
      const took = Date.now() - start;
      expect([stale.status, stale.headers['x-cache-status'], stale.body]).toEqual([
        200,
        'STALE',
        'version 1',
      ]);
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(15_000);
    } finally {
      staleHangs = false;
    }
  }, 30_000);

  for (const edge of ['n', 'c'] as const)
    it(`an origin answering non-HTTP bytes: ${edge === 'n' ? 'nginx' : 'Caddy'} answers 502 and relays none of them`, async () => {
      const r = await get(edge, '/page', 'garbage.test');
      expect(r.status).toBe(502);
      expect(r.body).not.toContain('SSH-2.0');
      expect(r.body).not.toContain('never reach a client');
    });

  it('the origin learns the client address: X-Forwarded-For, X-Real-IP, Forwarded', async () => {
    const from = seen.length;
    await get('n', '/who', 'ws.test');
    await get('c', '/who', 'ws.test');
    const [viaNginx, viaCaddy] = seen.slice(from).map((s) => s.headers);
    expect(viaNginx?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(viaNginx?.['x-real-ip']).toBe('127.0.0.1');
    expect(viaNginx?.['x-forwarded-proto']).toBe('http');
    expect(viaNginx?.forwarded).toBe('for=127.0.0.1;host=ws.test;proto=http');
    expect(viaCaddy?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(viaCaddy?.['x-real-ip']).toBe('127.0.0.1');
  });

  it('real_ip_from: X-Forwarded-For names the client only when a trusted proxy sent it', async () => {
    const from = seen.length;
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    const ask = (localAddress: string) =>
      httpGet(`http://${cdn.address('n')}:${cdn.edgePort}/who`, {
        host: 'ws.test',
        headers,
        localAddress,
      });
    await ask(TRUSTED_PROXY);
    await ask('127.0.0.1');
    const [trusted, untrusted] = seen.slice(from).map((s) => s.headers);
    expect(trusted?.['x-real-ip']).toBe('203.0.113.9');
    expect(trusted?.forwarded).toBe('for=203.0.113.9;host=ws.test;proto=http');
    expect(untrusted?.['x-real-ip']).toBe('127.0.0.1');
    expect(untrusted?.['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  for (const edge of ['n', 'c'] as const)
    it(`HTTP/2 on the TLS site through the ${edge === 'n' ? 'nginx' : 'Caddy'} edge${edge === 'c' ? ', HTTP/3 announced' : ''}`, async () => {
      const session = connectHttp2(`https://${cdn.address(edge)}:${cdn.edgePort + 1}`, {
        servername: 'ws.test',
        ca: caPem,
      });
      try {
        const answer = await new Promise<{
          alpn: string;
          status: number;
          altSvc: string;
          body: string;
        }>((resolve, reject) => {
          session.once('error', reject);
          const req = session.request({ ':path': '/plain', ':authority': 'ws.test' });
          let body = '';
          let status = 0;
          let altSvc = '';
          req.on('response', (h) => {
            status = Number(h[':status']);
            altSvc = String(h['alt-svc'] ?? '');
          });
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.once('end', () =>
            resolve({ alpn: session.alpnProtocol ?? '', status, altSvc, body }),
          );
          req.once('error', reject);
          req.end();
        });
        expect([answer.alpn, answer.status, answer.body]).toEqual(['h2', 200, 'plain']);
        if (edge === 'c') expect(answer.altSvc).toMatch(/\bh3=":\d+"/);
        else expect(answer.altSvc).toBe('');
      } finally {
        session.close();
      }
    });
});
