// Bundle builds in the build worker (edges/build-worker.ts): a real worker thread with its own
// SQLite connection, real nginx -t, the control plane's HTTP API.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundle } from '../bundle/index.js';
import { BundleBuilder, PUBLISH_EVERY_EDGES, type PublishedBundle } from '../edges/builder.js';
import { BuildWorkerHost, buildTimeoutOf } from '../edges/build-worker.js';
import { workerEntry } from '../threads/worker-thread.js';
import { ensureSigningKey, type BundleSigner } from '../edges/signing-key.js';
import { parseMessage } from '../spec/messages.js';
import { ensureAdminToken } from '../http/admin-auth.js';
import { parseSpec, type SpecInput } from '../spec/index.js';
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
    origins: [{ host: { v4: '127.0.0.1' }, port: port + (i % 100), protocol: 'http' as const }],
    edges: ['a', 'b'],
  })),
});

interface Line {
  level: number;
  msg: string;
  err?: { message: string };
  thread?: string;
}

describe('the build watchdog’s limit', () => {
  it('is the one given, else 10 minutes and at least twice nginx -t’s', () => {
    expect(buildTimeoutOf({ data: {} })).toBe(600_000);
    expect(buildTimeoutOf({ data: { nginxCheckTimeoutMs: 400_000 } })).toBe(800_000);
    expect(buildTimeoutOf({ buildTimeoutMs: 5000, data: { nginxCheckTimeoutMs: 400_000 } })).toBe(
      5000,
    );
  });
});

