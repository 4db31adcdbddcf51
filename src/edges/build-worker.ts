// The build worker (issue 14): bundle builds off the request thread. One long-lived
// `node:worker_threads` Worker per control plane runs the same BundleBuilder (builder.ts) with
// its own store connection (SQLite in WAL mode, or its own small PostgreSQL pool): it reads
// the state, renders, checks (nginx -t / caddy validate are child processes of the worker),
// signs and stores the releases. The request thread keeps serving the admin API and the
// long-polls meanwhile; the worker posts the bundles it saves as it saves them, and the
// request thread's builder wakes their edges' long-polls (`BundleBuilder.receive`).
//
// Decisions:
// - The signing key reaches the worker in `workerData` (structured clone, in memory): never
//   an environment variable, an argument or a log line. The store's secret key is read by the
//   worker from the key file it is given (the path only).
// - A worker that dies (an uncaught error, out of memory) fails the build it was running: the
//   builder logs it and shows it as every edge's build error (edges keep serving their last
//   release); a new worker starts after a pause (1 s, doubling to 60 s while they keep dying,
//   back to 1 s after a build succeeds) and builds again (`onRestarted`).
// - Watchdog: a worker that holds a build without a sign of progress for `buildTimeoutMs`
//   (an await that never settles, a busy loop) is treated as one that died: its build fails
//   with `build_worker_timeout` (logged with the limit, the time and the edge count; shown
//   as every edge's build error), the worker is terminated (worker.terminate() stops a busy
//   loop too) and replaced as above, and the build runs again. A sign of progress is the
//   worker taking the build ('building') or saving bundles ('saved'): the limit bounds the
//   longest silence, not a whole build, so a large build that keeps publishing is not
//   stopped. Log lines do not count (a stuck retry loop may log forever). The limit starts
//   once the worker is ready (modules loaded, store open): its start is not counted.
//   Default: 10 minutes, and at least twice --nginx-check-timeout (a build runs nginx -t).
// - The worker's log lines are pino objects posted to the host, which logs them through the
//   control plane's logger (same level, same destination); the entry (tsx from the sources)
//   and the log relay are threads/worker-thread.ts, shared with the apply worker.
import { EventEmitter } from 'node:events';
import type { Worker, MessagePort } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { coded, englishOf } from '../spec/messages.js';
import { relayWorkerLog, spawnWorker, type WorkerLogMessage } from '../threads/worker-thread.js';
import type { BuildReport, BundleBuilder, PublishedBundle, RemoteBuilds } from './builder.js';
import type { BundleSigner } from './signing-key.js';

/** What the worker is started with (everything the builder's options need, as data). */
export interface BuildWorkerData {
  /** The store URL (sqlite:/path or postgres://…); never logged. */
  storeUrl: string;
  /** The file of the key that seals the store's secrets (certificate keys). */
  secretKeyFile?: string;
  signer: BundleSigner;
  nginx?: string;
  caddy?: string;
  nginxCheckTimeoutMs?: number;
  acmeChallengeUrl?: string;
  geoipDatabase?: string;
  geoipAsnDatabase?: string;
  logLevel: string;
  /**
   * TEST ONLY: the worker honours `testCrash` and `testHang`, and holds each build while
   * `gate[0]` is 1.
   */
  testHooks?: { gate?: SharedArrayBuffer };
}

/** Host → worker. */
type ToWorker =
  | { type: 'build' }
  | { type: 'forget' }
  | { type: 'test-crash' }
  | { type: 'test-hang'; hang: TestHang };

/** TEST ONLY: how the next build hangs (an await that never settles, a synchronous loop). */
export type TestHang = 'await' | 'busy';

/** Worker → host. */
type FromWorker =
  | WorkerLogMessage
  // issue 14 (w6-publish): only what the long-polls need (builder.ts PublishedBundle), one
  // message per published batch.
  | { type: 'saved'; bundles: PublishedBundle[] }
  | { type: 'building' }
  | { type: 'built'; report: BuildReport }
  | { type: 'failed'; message: string; stack: string | undefined }
  | { type: 'ready' };

/** A build worker that died (or was stopped) while it built. */
export class BuildWorkerError extends Error {
  override readonly name = 'BuildWorkerError';
}

export interface BuildWorkerHostOptions {
  /** The worker's entry module (server/build-worker-main.ts, or .js in dist/). */
  entry: URL;
  data: BuildWorkerData;
  logger: FastifyBaseLogger;
  /** Pause before a new worker replaces one that died (doubles while they keep dying). */
  restartDelayMs?: number;
  /** A new worker replaced one that died: build again (the failed build published nothing). */
  onRestarted?: () => void;
  /** The watchdog's limit (see the head; 0: none); default DEFAULT_BUILD_TIMEOUT_MS. */
  buildTimeoutMs?: number;
}

