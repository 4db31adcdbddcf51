// Failed UI logins over real HTTP (issue 15): limited per user name (from any address) and per
// client address (for any name) with 429 and Retry-After, before the password is checked, so
// the right password does not get through while the limit holds.
import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { token?: string; error?: { code: string; message: string } };
}

describe('POST /v1/login under guessing', () => {
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let port = 0;

  /** A login sent from `from` (a loopback address), as a browser would post it. */
  const login = (user: string, password: string, from = '127.0.0.1'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ user, password });
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/login',
          method: 'POST',
          localAddress: from,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'],
              body: JSON.parse(text) as Answer['body'],
            }),
          );
        },
      );
      req.once('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    const admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:1',
      version: 'test',
      clientLimits: {
        maxLoginFailuresPerUser: 3,
        maxLoginFailuresPerClient: 5,
        loginFailureWindowMs: 60_000,
      },
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(base).port);
    for (const name of ['ops', 'dev']) {
      const res = await fetch(`${base}/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, password: 'correct horse battery', scopes: ['read'] }),
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('one name guessed from three addresses: 429 with Retry-After, even with the right password', async () => {
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
      expect((await login('ops', 'wrong guess', from)).status).toBe(401);
    const refused = await login('ops', 'correct horse battery', '127.0.0.5');
    expect(refused.status).toBe(429);
    expect(refused.body.token).toBeUndefined();
    expect(refused.body.error?.code).toBe('too_many_requests');
    expect(refused.body.error?.message).toMatch(
      /^too many failed logins for user "ops"; try again in \d+ s$/,
    );
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    // Another user logs in from the same addresses.
    const dev = await login('dev', 'correct horse battery', '127.0.0.2');
    expect(dev.status).toBe(200);
    expect(dev.body.token).toMatch(/^ops_/);
    // The refusals are in the audit log as failures, the limited one is not checked at all.
    const failed = (await store.listEvents({ limit: 100 })).filter(
      (e) => e.action === 'login.failed' && e.subject === 'ops',
    );
    expect(failed.map((e) => e.address).sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
  });

  it('many names from one address: that address is refused for any name, others are not', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      expect((await login(name, 'wrong guess', '127.0.0.6')).status).toBe(401);
    const refused = await login('dev', 'correct horse battery', '127.0.0.6');
    expect(refused.status).toBe(429);
    expect(refused.body.error?.message).toMatch(
      /^too many failed logins from 127\.0\.0\.6; try again in \d+ s$/,
    );
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect((await login('dev', 'correct horse battery', '127.0.0.7')).status).toBe(200);
  });
});
