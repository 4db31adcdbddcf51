// `npm run bench:control-plane`: is the control plane responsive while it builds?
//
// Loopback only. Each case is two child processes: the control plane alone (temp SQLite or a
// throwaway PostgreSQL database, no nginx -t) with N sites on E edges, and its clients
// (bench/control-plane-clients.ts): A long-polling agents, each from its own 127.3.x.y address
// (GET /v1/edge/poll?wait=30 with If-None-Match, each edge's token shared by A/E agents; they
// only poll, they apply nothing), and three admin clients, one per path, each calling back to
// back on its own connection: GET /v1/sites, GET /v1/status and a small GET /v1/sites/<one>
// (a big answer is slow by its size; the small call is slow only when the event loop is
// held). After an idle phase (--idle seconds), one apply changes every site's origin port, so
// every site is rendered again and every edge rebuilt; the admin calls go on until every agent
// has seen its edge's new bundle. The control plane's process measures its own request
// thread's event-loop delay (perf_hooks.monitorEventLoopDelay), CPU and peak RSS (the build
// worker thread's included) per phase; the clients' CPU and RSS are reported beside them, not
// in them. This parent only starts the processes, relays their messages (IPC) and prints.
//
// Until issue 14's sixth wave the agents and the admin client ran on the control plane's own
// event loop (one process), so those older figures include the clients' work: not comparable.
//
// Three cases, side by side:
//
//   inline   the builder never yields to the event loop (how it ran before issue 14)
//   yield    the builder yields every 8 ms (setImmediate) on the request thread
//   worker   the build runs in the build worker thread (edges/build-worker.ts): its own
//            store connection; the apply (parse, validate, diff, write) on the request thread
//   apply    as `outpost serve` runs: builds in the build worker, and POST /v1/apply in the
//            apply worker thread (state/apply-worker.ts), the request thread free of both
//
// --body json (default) sends the change as `{"spec": …}`; --body yaml as `{"yaml": …}`, what
// `outpost apply -f` sends (the YAML parse is the largest part of an apply at 10,000 sites).
//
// A benchmark measures and prints: it never fails on a time. Every case is bounded by
// --timeout seconds (then both its processes are killed, and the row says in which phase);
// the children exit when this process goes away (their IPC channel closes).
//
// --database sqlite,postgres runs every case on each store: `postgres` is a throwaway
// PostgreSQL from Debian's package (test/support/postgres.ts, on loopback), one empty database
// per case.
//
//   npm run bench:control-plane -- --sites 5000 --edges 10 --agents 1000 [--database postgres]
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stdio as out, table } from '../src/cli/output.js';
import { ensureAdminToken } from '../src/http/admin-auth.js';
import { buildControlPlane } from '../src/server/app.js';
import { loadSecretBox, newSecretKey, openStore, writeKeyFile } from '../src/store/index.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';
import type { ClientsResult, FromClients, PhaseStats, ToClients } from './control-plane-clients.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '5000' },
    edges: { type: 'string', default: '10' },
    agents: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '300' },
    idle: { type: 'string', default: '5' },
    /** Write a V8 CPU profile of the control plane's request thread during the change. */
    profile: { type: 'string' },
    cases: { type: 'string', default: 'inline,yield,worker,apply' },
    body: { type: 'string', default: 'json' },
    database: { type: 'string', default: 'sqlite' },
    /** The control plane's process: its case, its directory (made by the parent), its store. */
    case: { type: 'string' },
    dir: { type: 'string' },
    /** A postgres:// URL; absent, a SQLite file in --dir. */
    'store-url': { type: 'string' },
  },
});

function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    out.error(`--${name} must be a whole number from 1 to ${max}`);
    process.exit(2);
  }
  return n;
}
const SITES = positive('sites', args.sites, 20_000);
const EDGES = positive('edges', args.edges, 1000);
const AGENTS = positive('agents', args.agents, 5000);
const TIMEOUT = positive('timeout', args.timeout, 3600);
const IDLE = positive('idle', args.idle, 600);

/** Parent → the control plane's process. */
type ToControlPlane =
  { type: 'mark'; id: number; phase: string } | { type: 'hashes'; id: number } | { type: 'stop' };
/** The control plane's process → parent. */
type FromControlPlane =
  | { type: 'ready'; base: string; adminToken: string }
  | Extract<ToClients, { type: 'marked' | 'hashes' }>;

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