const MAX_RESTART_DELAY_MS = 60_000;
/** The watchdog's default limit of a build's silence (see the head). */
export const DEFAULT_BUILD_TIMEOUT_MS = 10 * 60_000;

/** The watchdog's limit: the one given, else 10 minutes and at least twice nginx -t's. */
export function buildTimeoutOf(
  opts: Pick<BuildWorkerHostOptions, 'buildTimeoutMs'> & { data: { nginxCheckTimeoutMs?: number } },
): number {
  return (
    opts.buildTimeoutMs ??
    Math.max(DEFAULT_BUILD_TIMEOUT_MS, 2 * (opts.data.nginxCheckTimeoutMs ?? 0))
  );
}

/** Runs builds in one long-lived worker thread; see the head of this file. */
export class BuildWorkerHost implements RemoteBuilds {
  /** 'building' (the worker began a build; tests hold it there), 'restarted'. */
  readonly events = new EventEmitter();
  private worker: Worker | undefined;
  private pending:
    | {
        resolve: (r: BuildReport) => void;
        reject: (e: Error) => void;
        worker: Worker;
        /** performance.now() when it was asked for (the watchdog's log). */
        since: number;
      }
    | undefined;
  private stopped = false;
  private recycle = false;
  private deaths = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: BuildWorkerHostOptions,
    private readonly receive: (saved: PublishedBundle[]) => void,
  ) {}

  /** Starts the worker now (rather than at the first build). */
  start(): void {
    this.worker ??= this.spawn();
  }

  build(): Promise<BuildReport> {
    if (this.stopped) return Promise.reject(new BuildWorkerError('the build worker is stopped'));
    if (this.pending !== undefined)
      return Promise.reject(new BuildWorkerError('a build is already running in the worker'));
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, worker, since: performance.now() };
      this.post(worker, { type: 'build' });
      this.watch(worker, 'posted');
    });
  }

  forget(): void {
    if (this.worker !== undefined) this.post(this.worker, { type: 'forget' });
  }

  /**
   * The worker's settings changed (the secret key was rotated): the next build runs in a new
   * worker (the running one, if any, finishes first).
   */
  reload(): void {
    this.recycle = true;
    if (this.pending === undefined) this.retire();
  }

  private retire(): void {
    this.recycle = false;
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) void worker.terminate();
  }

  /** TEST ONLY (with `testHooks`): the worker dies of an uncaught error in its next build. */
  testCrash(): void {
    const worker = (this.worker ??= this.spawn());
    this.post(worker, { type: 'test-crash' });
  }

  /** TEST ONLY (with `testHooks`): the worker's next build hangs (see TestHang). */
  testHang(hang: TestHang): void {
    const worker = (this.worker ??= this.spawn());
    this.post(worker, { type: 'test-hang', hang });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.deadline);
    const worker = this.worker;
    this.worker = undefined;
    this.settle(worker, new BuildWorkerError('the build worker was stopped'));
    if (worker !== undefined) await worker.terminate();
  }

  private post(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }

  private spawn(): Worker {
    const { entry, data } = this.opts;
    const worker = spawnWorker(entry, data);
    worker.on('message', (m: FromWorker) => this.message(worker, m));
    worker.on('error', (err) => this.died(worker, err));
    worker.on('exit', (code) =>
      this.died(worker, new Error(`the build worker exited with code ${code}`)),
    );
    return worker;
  }

  private message(worker: Worker, m: FromWorker): void {
    this.watch(worker, m.type); // the watchdog (see its block below)
    if (m.type === 'log') this.log(m.level, m.entry);
    else if (m.type === 'saved') this.receive(m.bundles);
    else if (m.type === 'building') this.events.emit('building');
    else if (m.type === 'ready') this.events.emit('ready');
    else {
      if (m.type === 'built') {
        this.deaths = 0;
        this.lastEdges = m.report.stats?.edges; // the watchdog's log
      }
      const p = this.pending;
      if (p?.worker !== worker) return;
      this.pending = undefined;
      if (this.recycle) this.retire();
      if (m.type === 'built') return p.resolve(m.report);
      const err = new Error(m.message);
      if (m.stack !== undefined) err.stack = m.stack;
      p.reject(err);
    }
  }

  private log(level: number, entry: Record<string, unknown>): void {
    relayWorkerLog(this.opts.logger, 'build-worker', level, entry);
  }

  private settle(worker: Worker | undefined, err: Error): void {
    const p = this.pending;
    if (p === undefined || (worker !== undefined && p.worker !== worker)) return;
    this.pending = undefined;
    clearTimeout(this.deadline);
    p.reject(err);
  }

  /** The worker died: fail its build, start another after a pause (see the head). */
  private died(worker: Worker, err: Error): void {
    this.replace(
      worker,
      new BuildWorkerError(englishOf(coded('build_worker_died', { error: err.message }))),
      { err },
      'the build worker died; restarting it',
    );
  }

  // ---- the watchdog (see the head): a build without a sign of progress within the limit ----
  private deadline: NodeJS.Timeout | undefined;
  /** The worker that said it is ready (the limit is not armed before). */
  private ready: Worker | undefined;
  /** The edges of the last build that answered (for the log of one that did not). */
  private lastEdges: number | undefined;

  /** A message from `worker` (or a build posted to it): arm, re-arm or disarm the limit. */
  private watch(worker: Worker, seen: FromWorker['type'] | 'posted'): void {
    if (seen === 'ready') this.ready = worker;
    if (seen === 'log') return;
    if (seen === 'built' || seen === 'failed') return clearTimeout(this.deadline);
    const limitMs = buildTimeoutOf(this.opts);
    if (this.pending?.worker !== worker || this.ready !== worker || limitMs <= 0) return;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.hung(worker, limitMs), limitMs);
    this.deadline.unref();
  }

  /** The limit passed without a sign of progress: the build failed; stop and replace the worker. */
  private hung(worker: Worker, limitMs: number): void {
    const p = this.pending;
    if (p?.worker !== worker || this.worker !== worker) return;
    const elapsedMs = Math.round(performance.now() - p.since);
    this.replace(
      worker,
      new BuildWorkerError(englishOf(coded('build_worker_timeout', { seconds: limitMs / 1000 }))),
      { limitMs, elapsedMs, ...(this.lastEdges !== undefined ? { edges: this.lastEdges } : {}) },
      'a build did not answer within the limit (--build-timeout): the build worker is stopped; restarting it',
    );
  }
  // ---- end of the watchdog ----

  /** Fail the worker's build with `err`, terminate it, start another after a pause. */
  private replace(
    worker: Worker,
    err: BuildWorkerError,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.settle(worker, err);
    if (this.stopped) return;
    const delay = Math.min(
      (this.opts.restartDelayMs ?? 1000) * 2 ** this.deaths,
      MAX_RESTART_DELAY_MS,
    );
    this.deaths++;
    this.opts.logger.error({ ...fields, restartInMs: delay }, message);
    void worker.terminate();
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.worker ??= this.spawn();
      this.opts.logger.warn('a new build worker started');
      this.events.emit('restarted');
      this.opts.onRestarted?.();
    }, delay);
    this.restartTimer.unref();
  }
}

