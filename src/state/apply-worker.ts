// The apply worker (issue 14): `POST /v1/apply` off the request thread. Parsing a whole
// document (the YAML of 10,000 sites: 15-20 s), validating, diffing and writing it held the
// event loop for the whole apply, and every admin call and long-poll answer waited behind it.
// One long-lived `node:worker_threads` Worker per control plane (not the build worker's thread:
// a build can take minutes and an apply must not queue behind it) runs `DesiredState.apply`
// with its own store connection (SQLite in WAL mode, or its own small PostgreSQL pool) and
// posts back the ChangeResult, or the error. The request thread's DesiredState then does what
// it does after its own write: `onChanged` (the workers, and the 'state' announcement to the
// other control planes).
//
// Decisions:
// - One apply at a time, answered in order: the host queues them. Writers that stay on the
//   request thread (PUT /v1/sites/:domain, the edges' routes) race the worker as two control
//   planes would: `expectRevision` and DesiredState's retries handle it.
// - Errors come back as data and are made again with the same classes, so they answer as
//   before: a SpecError (400 invalid_spec with every problem, YAML lines included), a
//   RevisionConflictError (409), any other OutpostError with its code, path and exposure. An
//   error of another kind answers 500 (its message and stack are logged, as before).
// - A worker that dies during an apply (an uncaught error, out of memory) answers that apply
//   503 `unavailable` (apply_worker_died); the write is one transaction, so nothing is half
//   applied (the dead thread's connection is closed, which rolls it back). A worker that does
//   not answer within the limit (--apply-timeout, default 5 min; the limit starts when the
//   worker is ready) is terminated and the apply answers 503 (apply_worker_timeout). Either
//   way the next apply starts a new worker. Since the worker may have committed just before it
//   died, the request thread runs its reactions anyway (a rebuild of an unchanged state is
//   cheap; a missed one would leave the edges behind).
// - The store's secret key reaches the worker as the key file's path only; the worker opens
//   it (it never creates it).
// - TEST ONLY hooks (`testHooks`): a gate holding each apply (gate[0] = 1) and each write
//   (gate[1] = 1, one write let through per 2) on the worker's thread, and a crash inside the
//   next write's transaction.
import { EventEmitter } from 'node:events';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, OutpostError, type ErrorCode } from '../http/errors.js';
import { SpecError, type ChangeResult, type Problem } from '../spec/index.js';
import { coded, englishOf } from '../spec/messages.js';
import {
  RevisionConflictError,
  type Store,
  type StoredState,
  type WrittenEntry,
} from '../store/types.js';
import { relayWorkerLog, spawnWorker, type WorkerLogMessage } from '../threads/worker-thread.js';
import { DesiredState, type ApplyInput, type ApplyOptions, type RemoteApplies } from './service.js';

/** What the worker is started with (as data). */
export interface ApplyWorkerData {
  /** The store URL (sqlite:/path or postgres://…); never logged. */
  storeUrl: string;
  /** The file of the key that seals the store's secrets. */
  secretKeyFile?: string;
  logLevel: string;
  /** TEST ONLY: hold every write transaction open this long (serve's testHoldStateWriteMs). */
  holdStateWriteMs?: number;
  /** TEST ONLY: see the head. */
  testHooks?: { gate?: SharedArrayBuffer };
}

/** The limit of an apply's silence by default (--apply-timeout). */
export const DEFAULT_APPLY_TIMEOUT_MS = 5 * 60_000;

/** An error as it crosses from the worker to the host. */
type CarriedError =
  | { kind: 'spec'; problems: Problem[] }
  | { kind: 'revision'; expected: number; actual: number }
  | {
      kind: 'outpost';
      api: boolean;
      code: ErrorCode;
      message: string;
      path: string | undefined;
      expose: boolean;
    }
  | { kind: 'other'; message: string; stack: string | undefined };

/** Host → worker. */
type ToWorker =
  { type: 'apply'; id: number; input: ApplyInput; options: ApplyOptions } | { type: 'test-crash' };

/** Worker → host. */
type FromWorker =
  | WorkerLogMessage
  | { type: 'ready' }
  | { type: 'applying'; id: number }
  | { type: 'writing'; id: number }
  | { type: 'applied'; id: number; result: ChangeResult; written: WrittenEntry[] }
  | { type: 'failed'; id: number; error: CarriedError };

/** The apply worker died or was stopped during an apply: it may have written (see the head). */
export class ApplyWorkerLost extends OutpostError {
  /** RemoteApplies: the request thread runs its reactions anyway. */
  readonly mayHaveWritten = true;
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, { expose: true, cause });
    this.name = 'ApplyWorkerLost';
  }
}