describe('the build worker', () => {
  let dir: string;
  let url: string;
  let keyFile: string;
  let store: Store;
  let signer: BundleSigner;
  let lines: Line[];
  const logger = () =>
    pino(
      { level: 'info' },
      {
        write: (l: string) => {
          lines.push(JSON.parse(l) as Line);
        },
      },
    );
  const write = (s: SpecInput) =>
    store.writeState(parseSpec(s), {
      actor: 'test',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-build-worker-'));
    url = `sqlite:${join(dir, 'outpost.db')}`;
    keyFile = join(dir, 'secret.key');
    writeKeyFile(keyFile, newSecretKey());
    store = await openStore({ url, secrets: loadSecretBox(keyFile).box });
    signer = await ensureSigningKey(store);
    lines = [];
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A request-thread builder whose builds run in a worker (as app.ts wires it). */
  const workerBuilder = (
    restartDelayMs = 50,
    gate?: SharedArrayBuffer,
    opts: { nginx?: boolean; posted?: PublishedBundle[][]; buildTimeoutMs?: number } = {},
  ) => {
    let host: BuildWorkerHost | undefined;
    const log = logger();
    const builder: BundleBuilder = new BundleBuilder({
      store,
      signer,
      logger: log,
      remote: (receive) => {
        host = new BuildWorkerHost(
          {
            entry: workerEntry(import.meta.url, './build-worker-main'),
            data: {
              storeUrl: url,
              secretKeyFile: keyFile,
              signer,
              ...(opts.nginx !== false ? { nginx: '/usr/sbin/nginx' } : {}),
              logLevel: 'info',
              testHooks: gate !== undefined ? { gate } : {},
            },
            logger: log,
            restartDelayMs,
            ...(opts.buildTimeoutMs !== undefined ? { buildTimeoutMs: opts.buildTimeoutMs } : {}),
            onRestarted: () => void builder.rebuild(),
          },
          (saved) => {
            opts.posted?.push(saved);
            receive(saved);
          },
        );
        return host;
      },
    });
    if (host === undefined) throw new Error('no host');
    return { builder, host };
  };

  it('builds in the worker thread, and wakes the long-polls with what it saved', async () => {
    const { builder, host } = workerBuilder();
    try {
      await write(spec(3));
      const waiting = builder.waitForChange('a', undefined, 60_000);
      await builder.rebuild();
      const woken = await waiting;
      const latest = await store.latestBundle('a');
      expect(woken?.hash).toBe(latest?.hash);
      expect(latest?.release).toBe(1);
      // Signed with the control plane's key (it reached the worker in workerData).
      expect(verifyBundle(JSON.parse(latest?.body ?? '{}'), signer.publicKeyPem, 'a').edge).toBe(
        'a',
      );
      expect(builder.buildErrors()).toEqual([]);
      expect(builder.lastBuild()).toMatchObject({ edges: 2, published: 2, sitesRendered: 3 });
      // The worker's log lines come through the control plane's logger.
      expect(lines.some((l) => l.msg === 'bundles built' && l.thread === 'build-worker')).toBe(
        true,
      );
      // A refusal in the worker (nginx -t) reaches the request thread's build errors.
      const refused = spec(3);
      refused.edges = [
        { name: 'a', host: { v4: '127.0.0.1' }, raw_nginx: 'bogus_directive on;' },
        { name: 'b', host: { v4: '127.0.0.2' } },
      ];
      await write(refused);
      await builder.rebuild();
      expect(builder.buildErrors().map((e) => e.edge)).toEqual(['a']);
      expect(builder.buildErrors()[0]?.message).toContain('nginx rejected');
      expect((await store.latestBundle('a'))?.release).toBe(1);
    } finally {
      await builder.stop();
    }
    expect(host).toBeDefined();
  });

  it('posts what a build publishes in batches, each bundle with only what the long-polls need', async () => {
    const posted: PublishedBundle[][] = [];
    const { builder, host } = workerBuilder(50, undefined, { nginx: false, posted });
    const edges = PUBLISH_EVERY_EDGES * 2 + 20;
    try {
      await write({
        edges: Array.from({ length: edges }, (_, i) => ({
          name: `e${i}`,
          host: { v4: `127.0.1.${i + 1}` },
        })),
        sites: [
          {
            domain: 'batch.example.com',
            origins: [{ host: { v4: '127.0.0.1' }, port: 8080, protocol: 'http' }],
            edges: ['*'],
          },
        ],
      });
      const last = builder.waitForChange(`e${edges - 1}`, undefined, 60_000);
      await builder.rebuild();
      expect((await last)?.release).toBe(1);
      // One message per batch, not one for the whole build.
      expect(posted.length).toBeGreaterThanOrEqual(3);
      expect(posted.every((b) => b.length <= PUBLISH_EVERY_EDGES)).toBe(true);
      const all = posted.flat();
      expect(all.map((b) => b.edge).sort()).toEqual(
        Array.from({ length: edges }, (_, i) => `e${i}`).sort(),
      );
      // Only what a poll answer and the file route need: no created_at, revision, content key.
      for (const b of all)
        expect(Object.keys(b).sort()).toEqual(['body', 'edge', 'hash', 'release', 'served']);
      // `served` names what the signed manifest names.
      const sample = all[0];
      const stored = await store.latestBundle(sample?.edge ?? '');
      expect(sample?.body).toBe(stored?.body);
      const manifest = verifyBundle(
        JSON.parse(stored?.body ?? '{}'),
        signer.publicKeyPem,
        sample?.edge ?? '',
      );
      expect(new Set(sample?.served.files)).toEqual(new Set(manifest.files.map((f) => f.sha256)));
      expect(sample?.served.lists).toEqual(manifest.lists.map((l) => l.sha256));
    } finally {
      await builder.stop();
      void host;
    }
  });

  it('a worker that dies fails its build (logged, every edge shows it), is replaced, and builds again; the edges keep their releases', async () => {
    const { builder, host } = workerBuilder(300);
    try {
      await write(spec(2));
      await builder.rebuild();
      const before = await store.latestBundle('a');
      expect(before?.release).toBe(1);

      host.testCrash();
      await write(spec(2, 9000));
      const restarted = once(host.events, 'restarted');
      await expect(builder.rebuild()).rejects.toThrow(/the build worker died/);
      // Logged with the error, and shown as each edge's build error.
      expect(
        lines.some(
          (l) => l.msg === 'bundle build failed' && /test hook/.test(l.err?.message ?? ''),
        ),
      ).toBe(true);
      expect(lines.some((l) => l.msg === 'the build worker died; restarting it')).toBe(true);
      const errors = builder.buildErrors();
      expect(errors.map((e) => e.edge).sort()).toEqual(['a', 'b']);
      expect(errors[0]?.message).toMatch(/bundle build failed .*previous release.*worker died/);
      // The previous release is still what the edge is handed.
      expect((await builder.waitForChange('a', undefined, 0))?.hash).toBe(before?.hash);

      // A new worker starts and builds what the dead one did not.
      await restarted;
      const after = await eventually('the release after the restart', async () => {
        const b = await store.latestBundle('a');
        return b?.release === 2 ? b : undefined;
      });
      expect(after.revision).toBe(2);
      await eventually('the errors cleared', async () =>
        builder.buildErrors().length === 0 ? true : undefined,
      );
    } finally {
      await builder.stop();
    }
  });

  // ---- the watchdog: a build that does not answer within the limit (issue 14) ----
  for (const hang of ['await', 'busy'] as const) {
    it(`a build that hangs (${hang === 'await' ? 'an await that never settles' : 'a synchronous busy loop'}) fails after the limit: the worker is terminated and replaced, the edges keep their releases, the next change is published`, async () => {
      const LIMIT_MS = 3000;
      const { builder, host } = workerBuilder(200, undefined, { buildTimeoutMs: LIMIT_MS });
      try {
        await write(spec(2));
        await builder.rebuild();
        const before = await store.latestBundle('a');
        expect(before?.release).toBe(1);

        host.testHang(hang);
        await write(spec(2, 9000));
        const restarted = once(host.events, 'restarted');
        const started = performance.now();
        await expect(builder.rebuild()).rejects.toThrow(
          'the build worker did not answer within 3 s',
        );
        // Not before the limit (counted from the worker taking the build).
        expect(performance.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 50);
        const timedOut = lines.find((l) => l.msg.startsWith('a build did not answer'));
        expect(timedOut).toMatchObject({ level: 50, limitMs: LIMIT_MS, edges: 2 });
        expect((timedOut as unknown as { elapsedMs: number }).elapsedMs).toBeGreaterThanOrEqual(
          LIMIT_MS - 50,
        );
        // Every edge shows the timeout as its build error (the status's "control plane: …").
        const errors = builder.buildErrors();
        expect(errors.map((e) => e.edge).sort()).toEqual(['a', 'b']);
        expect(errors[0]?.message).toBe(
          'the bundle build failed (the edge keeps serving its previous release): the build worker did not answer within 3 s (it was stopped and another one started; raise --build-timeout if builds this large need longer)',
        );
        expect(parseMessage(errors[0]?.message ?? '')).toEqual({
          code: 'build_failed',
          params: { error: { code: 'build_worker_timeout', params: { seconds: '3' } } },
        });
        // The previous release is still what the edges are handed.
        expect((await builder.waitForChange('a', undefined, 0))?.hash).toBe(before?.hash);
        expect((await store.latestBundle('b'))?.release).toBe(1);

        // A new worker builds what the stuck one did not (the pending change, once).
        await restarted;
        const after = await eventually('the release after the restart', async () => {
          const b = await store.latestBundle('a');
          return b?.release === 2 ? b : undefined;
        });
        expect(after.revision).toBe(2);
        await eventually('the errors cleared', async () =>
          builder.buildErrors().length === 0 ? true : undefined,
        );
        // And the next change too.
        await write(spec(2, 9500));
        await builder.rebuild();
        expect((await store.latestBundle('a'))?.revision).toBe(3);
        expect((await store.latestBundle('b'))?.revision).toBe(3);
      } finally {
        await builder.stop();
      }
    }, 60_000);
  }

  it('stops at once with a build that hangs in the worker: no wait for the watchdog, no error logged', async () => {
    // The default limit (10 minutes): only stop() can end the build within the test's time.
    const { builder, host } = workerBuilder(50);
    await write(spec(2));
    await builder.rebuild();
    host.testHang('await');
    await write(spec(2, 9000));
    const building = once(host.events, 'building');
    const hung = builder.rebuild().then(
      () => 'built',
      (err: Error) => err.message,
    );
    await building;
    await builder.stop();
    expect(await hung).toBe('the build worker was stopped');
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.some((l) => l.msg === 'the running build was stopped')).toBe(true);
    // Nothing of the stopped build was published.
    expect((await store.latestBundle('a'))?.revision).toBe(1);
  });

  it('a build that answers within the limit is not stopped (its thread held for half of it)', async () => {
    const gate = new SharedArrayBuffer(4);
    const flag = new Int32Array(gate);
    const LIMIT_MS = 2000;
    const { builder } = workerBuilder(50, gate, { buildTimeoutMs: LIMIT_MS });
    try {
      await write(spec(2));
      await builder.rebuild();
      Atomics.store(flag, 0, 1);
      await write(spec(2, 9000));
      const held = builder.rebuild();
      await new Promise((r) => setTimeout(r, LIMIT_MS / 2));
      Atomics.store(flag, 0, 0);
      Atomics.notify(flag, 0);
      await held;
      expect((await store.latestBundle('a'))?.revision).toBe(2);
      expect(builder.buildErrors()).toEqual([]);
    } finally {
      Atomics.store(flag, 0, 0);
      Atomics.notify(flag, 0);
      await builder.stop();
    }
  });

  it('changes during a build make exactly one more build after it', async () => {
    const gate = new SharedArrayBuffer(4);
    const flag = new Int32Array(gate);
    const { builder, host } = workerBuilder(50, gate);
    let builds = 0;
    host.events.on('building', () => builds++);
    try {
      await write(spec(2));
      Atomics.store(flag, 0, 1);
      const started = once(host.events, 'building');
      const first = builder.rebuild();
      await started;
      // Five changes while the worker is held in the first build: they share one build.
      const more: Promise<void>[] = [];
      for (let i = 1; i <= 5; i++) {
        await write(spec(2, 8000 + i));
        more.push(builder.rebuild());
      }
      expect(new Set(more).size).toBe(1);
      Atomics.store(flag, 0, 0);
      Atomics.notify(flag, 0);
      await first;
      await more[0];
      expect(builds).toBe(2);
      // The one more build read the last state written.
      expect((await store.latestBundle('a'))?.revision).toBe(6);
    } finally {
      Atomics.store(flag, 0, 0);
      Atomics.notify(flag, 0);
      await builder.stop();
    }
  });

  describe('in the control plane', () => {
    let app: FastifyInstance | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });
    /** A control plane whose builds run in the worker, listening; `call` its admin API. */
    const startApp = async (
      buildWorker: Omit<NonNullable<ControlPlaneOptions['buildWorker']>, 'storeUrl'>,
    ) => {
      const token = (await ensureAdminToken(store)) as string;
      app = await buildControlPlane({
        store,
        logger: logger(),
        publicUrl: 'http://127.0.0.1',
        version: 'test',
        probeIntervalMs: 0,
        secretKeyFile: keyFile,
        buildWorker: { storeUrl: url, ...buildWorker },
      });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const call = async (method: string, path: string, body?: unknown) => {
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
      return call;
    };

    it('shows a build that hangs as every edge’s error in /v1/status (coded), then publishes the change from a new worker', async () => {
      let host: BuildWorkerHost | undefined;
      const call = await startApp({
        testHooks: {},
        buildTimeoutMs: 2000,
        restartDelayMs: 100,
        onHost: (h) => (host = h),
      });
      expect((await call('POST', '/v1/apply', { spec: spec(3) })).status).toBe(200);
      const first = await eventually('the first releases', async () => {
        const bundles = await store.latestBundles();
        return bundles.length === 2 ? bundles : undefined;
      });
      host!.testHang('busy');
      const restarted = once(host!.events, 'restarted');
      expect((await call('POST', '/v1/apply', { spec: spec(3, 9000) })).status).toBe(200);
      type Edge = { name: string; error: string | null; error_code?: unknown };
      const failing = await eventually('the build failing in /v1/status', async () => {
        const status = await call('GET', '/v1/status');
        expect(status.status).toBe(200);
        const edges = status.body.edges as Edge[];
        return edges.every((e) => e.error !== null) ? edges : undefined;
      });
      expect(failing[0]?.error).toMatch(
        /^control plane: the bundle build failed \(the edge keeps serving its previous release\): the build worker did not answer within 2 s/,
      );
      expect(failing[0]?.error_code).toEqual({
        code: 'edge_control_plane_error',
        params: {
          error: {
            code: 'build_failed',
            params: { error: { code: 'build_worker_timeout', params: { seconds: '2' } } },
          },
        },
      });
      // Meanwhile the edges are handed their first releases.
      expect((await store.latestBundles()).map((b) => b.hash)).toEqual(first.map((b) => b.hash));
      await restarted;
      await eventually('the change published by the new worker, the errors gone', async () => {
        const bundles = await store.latestBundles();
        if (!bundles.every((b) => b.revision === 2)) return undefined;
        const edges = (await call('GET', '/v1/status')).body.edges as Edge[];
        return edges.every((e) => e.error === null) ? true : undefined;
      });
    }, 60_000);

    it('answers admin reads while a large build runs in the worker', async () => {
      const gate = new SharedArrayBuffer(4);
      const flag = new Int32Array(gate);
      let host: BuildWorkerHost | undefined;
      const call = await startApp({ testHooks: { gate }, onHost: (h) => (host = h) });
      const SITES = 1000;
      expect((await call('POST', '/v1/apply', { spec: spec(SITES) })).status).toBe(200);
      const first = await eventually(
        'the first releases',
        async () => {
          const bundles = await store.latestBundles();
          return bundles.length === 2 ? bundles : undefined;
        },
        120_000,
      );
      expect(host).toBeDefined();

      // Every site changes; the worker is held in the build (its thread blocked, as busy as
      // a long render) until the reads below have answered.
      Atomics.store(flag, 0, 1);
      const building = once(host!.events, 'building');
      expect((await call('POST', '/v1/apply', { spec: spec(SITES, 9000) })).status).toBe(200);
      await building;
      const sites = await call('GET', '/v1/sites');
      expect(sites.status).toBe(200);
      expect((sites.body as { sites: unknown[] }).sites.length).toBe(SITES);
      expect((await call('GET', '/v1/status')).status).toBe(200);
      // The build had not finished: the edges still have their first releases.
      expect((await store.latestBundles()).map((b) => b.hash)).toEqual(first.map((b) => b.hash));
      Atomics.store(flag, 0, 0);
      Atomics.notify(flag, 0);
      const second = await eventually(
        'the releases of the change',
        async () => {
          const bundles = await store.latestBundles();
          return bundles.every((b) => b.revision === 2) ? bundles : undefined;
        },
        120_000,
      );
      expect(second.map((b) => b.release)).toEqual([2, 2]);
    }, 240_000);
  });
});
