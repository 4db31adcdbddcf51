// Issue 15, finding 4: the control plane's HTTP server cuts off slow bodies, limits the
// connections per client address, and answers 429 with Retry-After after repeated failed
// authentications. An in-process control plane on a loopback port, with tightened limits.
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';

describe('control plane server limits', { timeout: 30_000 }, () => {
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let port = 0;
  let admin = '';

  beforeAll(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: '0.0.0-test',
      probeIntervalMs: 60_000,
      certificates: { checkIntervalMs: 600_000 },
      timeouts: { requestTimeoutMs: 1_500, headersTimeoutMs: 1_000, checkIntervalMs: 250 },
      clientLimits: { maxConnectionsPerClient: 30, maxAuthFailures: 5, authFailureWindowMs: 3_000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  /** A socket to the server; resolves when it is connected. */
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  /** Milliseconds until the server closes the socket (or `limit` passes: Infinity). */
  const closedAfter = (s: Socket, limit: number) => {
    const started = Date.now();
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Infinity), limit);
      s.on('data', () => undefined);
      s.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      });
      s.on('error', () => undefined);
    });
  };

  it('cuts off 20 clients that send a body slowly within the request timeout', async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, open));
    const drips: NodeJS.Timeout[] = [];
    for (const s of sockets) {
      s.write(
        `POST /v1/apply HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nAuthorization: Bearer ${admin}\r\n\r\n{`,
      );
      drips.push(setInterval(() => s.writable && s.write(' '), 100));
    }
    const times = await Promise.all(sockets.map((s) => closedAfter(s, 60_000)));
    drips.forEach(clearInterval);
    // requestTimeout 1.5 s: the server closes every one of them (before: held for minutes).
    // The bound is generous on purpose: a loaded machine delays the timers, and a timing is
    // not what this test is about.
    expect(times.filter((t) => !Number.isFinite(t))).toEqual([]);
    expect(Math.max(...times)).toBeLessThan(60_000);
  });

  it('closes a client that sends no headers within the header timeout', async () => {
    const s = await open();
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never ends the headers
    expect(await closedAfter(s, 10_000)).toBeLessThan(5_000);
  });

  it('closes connections beyond the per-client limit at once', async () => {
    const sockets = await Promise.all(Array.from({ length: 40 }, open));
    const times = await Promise.all(sockets.map((s) => closedAfter(s, 800)));
    const cut = times.filter((t) => t !== Infinity).length;
    expect(cut).toBeGreaterThanOrEqual(10);
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 200));
  });

  it('answers 429 with Retry-After after 5 bad admin tokens, for the window; the edge API is separate', async () => {
    const call = (token: string, path = '/v1/state') =>
      fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 5; i++) expect((await call(`opa_wrong${i}`)).status).toBe(401);
    const limited = await call('opa_wrong5');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe(
      'too_many_requests',
    );
    // Even the right token waits: guessing must not go on while locked out.
    expect((await call(admin)).status).toBe(429);
    // The edge API counts its own failures.
    expect((await call('ope_wrong', '/v1/edge/hello')).status).toBe(401);
    // After the window the admin may try again.
    await new Promise((r) => setTimeout(r, 3_100));
    expect((await call(admin)).status).toBe(200);
  });
});
