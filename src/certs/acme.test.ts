// AcmeIssuer through the real acme-client, against a tiny ACME server on loopback that answers
// what a CA under load answers: a rate limit with Retry-After, or a 503.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { AcmeError, AcmeIssuer, parseRetryAfter, type ChallengeSolver } from './acme.js';

const noSolver: ChallengeSolver = {
  type: 'http-01',
  present: async () => undefined,
  waitUntilVisible: async () => undefined,
  cleanup: async () => undefined,
};

describe('AcmeIssuer against a CA that refuses', () => {
  let server: Server;
  let base = '';
  let store: Store;
  let requests = 0;
  let answer: { status: number; headers: Record<string, string>; body: unknown };

  beforeEach(async () => {
    requests = 0;
    store = await openSqliteStore(':memory:');
    server = createServer((req, res) => {
      if (req.url === '/dir') {
        res.setHeader('content-type', 'application/json');
        return res.end(
          JSON.stringify({
            newNonce: `${base}/nonce`,
            newAccount: `${base}/account`,
            newOrder: `${base}/order`,
          }),
        );
      }
      if (req.url === '/nonce') {
        res.setHeader('replay-nonce', `n${Date.now()}`);
        return res.end();
      }
      requests++;
      res.writeHead(answer.status, {
        'content-type': 'application/problem+json',
        'replay-nonce': `n${Date.now()}`,
        ...answer.headers,
      });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    await store.close();
  });

  const issuer = () =>
    new AcmeIssuer({
      store,
      settings: { email: 'ops@example.com', directory_url: `${base}/dir` },
      secretVars: {},
      poll: { minMs: 10, maxMs: 50, attempts: 3 },
    });

  it("a rate limit fails at once (no sleeping on the CA's Retry-After) and is classified", async () => {
    answer = {
      status: 429,
      headers: { 'retry-after': '3600' },
      body: {
        type: 'urn:ietf:params:acme:error:rateLimited',
        detail: 'too many new accounts from this address',
      },
    };
    const started = Date.now();
    const err = await issuer()
      .issue({ domain: 'shop.test', names: ['shop.test'] }, noSolver, () => undefined)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(AcmeError);
    const e = err as AcmeError;
    expect(e.message).toBe('too many new accounts from this address');
    expect([e.status, e.problemType, e.retryAfterSeconds, e.rateLimited]).toEqual([
      429,
      'urn:ietf:params:acme:error:rateLimited',
      3600,
      true,
    ]);
    expect(requests).toBe(1); // acme-client's own retries are off
    expect(await store.getSetting('acme.account')).toBeUndefined();
  });

  it('a 503 with an HTTP-date Retry-After, and an unreachable CA', async () => {
    answer = {
      status: 503,
      headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString() },
      body: { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'maintenance' },
    };
    const e = (await issuer()
      .issue({ domain: 'shop.test', names: ['shop.test'] }, noSolver, () => undefined)
      .catch((x: unknown) => x)) as AcmeError;
    expect([e.status, e.rateLimited]).toEqual([503, false]);
    expect(e.retryAfterSeconds).toBeGreaterThan(100);
    expect(e.retryAfterSeconds).toBeLessThanOrEqual(120);

    await new Promise((r) => server.close(r));
    const down = (await issuer()
      .issue({ domain: 'shop.test', names: ['shop.test'] }, noSolver, () => undefined)
      .catch((x: unknown) => x)) as AcmeError;
    expect(down.message).toBe(`cannot reach the CA at ${base}/dir: ECONNREFUSED`);
    expect(down.status).toBeUndefined();
    server = createServer().listen(0); // for afterEach
  });

  it('parses Retry-After as seconds or a date', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:10:00 GMT', now)).toBe(600);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