// ---- the worker's side ----

/** Posts the bundles the worker's builder saves (BundleBuilderOptions.onSaved), per batch. */
export function postSaved(port: MessagePort): (saved: PublishedBundle[]) => void {
  return (bundles) => {
    const message: FromWorker = { type: 'saved', bundles };
    port.postMessage(message);
  };
}

/** Answers the host's messages with `builder` (which must have no `remote`). */
export function serveBuilds(
  port: MessagePort,
  builder: BundleBuilder,
  hooks: BuildWorkerData['testHooks'],
): void {
  let crash = false;
  let hang: TestHang | undefined;
  const gate = hooks?.gate !== undefined ? new Int32Array(hooks.gate) : undefined;
  const send = (m: FromWorker) => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'forget') builder.forget();
    else if (m.type === 'test-crash') {
      if (hooks !== undefined) crash = true;
    } else if (m.type === 'test-hang') {
      if (hooks !== undefined) hang = m.hang;
    } else void build();
  });
  const build = async () => {
    send({ type: 'building' });
    // TEST ONLY: the thread is held (synchronously: as busy as a long render) while gate[0] is 1.
    if (gate !== undefined) while (Atomics.load(gate, 0) === 1) Atomics.wait(gate, 0, 1, 1000);
    if (crash) {
      crash = false;
      // Uncaught, as a bug would be: the worker dies.
      process.nextTick(() => {
        throw new Error('test hook: the build worker crashed');
      });
      return;
    }
    // TEST ONLY: the build never answers (only the host's watchdog ends it).
    if (hang === 'await') await new Promise<never>(() => undefined);
    if (hang === 'busy') for (;;);
    try {
      await builder.buildNow();
      send({ type: 'built', report: builder.report() });
    } catch (err) {
      const e = err as Error;
      send({ type: 'failed', message: String(e.message), stack: e.stack });
    }
  };
  send({ type: 'ready' });
}