const ELD_RESOLUTION_MS = 10;
const beyond = (ns: number) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);

// ---- The control plane's process (--case): the control plane alone, measured by itself ----

async function controlPlane(
  name: string,
  dir: string,
  storeUrl: string | undefined,
  profileFile: string | undefined,
) {
  // The parent gone (killed, even with SIGKILL): its IPC channel closes; no stray process, and
  // the case's directory (the parent would have removed it) goes too.
  process.on('disconnect', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
  const send = (m: FromControlPlane, then?: () => void) => process.send?.(m, undefined, {}, then);
  const url = storeUrl ?? `sqlite:${join(dir, 'outpost.db')}`;
  const secretKeyFile = join(dir, 'secret.key');
  writeKeyFile(secretKeyFile, newSecretKey());
  const store = await openStore({ url, secrets: loadSecretBox(secretKeyFile).box });
  const adminToken = (await ensureAdminToken(store)) as string;
  const app = await buildControlPlane({
    store,
    logger: pino({ level: 'warn' }, pino.destination(2)),
    publicUrl: 'http://127.0.0.1',
    version: 'bench',
    probeIntervalMs: 0,
    secretKeyFile,
    buildInline: name === 'inline',
    ...(name === 'worker' || name === 'apply' ? { buildWorker: { storeUrl: url } } : {}),
    ...(name === 'apply' ? { applyWorker: { storeUrl: url } } : {}),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The histogram records the time between two of its 10 ms timer's ticks: the delay is what
  // exceeds the 10 ms (an idle loop records about 10.1 ms).
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  let cpu0 = process.cpuUsage();
  // Since the last mark: the request thread's event-loop delay (ms) and the process's CPU.
  const stats = (): PhaseStats => {
    const cpu = process.cpuUsage(cpu0);
    return {
      eld: {
        p50: beyond(eld.percentile(50)),
        p99: beyond(eld.percentile(99)),
        max: beyond(eld.max),
      },
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  };
  // --profile: the request thread's CPU profile from the change's start to its end (the build
  // worker's thread is not in it), written for Chrome DevTools and summed up by the parent.
  const session = profileFile !== undefined ? new Session() : undefined;
  session?.connect();
  process.on('message', (m: ToControlPlane) => {
    if (m.type === 'mark') {
      const s = stats();
      void (async () => {
        if (session !== undefined && m.phase === 'change start') {
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 500 });
          await session.post('Profiler.start');
        } else if (session !== undefined && profileFile !== undefined && m.phase === 'change end') {
          const { profile } = await session.post('Profiler.stop');
          writeFileSync(profileFile, JSON.stringify(profile));
        }
        send({ type: 'marked', id: m.id, stats: s });
      })();
      eld.reset();
      cpu0 = process.cpuUsage();
    } else if (m.type === 'hashes') {
      void store.latestBundles().then((bundles) =>
        send({
          type: 'hashes',
          id: m.id,
          hashes: Object.fromEntries(bundles.map((b) => [b.edge, b.hash])),
        }),
      );
    } else if (m.type === 'stop') {
      eld.disable();
      void (async () => {
        await app.close().catch(() => undefined);
        await store.close().catch(() => undefined);
        process.exit(0);
      })();
    }
  });
  send({ type: 'ready', base, adminToken });
}

// ---- The parent: one case = the control plane's process + the clients' process ----

interface CaseResult extends ClientsResult {
  store: string;
  name: string;
}

/** Children still running and the cases' directories: killed and removed when this process
 * exits, however it exits (but SIGKILL: then the children exit as their IPC channel closes). */
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function start(file: string, argv: string[]): { child: ChildProcess; stderr: () => string } {
  // Under tsx, the children inherit its loader through process.execArgv (fork's default).
  const child = fork(file, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  return { child, stderr: () => tail.trim().slice(-400) };
}

async function runCase(
  store: string,
  name: string,
  storeUrl: string | undefined,
): Promise<CaseResult | string> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-cp-'));
  dirs.add(dir);
  const children: ChildProcess[] = [];
  let bound: NodeJS.Timeout | undefined;
  try {
    return await new Promise<CaseResult | string>((resolve) => {
      const t0 = performance.now();
      let phase = 'control plane starting';
      let done = false;
      let clients: ReturnType<typeof start> | undefined;
      const fail = (why: string) => {
        done = true;
        resolve(`failed in phase "${phase}": ${why.replace(/\s+/g, ' ')}`);
      };
      bound = setTimeout(() => fail(`timed out after ${TIMEOUT} s`), TIMEOUT * 1000);
      const cp = start(import.meta.filename, [
        '--case',
        name,
        '--dir',
        dir,
        ...(storeUrl !== undefined ? ['--store-url', storeUrl] : []),
        ...(args.profile !== undefined ? ['--profile', profilePath(store, name)] : []),
      ]);
      children.push(cp.child);
      cp.child.once('exit', (code, signal) => {
        if (!done) fail(`the control plane exited (${signal ?? code}): ${cp.stderr()}`);
      });
      cp.child.on('message', (m: FromControlPlane) => {
        if (m.type !== 'ready') {
          clients?.child.send(m);
          return;
        }
        phase = 'clients starting';
        clients = start(join(import.meta.dirname, 'control-plane-clients.ts'), []);
        children.push(clients.child);
        const c = clients;
        c.child.once('exit', (code, signal) => {
          if (!done) fail(`the clients exited (${signal ?? code}): ${c.stderr()}`);
        });
        c.child.on('message', (r: FromClients) => {
          if (r.type === 'phase') {
            phase = r.phase;
            out.line(
              `  ${store} ${name}: ${phase} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
            );
          } else if (r.type === 'mark' || r.type === 'hashes') cp.child.send(r);
          else if (r.type === 'error') fail(r.message);
          else if (r.type === 'result') {
            done = true;
            resolve({ ...r.result, store, name });
          }
        });
        const go: ToClients = {
          type: 'start',
          base: m.base,
          adminToken: m.adminToken,
          sites: SITES,
          edges: EDGES,
          agents: AGENTS,
          idleMs: IDLE * 1000,
          timeoutMs: TIMEOUT * 1000,
          body: args.body === 'yaml' ? 'yaml' : 'json',
        };
        c.child.send(go);
      });
    });
  } finally {
    clearTimeout(bound);
    // The control plane closes itself when asked; whatever still runs after 30 s (or after a
    // failure, at once) is killed. Nothing outlives its case.
    const [cp, clients] = children;
    if (clients !== undefined && clients.exitCode === null) clients.kill('SIGKILL');
    if (cp !== undefined && cp.connected) cp.send({ type: 'stop' } satisfies ToControlPlane);
    const kill = setTimeout(() => {
      for (const c of children) c.kill('SIGKILL');
    }, 30_000);
    await Promise.all(children.map(ended));
    clearTimeout(kill);
    await rm(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}

const ms = (n: number) =>
  Number.isNaN(n) ? '-' : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`;

/** `--profile x.cpuprofile`: one file per case, x.<store>-<case>.cpuprofile. */
const profilePath = (store: string, name: string) =>
  (args.profile ?? '').replace(/(\.cpuprofile)?$/, `.${store}-${name}.cpuprofile`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The top functions of a V8 CPU profile by self time and by inclusive time (ms). */
function topFunctions(file: string, n: number): string[][] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const label = (x: ProfileNode) =>
    `${x.callFrame.functionName || '(anonymous)'} ${x.callFrame.url.split('/').slice(-2).join('/')}:${x.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    const counted = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!);
      if (counted.has(k)) continue;
      counted.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  const a = top(self);
  const b = top(incl);
  return [
    ['self', 'ms', 'inclusive', 'ms'],
    ...a.map(([k, v], i) => [k, v.toFixed(0), b[i]?.[0] ?? '', (b[i]?.[1] ?? 0).toFixed(0)]),
  ];
}

const mib = (n: number) => `${n.toFixed(0)} MiB`;
const size = (bytes: number) =>
  bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${(bytes / 1024).toFixed(0)} KiB`
      : `${bytes} B`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

async function main(): Promise<void> {
  if (args.case !== undefined) {
    if (args.dir === undefined) throw new Error('--case needs --dir');
    await controlPlane(args.case, args.dir, args['store-url'], args.profile);
    return;
  }
  const stores = args.database.split(',');
  for (const s of stores)
    if (s !== 'sqlite' && s !== 'postgres') {
      out.error(`--database must be sqlite, postgres or both (sqlite,postgres), not "${s}"`);
      process.exit(2);
    }
  for (const c of args.cases.split(','))
    if (!['inline', 'yield', 'worker', 'apply'].includes(c)) {
      out.error(`--cases takes inline, yield, worker and apply (comma-separated), not "${c}"`);
      process.exit(2);
    }
  if (args.body !== 'json' && args.body !== 'yaml') {
    out.error(`--body must be json or yaml, not "${args.body}"`);
    process.exit(2);
  }
  out.line(
    `${SITES} sites on ${EDGES} edges, ${AGENTS} long-polling agents; cases: ${args.cases}; change sent as ${args.body}; stores: ${stores.join(', ')}; load average ${load()}`,
  );
  const results: (CaseResult | { store: string; name: string; failed: string })[] = [];
  let pg: TestPostgres | undefined;
  let databases = 0;
  try {
    for (const store of stores)
      for (const name of args.cases.split(',')) {
        let storeUrl: string | undefined;
        if (store === 'postgres') {
          pg ??= await startPostgres();
          storeUrl = await pg.createDatabase(`bench_cp_${++databases}`);
        }
        const r = await runCase(store, name, storeUrl);
        results.push(typeof r === 'string' ? { store, name, failed: r } : r);
        out.line(`done: ${store} ${name}${typeof r === 'string' ? `: ${r}` : ''}`);
      }
  } finally {
    await pg?.stop();
  }

  // Per path: a slow big answer (its size) beside the small call (the event loop).
  const paths = [
    [
      'store',
      'build',
      'admin call',
      'answer',
      'idle p50',
      'idle p99',
      'calls',
      'during change p50',
      'p99',
      'max',
      'calls',
      'errors',
    ],
  ];
  const summary = [
    [
      'store',
      'build',
      'change to all agents',
      'apply answered',
      'polls',
      'event-loop delay p50',
      'p99',
      'max',
      'idle p99 / max',
      'CPU (change)',
      'peak RSS',
      'clients CPU',
      'clients RSS',
    ],
  ];
  for (const r of results) {
    if ('failed' in r) {
      summary.push([r.store, r.name, r.failed, ...Array<string>(10).fill('')]);
      continue;
    }
    for (const p of r.paths)
      paths.push([
        r.store,
        r.name,
        `GET ${p.path.length > 24 ? `${p.path.slice(0, 21)}...` : p.path}`,
        size(p.bytes),
        ms(percentile(p.idle, 50)),
        ms(percentile(p.idle, 99)),
        String(p.idle.length),
        ms(percentile(p.during, 50)),
        ms(percentile(p.during, 99)),
        ms(p.during.at(-1) ?? NaN),
        String(p.during.length),
        p.errors > 0 ? `${p.errors} (${p.firstError.slice(0, 60)})` : '0',
      ]);
    summary.push([
      r.store,
      r.name,
      ms(r.changeMs),
      ms(r.applyMs),
      `${r.polls}${r.pollErrors > 0 ? ` (${r.pollErrors} errors: ${r.firstPollError.slice(0, 80)})` : ''}`,
      ms(r.during.eld.p50),
      ms(r.during.eld.p99),
      ms(r.during.eld.max),
      `${ms(r.idle.eld.p99)} / ${ms(r.idle.eld.max)}`,
      ms(r.during.cpuMs),
      mib(r.during.peakRssMiB),
      ms(r.clientsCpuMs),
      mib(r.clientsPeakRssMiB),
    ]);
  }
  out.line('Admin calls (the control plane in its own process; clients in another):');
  out.line(table(paths));
  out.line('The change, and the control plane process (CPU and peak RSS its own):');
  out.line(table(summary));
  for (const r of results)
    if (!('failed' in r))
      out.line(
        `${r.store} ${r.name}: first apply to every agent's first bundle ${ms(r.setupMs)}; the control plane's CPU from its start to then ${ms(r.setup.cpuMs)}, event-loop delay max ${ms(r.setup.eld.max)}`,
      );
  if (args.profile !== undefined)
    for (const r of results) {
      if ('failed' in r) continue;
      const file = profilePath(r.store, r.name);
      out.line(`The request thread during the change, ${r.store} ${r.name} (${file}):`);
      out.line(table(topFunctions(file, 25)));
    }
  out.line(`load average ${load()}`);
}

await main();
