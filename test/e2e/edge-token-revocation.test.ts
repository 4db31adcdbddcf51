// Issue 15, finding 1: a long-poll opened before its edge token is revoked or rotated ends with
// 401 at once, and never delivers the next release (with its keys). An in-process control plane
// (SQLite in memory) on a loopback port, polled over real HTTP as an agent does.
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { hashToken } from '../../src/http/tokens.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { SpecInput } from '../../src/spec/schema.js';

describe('edge token revocation ends open polls', { timeout: 30_000 }, () => {
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let base = '';
  let admin = '';
  let port = 9000;

  const spec = (): SpecInput => ({
    edges: [
      { name: 'fra1', host: { v4: '127.0.0.2' } },
      { name: 'sgp1', host: { v4: '127.0.0.3' } },
    ],
    sites: [
      {
        domain: 'revoke.test',
        // Nothing listens there; each change moves the port, so every edge gets a new release.
        origins: [{ host: { v4: '127.0.0.1' }, port, protocol: 'http' }],
        tls: { acme: false },
      },
    ],
  });
  const adminCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return (await res.json()) as Record<string, unknown>;
  };
  /** A change of desired state: a new release for every edge. */
  const change = async () => {
    port += 1;
    await adminCall('POST', '/v1/apply', { spec: spec() });
  };
  /** The edge's current bundle hash, polled with its token. */
  const currentHash = async (token: string): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${base}/v1/edge/poll?wait=0`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await res.body?.cancel();
      const etag = res.headers.get('etag');
      if (res.status === 200 && etag) return etag.replace(/"/g, '');
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no bundle was built');
  };
  const openPoll = (token: string, hash: string) => {
    const started = Date.now();
    const answer = fetch(`${base}/v1/edge/poll?wait=30`, {
      headers: { authorization: `Bearer ${token}`, 'if-none-match': `"${hash}"` },
    }).then(async (res) => ({
      status: res.status,
      body: await res.text(),
      ms: Date.now() - started,
    }));
    return answer;
  };
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: '0.0.0-test',
      probeIntervalMs: 60_000,
      probeTimeoutMs: 500,
      certificates: { checkIntervalMs: 600_000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const applied = (await adminCall('POST', '/v1/apply', { spec: spec() })) as {
      edge_tokens: Record<string, string>;
    };
    Object.assign(tokens, applied.edge_tokens);
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('DELETE /v1/edges/NAME/token ends an open poll with 401 at once; the next release is never sent', async () => {
    const token = tokens.fra1 ?? '';
    const hash = await currentHash(token);
    const poll = openPoll(token, hash);
    await new Promise((r) => setTimeout(r, 300)); // the poll is waiting
    await adminCall('DELETE', '/v1/edges/fra1/token');
    const answer = await poll;
    expect(answer.status).toBe(401);
    expect(answer.ms).toBeLessThan(5000);
    expect(answer.body).not.toContain('PRIVATE KEY');
    expect(answer.body).not.toContain('"bundle"');
    // The next release is built; the revoked token never gets it.
    await change();
    const after = await fetch(`${base}/v1/edge/poll?wait=0`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(401);
    expect(await after.text()).not.toContain('"bundle"');
  });

  it('rotating the token ends the old token’s open poll; the new token gets the next release', async () => {
    const old = tokens.sgp1 ?? '';
    const hash = await currentHash(old);
    const poll = openPoll(old, hash);
    await new Promise((r) => setTimeout(r, 300));
    const rotated = (await adminCall('POST', '/v1/edges/sgp1/token')) as { token: string };
    const answer = await poll;
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('"bundle"');
    const fresh = openPoll(rotated.token, hash);
    await new Promise((r) => setTimeout(r, 300));
    await change();
    const next = await fresh;
    expect(next.status).toBe(200);
    expect(next.body).toContain('"bundle"');
    tokens.sgp1 = rotated.token;
  });

  it('a token changed behind the server’s back (another control plane) is re-checked at send time', async () => {
    const token = tokens.sgp1 ?? '';
    const hash = await currentHash(token);
    const poll = openPoll(token, hash);
    await new Promise((r) => setTimeout(r, 300));
    // Straight in the store: this process's open polls are not told; the answer's re-check is.
    await store.setEdgeTokenHash('sgp1', hashToken('ope_other'), {
      actor: 'test',
      action: 'edge.token.rotate',
      subject: 'sgp1',
      detail: {},
    });
    await change();
    const answer = await poll;
    expect(answer.status).toBe(401);
    expect(answer.body).not.toContain('"bundle"');
    expect(answer.body).toContain('unauthorized');
  });
});
