// The plumbing every worker thread of the control plane shares (issue 14): the build worker
// (edges/build-worker.ts) and the apply worker (state/apply-worker.ts) each run in a long-lived
// `node:worker_threads` Worker started from an entry module in server/.
//
// - The entry: from the sources (tsx, vitest) it is a .ts file and the worker registers tsx
//   first (the loader bin/outpost.js uses); from dist/ it is the compiled .js. The parent's
//   loader flags (execArgv: tsx's, vitest's) never leak into the worker.
// - Logs: the worker's pino lines are posted to the host as `{ type: 'log', level, entry }`
//   and logged through the control plane's logger (same level, same destination), with
//   `thread` naming the worker.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { pino, type Level } from 'pino';

/** A log line of a worker, posted to its host. */
export interface WorkerLogMessage {
  type: 'log';
  level: number;
  entry: Record<string, unknown>;
}

/** The worker entry module beside `from` (a module URL), .ts from the sources, .js in dist/. */
export function workerEntry(from: string, relative: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${relative}${ext}`, from);
}

/** Starts a worker thread on `entry` (see the head) with `workerData`. */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  return entry.pathname.endsWith('.ts')
    ? new Worker(tsxBootstrap(entry), { eval: true, workerData, execArgv: [] })
    : new Worker(entry, { workerData, execArgv: [] });
}

/** Worker code (eval) that registers tsx, then imports the .ts entry. */
function tsxBootstrap(entry: URL): string {
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); }).catch((err) => { throw err; });`;
}

/** The host's side: logs a worker's line through `logger`, marked with the worker's name. */
export function relayWorkerLog(
  logger: FastifyBaseLogger,
  thread: string,
  level: number,
  entry: Record<string, unknown>,
): void {
  const { msg, level: _level, time: _time, pid: _pid, hostname: _host, ...rest } = entry;
  void _level;
  void _time;
  void _pid;
  void _host;
  const name = (pino.levels.labels[level] ?? 'info') as Level;
  logger[name]({ ...rest, thread }, typeof msg === 'string' ? msg : '');
}

/** The worker's side: a logger whose lines go to the host (which relays them). */
export function workerLogger(port: MessagePort, level: string): FastifyBaseLogger {
  return pino(
    { level, base: null },
    {
      write(line: string) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        const message: WorkerLogMessage = { type: 'log', level: Number(entry.level), entry };
        port.postMessage(message);
      },
    },
  );
}
