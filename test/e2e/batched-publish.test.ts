// Issue 14 (a change reaches 1,000 edges fast): a build publishes its bundles in batches, so the
// first edges' long-polls are answered while the rest of the build is still being saved; a
// token revoked or changed while a poll waits still gets 401, never the bundle. An in-process
// control plane (SQLite in memory) on a loopback port, polled over real HTTP as an agent does;
// the store is the real one, its second batch of a build held at a gate so that "before the
// last edge is saved" is a state the test can look at rather than a race.
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISH_EVERY_EDGES } from '../../src/edges/builder.js';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { hashToken } from '../../src/http/tokens.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { SpecInput } from '../../src/spec/schema.js';

/** Three batches' worth: the last edge is in a later batch than the first. */
const EDGES = PUBLISH_EVERY_EDGES * 2 + 20;
const edgeName = (i: number) => `e${String(i + 1).padStart(3, '0')}`;

describe('batched publishing', { timeout: 60_000 }, () => {
  let real: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let base = '';
  let admin = '';
  let port = 9000;
  const tokens: Record<string, string> = {};
  /** saveBundles calls of the current build while armed; the second waits for `release`. */
  let gate:
    { calls: number; held: Promise<void>; release: () => void; reached: () => void } | undefined;
  let reachedGate: Promise<void> = Promise.resolve();

  const spec = (): SpecInput => ({
    edges: Array.from({ length: EDGES }, (_, i) => ({
      name: edgeName(i),
      // Loopback addresses only (probes are off: nothing is sent there).
      host: { v4: `127.0.${1 + (i >> 8)}.${(i & 255) + 1}` },
    })),
    sites: [
      {
        domain: 'batch.test',
        // Nothing listens there; each change moves the port: a new release for every edge.
        origins: [{ host: { v4: '127.0.0.1' }, port, protocol: 'http' }],
        tls: { acme: false },
      },
    ],
  });
  const apply = () =>
    fetch(`${base}/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: spec() }),
    });
  const poll = (edge: string, hash: string | undefined, wait: number) => {
    const started = Date.now();
    let settled = false;
    const answer = fetch(`${base}/v1/edge/poll?wait=${wait}`, {
      headers: {
        authorization: `Bearer ${tokens[edge] ?? ''}`,
        ...(hash !== undefined ? { 'if-none-match': `"${hash}"` } : {}),
      },
    }).then(async (res) => {
      settled = true;
      const body = await res.text();
      return {
        status: res.status,
        body,
        etag: (res.headers.get('etag') ?? '').replace(/"/g, ''),
        release: (
          JSON.parse(body) as { bundle?: { manifest?: string } | null }
        ).bundle?.manifest?.match(/"release":(\d+)/)?.[1],
        ms: Date.now() - started,
      };
    });
    return { answer, settled: () => settled };
  };
  const hashOf = async (edge: string) => (await poll(edge, undefined, 0).answer).etag;

  beforeAll(async () => {
    real = await openStore({ url: 'sqlite::memory:' });
    admin = (await ensureAdminToken(real)) ?? '';
    // The real store, with its saveBundles held at the gate while one is armed.
    const store = new Proxy(real, {
      get(target, key, receiver) {
        if (key !== 'saveBundles') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<Store['saveBundles']>) => {
          const g = gate;
          if (g !== undefined && ++g.calls === 2) {
            g.reached();
            await g.held;
          }
          return target.saveBundles(...args);
        };
      },
    });
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: '0.0.0-test',
      probeIntervalMs: 0,
      certificates: { checkIntervalMs: 600_000 },
      clientLimits: { maxConnectionsPerClient: 4 * EDGES },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const first = await apply();
    expect(first.status, await first.clone().text()).toBe(200);
    Object.assign(
      tokens,
      ((await first.json()) as { edge_tokens: Record<string, string> }).edge_tokens,
    );
    // The first build is published (every edge has release 1).
    for (let i = 0; i < 200 && (await real.latestBundle(edgeName(EDGES - 1))) === undefined; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await real.latestBundle(edgeName(EDGES - 1)))?.release).toBe(1);
  });

  afterAll(async () => {
    gate?.release();
    await app?.close();
    await real?.close();
  });

  const arm = () => {
    let release = () => undefined as void;
    let reached = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    reachedGate = new Promise<void>((r) => (reached = r));
    gate = { calls: 0, held, release, reached };
    return gate;
  };

  it('answers the first edges’ polls with the new release before the build’s last edge is saved', async () => {
    const firstEdge = edgeName(0);
    const lastEdge = edgeName(EDGES - 1);
    const [firstHash, lastHash] = [await hashOf(firstEdge), await hashOf(lastEdge)];
    const early = poll(firstEdge, firstHash, 30);
    const late = poll(lastEdge, lastHash, 30);
    await new Promise((r) => setTimeout(r, 300)); // both polls are waiting
    const g = arm();
    port += 1;
    const applied = apply();
    const answer = await early.answer;
    // Without batches the build saves every edge at once: the last edge's answer comes, the
    // gate (a second save of the build) never does.
    const next = await Promise.race([
      reachedGate.then(() => 'a second batch is being saved'),
      late.answer.then(() => 'the last edge was answered'),
    ]);
    expect(next).toBe('a second batch is being saved');
    expect(answer.status).toBe(200);
    expect(answer.release).toBe('2');
    expect(answer.etag).not.toBe(firstHash);
    // Meanwhile the last edge's release is not saved yet, and its poll still waits.
    expect((await real.latestBundle(lastEdge))?.release).toBe(1);
    expect(late.settled()).toBe(false);
    // The rest of the build is saved: the last edge's poll gets release 2 too.
    g.release();
    const lastAnswer = await late.answer;
    expect(lastAnswer.status).toBe(200);
    expect(lastAnswer.release).toBe('2');
    expect((await applied).status).toBe(200);
    gate = undefined;
  });

  it('a poll of an edge in the first batch whose token was revoked while it waited gets 401', async () => {
    const revokedEdge = edgeName(1);
    const changedEdge = edgeName(2);
    const [revokedHash, changedHash] = [await hashOf(revokedEdge), await hashOf(changedEdge)];
    const revokedPoll = poll(revokedEdge, revokedHash, 30);
    const changedPoll = poll(changedEdge, changedHash, 30);
    await new Promise((r) => setTimeout(r, 300));
    // Revoked through the API (the open poll is told at once)…
    const del = await fetch(`${base}/v1/edges/${revokedEdge}/token`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(del.status, await del.text()).toBeLessThan(300);
    // …and changed straight in the store (as another control plane would; nobody tells this
    // process's polls): the poll is woken by its batch's bundle, and the answer's re-check of
    // the token refuses it.
    await real.setEdgeTokenHash(changedEdge, hashToken('ope_other'), {
      actor: 'test',
      action: 'edge.token.rotate',
      subject: changedEdge,
      detail: {},
    });
    const g = arm();
    port += 1;
    const applied = apply();
    const revoked = await revokedPoll.answer;
    expect(revoked.status).toBe(401);
    expect(revoked.body).not.toContain('"bundle"');
    expect(revoked.body).not.toContain('PRIVATE KEY');
    await reachedGate;
    g.release();
    const changed = await changedPoll.answer;
    expect(changed.status).toBe(401);
    expect(changed.body).toContain('unauthorized');
    expect(changed.body).not.toContain('"bundle"');
    expect(changed.etag).toBe('');
    // The edge did get its new release (the refusal is the token's, not a missing bundle).
    expect((await real.latestBundle(changedEdge))?.release).toBe(3);
    expect((await applied).status).toBe(200);
    gate = undefined;
  });
});
