// POST /v1/apply in the apply worker (state/apply-worker.ts): a real worker thread with its own
// connection to a real SQLite file, the control plane's HTTP API, its in-process bundle builder.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../http/admin-auth.js';
import type { SpecInput } from '../spec/index.js';
import type { ApplyWorkerHost } from '../state/apply-worker.js';
import {
  loadSecretBox,
  newSecretKey,
  openStore,
  writeKeyFile,
  type Store,
} from '../store/index.js';
import { eventually } from '../../test/support/http.js';
import { buildControlPlane, type ControlPlaneOptions } from './app.js';

const spec = (sites: number, port = 8080): SpecInput => ({
  edges: [
    { name: 'a', host: { v4: '127.0.0.1' } },
    { name: 'b', host: { v4: '127.0.0.2' } },
  ],
  sites: Array.from({ length: sites }, (_, i) => ({
    domain: `site${i}.example.com`,
    origins: [{ host: { v4: '127.0.0.1' }, port: port + i, protocol: 'http' as const }],
    edges: ['a', 'b'],
  })),
});

interface Line {
  level: number;
  msg: string;
  thread?: string;
  err?: { message: string };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe('the apply worker in the control plane', () => {
  let dir: string;
  let url: string;
  let keyFile: string;
  let store: Store;
  let app: FastifyInstance | undefined;
  let lines: Line[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-apply-worker-'));
    url = `sqlite:${join(dir, 'outpost.db')}`;
    keyFile = join(dir, 'secret.key');
    writeKeyFile(keyFile, newSecretKey());
    store = await openStore({ url, secrets: loadSecretBox(keyFile).box });
    lines = [];
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The control plane with its applies in the worker; `call` is its admin API over HTTP. */
  const startApp = async (
    applyWorker: Omit<NonNullable<ControlPlaneOptions['applyWorker']>, 'storeUrl'> = {},
  ) => {
    const token = (await ensureAdminToken(store)) as string;
    let host: ApplyWorkerHost | undefined;
    app = await buildControlPlane({
      store,
      logger: pino(
        { level: 'info' },
        { write: (l: string) => void lines.push(JSON.parse(l) as Line) },
      ),
      publicUrl: 'http://127.0.0.1',
      version: 'test',
      probeIntervalMs: 0,
      secretKeyFile: keyFile,
      applyWorker: {
        storeUrl: url,
        ...applyWorker,
        onHost: (h) => {
          host = h;
          applyWorker.onHost?.(h);
        },
      },
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    if (host === undefined) throw new Error('no apply worker host');
    const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await once(host.events, 'ready');
    return { call, host };
  };

  const error = (a: Answer) => a.body.error as { code: string; message: string; path?: string };

  it('answers /healthz and GET /v1/sites while an apply is held in the worker; then the apply answers, the state has it, the builder publishes it', async () => {
    const gate = new SharedArrayBuffer(8);
    const flag = new Int32Array(gate);
    const { call, host } = await startApp({ testHooks: { gate } });
    const first = await call('POST', '/v1/apply', { spec: spec(3) });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ changed: true, revision: 1 });
    expect(Object.keys(first.body.edge_tokens as object).sort()).toEqual(['a', 'b']);
    await eventually('the first releases', async () => {
      const bundles = await store.latestBundles();
      return bundles.length === 2 ? bundles : undefined;
    });

    // The worker's thread is held (synchronously blocked, as by a long parse) in the apply.
    Atomics.store(flag, 0, 1);
    const applying = once(host.events, 'applying');
    const answer = call('POST', '/v1/apply', { spec: spec(5, 9000) });
    await applying;
    expect((await call('GET', '/healthz')).body).toMatchObject({ ok: true });
    const sites = await call('GET', '/v1/sites');
    expect(sites.status).toBe(200);
    expect((sites.body.sites as unknown[]).length).toBe(3);
    // Nothing is written while it is held.
    expect((await store.readSharedState()).revision).toBe(1);
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);

    const second = await answer;
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ changed: true, revision: 2, edge_tokens: {} });
    expect((second.body.diff as { changes: unknown[] }).changes).toHaveLength(5);
    const state = await call('GET', '/v1/state');
    expect((state.body.spec as { sites: unknown[] }).sites).toHaveLength(5);
    expect(state.body.revision).toBe(2);
    // The audit event was written with it.
    const events = (await call('GET', '/v1/events')).body.events as { action: string }[];
    expect(events.filter((e) => e.action === 'spec.apply')).toHaveLength(2);
    // The request thread's reactions ran: the builder publishes the change to both edges.
    await eventually('the releases of the change', async () => {
      const bundles = await store.latestBundles();
      return bundles.length === 2 && bundles.every((b) => b.revision === 2) ? true : undefined;
    });

    // A dry run goes through the worker too, and writes nothing.
    const plan = call('POST', '/v1/apply', { spec: spec(6, 9000), dry_run: true });
    const dry = await plan;
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ changed: false, revision: 2 });
    expect(dry.body.text).toMatch(/site5\.example\.com/);
    expect((await store.readSharedState()).revision).toBe(2);
  }, 120_000);

  it('invalid YAML answers 400 invalid_spec with its line numbers, and writes nothing', async () => {
    const { call } = await startApp();
    expect((await call('POST', '/v1/apply', { spec: spec(1) })).status).toBe(200);
    const yaml = [
      'edges:',
      '  - name: a',
      '    host: {v4: 127.0.0.1}',
      'sites:',
      '  - domain: bad.example.com',
      '    origins: [{host: {v4: 999.1.1.1}}]',
      '    edges: [nowhere]',
      '',
    ].join('\n');
    const bad = await call('POST', '/v1/apply', { yaml });
    expect(bad.status).toBe(400);
    expect(error(bad).code).toBe('invalid_spec');
    const problems = (bad.body.error as { problems: { path: string; line?: number }[] }).problems;
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems.map((p) => [p.path, p.line])).toEqual(
      expect.arrayContaining([
        ['sites[0].origins[0].host.v4', 6],
        ['sites[0].edges[0]', 7],
      ]),
    );
    expect(error(bad).path).toBe(problems[0]?.path);
    // Text that is not YAML at all: a problem with its line too.
    const broken = await call('POST', '/v1/apply', { yaml: 'edges:\n  - name: [a\n' });
    expect(broken.status).toBe(400);
    expect(error(broken).code).toBe('invalid_spec');
    const state = await store.readSharedState();
    expect(state.revision).toBe(1);
    expect(state.spec.sites.map((s) => s.domain)).toEqual(['site0.example.com']);
  }, 60_000);

  it('a worker that dies inside the write answers 503 unavailable, leaves the state as it was, and the next apply succeeds in a new worker', async () => {
    const { call, host } = await startApp({ testHooks: {} });
    expect((await call('POST', '/v1/apply', { spec: spec(2) })).status).toBe(200);
    host.testCrash();
    const died = await call('POST', '/v1/apply', { spec: spec(4, 9000) });
    expect(died.status).toBe(503);
    expect(error(died).code).toBe('unavailable');
    expect(error(died).message).toMatch(
      /^the apply worker died during the apply: test hook: the apply worker crashed \(nothing was half applied; apply again\)$/,
    );
    expect(
      lines.some((l) => l.msg === 'the apply worker died; the next apply starts another'),
    ).toBe(true);
    // One transaction: none of it was written (revision, sites, audit event).
    const after = await store.readSharedState();
    expect(after.revision).toBe(1);
    expect(after.spec.sites.map((s) => s.origins[0]?.port)).toEqual([8080, 8081]);
    expect(
      (await store.listEvents({ limit: 10 })).filter((e) => e.action === 'spec.apply'),
    ).toHaveLength(1);

    const next = await call('POST', '/v1/apply', { spec: spec(4, 9000) });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ changed: true, revision: 2 });
    expect((await store.readSharedState()).spec.sites).toHaveLength(4);
  }, 60_000);

  it('a worker that does not answer within --apply-timeout is stopped: 503 unavailable, nothing written, the next apply succeeds', async () => {
    const gate = new SharedArrayBuffer(8);
    const flag = new Int32Array(gate);
    const { call, host } = await startApp({ testHooks: { gate }, applyTimeoutMs: 2000 });
    expect((await call('POST', '/v1/apply', { spec: spec(2) })).status).toBe(200);
    Atomics.store(flag, 0, 1); // held until the limit, and beyond
    const applying = once(host.events, 'applying');
    const answer = call('POST', '/v1/apply', { spec: spec(3, 9000) });
    await applying;
    const hung = await answer;
    expect(hung.status).toBe(503);
    expect(error(hung).code).toBe('unavailable');
    expect(error(hung).message).toMatch(
      /^the apply worker did not answer within 2 s \(it was stopped;/,
    );
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
    expect((await store.readSharedState()).revision).toBe(1);
    const next = await call('POST', '/v1/apply', { spec: spec(3, 9000) });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ changed: true, revision: 2 });
  }, 60_000);

  it('after the secret key is rotated, the next apply runs in a new worker', async () => {
    const { call, host } = await startApp();
    expect((await call('POST', '/v1/apply', { spec: spec(1) })).status).toBe(200);
    expect((await call('POST', '/v1/secrets/rotate-key')).status).toBe(200);
    const ready = once(host.events, 'ready');
    const next = await call('POST', '/v1/apply', { spec: spec(2) });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ changed: true, revision: 2 });
    await ready;
  }, 60_000);

  it('a concurrent write on the request thread: the apply retries against it, and answers 409 revision_conflict when it keeps losing', async () => {
    const gate = new SharedArrayBuffer(8);
    const flag = new Int32Array(gate);
    const { call, host } = await startApp({ testHooks: { gate } });
    expect((await call('POST', '/v1/apply', { spec: spec(2) })).status).toBe(200);
    let port = 7000;
    /** A write through PUT /v1/sites/:domain (the request thread's DesiredState). */
    const putSite = async () => {
      const put = await call('PUT', '/v1/sites/site0.example.com', {
        domain: 'site0.example.com',
        origins: [{ host: { v4: '127.0.0.1' }, port: port++, protocol: 'http' }],
        edges: ['a', 'b'],
      });
      expect(put.status).toBe(200);
    };
    /** Holds each of the worker's writes; a write by the request thread lands before each. */
    const raceWrites = async (times: number, start: () => Promise<Answer>) => {
      Atomics.store(flag, 1, 1);
      let writing = once(host.events, 'writing');
      const answer = start();
      for (let i = 0; i < times; i++) {
        await writing;
        writing = once(host.events, 'writing');
        await putSite();
        Atomics.store(flag, 1, 2); // let this one write through (the worker holds the next)
        Atomics.notify(flag, 1);
      }
      Atomics.store(flag, 1, 0);
      Atomics.notify(flag, 1);
      return answer;
    };

    // One lost race: the worker reads again and wins (its document is the state).
    const won = await raceWrites(1, () => call('POST', '/v1/apply', { spec: spec(2, 9000) }));
    expect(won.status).toBe(200);
    expect(won.body).toMatchObject({ changed: true, revision: 3 });
    expect((await store.readSharedState()).spec.sites.map((s) => s.origins[0]?.port)).toEqual([
      9000, 9001,
    ]);

    // Lost every time (four writes, four writes in between): 409 as before.
    const lost = await raceWrites(4, () => call('POST', '/v1/apply', { spec: spec(2, 9500) }));
    expect(lost.status).toBe(409);
    expect(error(lost).code).toBe('revision_conflict');
    expect(error(lost).message).toMatch(
      /^the desired state changed meanwhile \(revision 7, expected 6\); retry$/,
    );
    const state = await store.readSharedState();
    expect(state.revision).toBe(7);
    expect(state.spec.sites.map((s) => s.origins[0]?.port)).toEqual([port - 1, 9001]);
  }, 60_000);
});