export interface ApplyWorkerHostOptions {
  /** The worker's entry module (server/apply-worker-main.ts, or .js in dist/). */
  entry: URL;
  data: ApplyWorkerData;
  logger: FastifyBaseLogger;
  /** The limit of an apply (see the head; 0: none); default DEFAULT_APPLY_TIMEOUT_MS. */
  applyTimeoutMs?: number;
  /**
   * The entries an apply wrote, as their rows hold them, before its answer: the request
   * thread's store takes them without a schema parse (StateQueries.adoptWrittenEntries).
   */
  adopt?: (written: WrittenEntry[]) => void;
}

interface Pending {
  id: number;
  worker: Worker;
  resolve: (r: ChangeResult) => void;
  reject: (e: Error) => void;
  since: number;
}

/** Runs applies in one long-lived worker thread, one at a time; see the head of this file. */
export class ApplyWorkerHost implements RemoteApplies {
  /** 'ready', 'applying', 'writing' (tests wait for them). */
  readonly events = new EventEmitter();
  private worker: Worker | undefined;
  private ready: Worker | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private stopped = false;
  private recycle = false;
  private deadline: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ApplyWorkerHostOptions) {}

  /** Starts the worker now (rather than at the first apply). */
  start(): void {
    this.worker ??= this.spawn();
  }

  apply(input: ApplyInput, options: ApplyOptions): Promise<ChangeResult> {
    const run = this.queue.then(() => this.run(input, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The worker's settings changed (the secret key was rotated): the next apply runs in a new
   * worker (the running one, if any, answers first).
   */
  reload(): void {
    this.recycle = true;
    if (this.pending === undefined) this.retire();
  }

  private retire(): void {
    this.recycle = false;
    const worker = this.worker;
    this.worker = undefined;
    if (this.ready === worker) this.ready = undefined;
    if (worker !== undefined) void worker.terminate();
  }

  /** TEST ONLY (with `testHooks`): the worker dies inside the next write's transaction. */
  testCrash(): void {
    const worker = (this.worker ??= this.spawn());
    worker.postMessage({ type: 'test-crash' } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    this.settle(worker, new ApplyWorkerLost('the apply worker was stopped'));
    if (worker !== undefined) await worker.terminate();
  }

  private run(input: ApplyInput, options: ApplyOptions): Promise<ChangeResult> {
    if (this.stopped) return Promise.reject(new ApplyWorkerLost('the apply worker is stopped'));
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending = { id, worker, resolve, reject, since: performance.now() };
      worker.postMessage({ type: 'apply', id, input, options } satisfies ToWorker);
      this.arm(worker);
    });
  }

  private spawn(): Worker {
    const worker = spawnWorker(this.opts.entry, this.opts.data);
    worker.on('message', (m: FromWorker) => this.message(worker, m));
    worker.on('error', (err) => this.died(worker, err));
    worker.on('exit', (code) =>
      this.died(worker, new Error(`the apply worker exited with code ${code}`)),
    );
    return worker;
  }

  private message(worker: Worker, m: FromWorker): void {
    if (m.type === 'log') return relayWorkerLog(this.opts.logger, 'apply-worker', m.level, m.entry);
    if (m.type === 'ready') {
      this.ready = worker;
      this.arm(worker);
      this.events.emit('ready');
      return;
    }
    if (m.type === 'applying' || m.type === 'writing') {
      this.events.emit(m.type);
      return;
    }
    const p = this.pending;
    if (p?.worker !== worker || p.id !== m.id) return;
    this.pending = undefined;
    clearTimeout(this.deadline);
    if (this.recycle) this.retire();
    if (m.type === 'applied') {
      if (m.written.length > 0) this.opts.adopt?.(m.written);
      p.resolve(m.result);
    } else p.reject(rebuildError(m.error));
  }

  /** The limit of the pending apply, from now (once its worker is ready). */
  private arm(worker: Worker): void {
    const limitMs = this.opts.applyTimeoutMs ?? DEFAULT_APPLY_TIMEOUT_MS;
    if (this.pending?.worker !== worker || this.ready !== worker || limitMs <= 0) return;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.hung(worker, limitMs), limitMs);
    this.deadline.unref();
  }

  private hung(worker: Worker, limitMs: number): void {
    const p = this.pending;
    if (p?.worker !== worker) return;
    this.opts.logger.error(
      { limitMs, elapsedMs: Math.round(performance.now() - p.since) },
      'an apply did not answer within the limit (--apply-timeout): the apply worker is stopped; the next apply starts another',
    );
    this.drop(
      worker,
      new ApplyWorkerLost(englishOf(coded('apply_worker_timeout', { seconds: limitMs / 1000 }))),
    );
  }

  private died(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    if (!this.stopped)
      this.opts.logger.error({ err }, 'the apply worker died; the next apply starts another');
    this.drop(
      worker,
      new ApplyWorkerLost(englishOf(coded('apply_worker_died', { error: err.message })), err),
    );
  }

  private drop(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined;
    if (this.ready === worker) this.ready = undefined;
    this.settle(worker, err);
    void worker.terminate();
  }

  private settle(worker: Worker | undefined, err: Error): void {
    const p = this.pending;
    if (p === undefined || (worker !== undefined && p.worker !== worker)) return;
    this.pending = undefined;
    clearTimeout(this.deadline);
    p.reject(err);
  }
}

/** An error of the worker as data (see the head). */
function carry(err: unknown): CarriedError {
  if (err instanceof SpecError) return { kind: 'spec', problems: err.problems };
  if (err instanceof RevisionConflictError)
    return { kind: 'revision', expected: err.expected, actual: err.actual };
  if (err instanceof OutpostError)
    return {
      kind: 'outpost',
      api: err instanceof ApiError,
      code: err.code,
      message: err.message,
      path: err.path,
      expose: err.expose,
    };
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'other', message: e.message, stack: e.stack };
}

/** The error made again on the host's side, of the same class. */
function rebuildError(c: CarriedError): Error {
  if (c.kind === 'spec') return new SpecError(c.problems);
  if (c.kind === 'revision') return new RevisionConflictError(c.expected, c.actual);
  if (c.kind === 'outpost') {
    if (c.api) return new ApiError(c.code, c.message, c.path);
    return new OutpostError(c.code, c.message, {
      expose: c.expose,
      ...(c.path !== undefined ? { path: c.path } : {}),
    });
  }
  const err = new Error(c.message);
  if (c.stack !== undefined) err.stack = c.stack;
  return err;
}

// ---- the worker's side ----

/**
 * The entries `result` created or updated, as their rows hold them (JSON of the parsed entry),
 * from the state the worker's store holds after its write (its cache: no read, no parse).
 */
function writtenEntries(state: StoredState, result: ChangeResult): WrittenEntry[] {
  const changed = result.diff.changes.filter((c) => c.op !== 'delete');
  if (changed.length === 0) return [];
  const edges = new Map(state.spec.edges.map((e) => [e.name, e]));
  const sites = new Map(state.spec.sites.map((x) => [x.domain, x]));
  const out: WrittenEntry[] = [];
  for (const c of changed) {
    const entry =
      c.kind === 'edge'
        ? edges.get(c.key)
        : c.kind === 'site'
          ? sites.get(c.key)
          : state.spec[c.kind];
    if (entry !== undefined) out.push({ kind: c.kind, text: JSON.stringify(entry) });
  }
  return out;
}

/** Answers the host's applies with a DesiredState over the worker's own `store`. */
export function serveApplies(
  port: MessagePort,
  store: Store,
  data: Pick<ApplyWorkerData, 'holdStateWriteMs' | 'testHooks'>,
  logger: FastifyBaseLogger,
): void {
  const hooks = data.testHooks;
  const gate = hooks?.gate !== undefined ? new Int32Array(hooks.gate) : undefined;
  const send = (m: FromWorker) => port.postMessage(m);
  let crash = false;
  let current = 0;
  const hold = data.holdStateWriteMs;
  const beforeCommit =
    hold === undefined && hooks === undefined
      ? undefined
      : async () => {
          if (hold !== undefined) {
            logger.warn({ ms: hold }, 'test hook: holding the desired-state write open');
            await new Promise((resolve) => setTimeout(resolve, hold));
          }
          if (crash) {
            crash = false;
            // Uncaught, as a bug would be, inside the open transaction: the worker dies.
            process.nextTick(() => {
              throw new Error('test hook: the apply worker crashed');
            });
            await new Promise<never>(() => undefined);
          }
        };
  // TEST ONLY: each write waits (the thread blocked) while gate[1] is 1; 2 lets one through.
  const writes: Store =
    gate === undefined
      ? store
      : Object.assign(Object.create(store) as Store, {
          writeState: (...args: Parameters<Store['writeState']>) => {
            send({ type: 'writing', id: current });
            while (Atomics.compareExchange(gate, 1, 2, 1) === 1) Atomics.wait(gate, 1, 1, 1000);
            return store.writeState(...args);
          },
        });
  // Its reactions (onChanged) run on the host's side, after the answer.
  const state = new DesiredState(writes, () => undefined, beforeCommit);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'test-crash') {
      if (hooks !== undefined) crash = true;
      return;
    }
    current = m.id;
    send({ type: 'applying', id: m.id });
    // TEST ONLY: the thread is held (synchronously, as busy as a long parse) while gate[0] is 1.
    if (gate !== undefined) while (Atomics.load(gate, 0) === 1) Atomics.wait(gate, 0, 1, 1000);
    state
      .apply(m.input, m.options)
      .then(async (result) => {
        // The write is done: a failure here only costs the request thread a parse.
        const written = result.changed
          ? await store.readSharedState().then(
              (after) => writtenEntries(after, result),
              () => [],
            )
          : [];
        send({ type: 'applied', id: m.id, result, written });
      })
      .catch((err: unknown) => send({ type: 'failed', id: m.id, error: carry(err) }));
  });
  send({ type: 'ready' });
}
