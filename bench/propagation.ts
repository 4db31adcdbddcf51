// `npm run bench:propagation`: how long a change takes to reach every edge.
//
// Loopback only: a control plane (temp SQLite, no nginx -t, builds in the build worker) and N
// simulated agents (bench/propagation-agents.ts, in a child process of their own unless
// --agents inline) that do what the real agent does on the wire: long-poll their bundle with
// their own token and If-None-Match, verify its signature with the key from /v1/edge/hello,
// and report the applied release (no nginx: this measures the control plane and the pull
// path). The control plane's CPU time over the rounds is printed (process.cpuUsage: the
// request thread and the build worker; the agents' process is not in it). Each
// round changes an origin weight of a site served by every edge, and measures, from the start
// of the apply request, the time until the first and until the last agent has reported the
// new release (as the agents see their report accepted).
//
// A benchmark measures and prints: it never fails on a time. It stops by itself: the whole
// run is bounded by --timeout seconds.
//
// --listen is the control plane's address (loopback only: 127.0.0.0/8 or ::1); --edges is at
// most 2,000 (1,000 agents hold 1,000 long-polls on one address). --timeout defaults to
// 180 s plus 0.3 s per edge.
//
// At 1,000 edges (and at 200) the run used to time out: all simulated agents connect from one
// address, and the control plane closes an address's connections past 256 (client-limits.ts;
// real edges each have their own address), so agents were reset (ECONNRESET) again and again;
// and the 1,000 agents connected at once, beyond the listen backlog (Node's default 511), and
// every refused connection retried 500 ms later, all together again. Now the bench raises the
// per-address limit to what its agents need (2 per agent: the long-poll and a report), the server
// listens with a backlog of 4,096 (capped by net.core.somaxconn), the agents start in waves of
// WAVE (each wave once its agents said hello, as edges joining over time would), and a failed
// request retries after a random 0.5-1.5 s; errors are counted and the first few printed with
// their cause.
//
//   npm run bench:propagation -- --edges 200 --rounds 10
//   npm run bench:propagation -- --edges 1000 --rounds 5 --listen 127.0.0.2
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stdio, table } from '../src/cli/output.js';
import { ensureAdminToken } from '../src/http/admin-auth.js';
import { buildControlPlane } from '../src/server/app.js';
import { openStore } from '../src/store/index.js';
import {
  runAgents,
  type AgentCounts,
  type FromAgents,
  type ToAgents,
} from './propagation-agents.js';

const out = stdio;

const { values: args } = parseArgs({
  options: {
    edges: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '10' },
    wait: { type: 'string', default: '30' },
    timeout: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1' },
    /** Where bundles are built: `worker` (the build worker thread, as `outpost serve` does) or `process`. */
    build: { type: 'string', default: 'worker' },
    /** Where the simulated agents run: `process` (a child process of their own) or `inline`. */
    agents: { type: 'string', default: 'process' },
  },
});
const EDGES = positive('edges', args.edges);
if (EDGES > 2000) {
  out.error('--edges must be at most 2000');
  process.exit(2);
}
const LISTEN = args.listen;
if (args.build !== 'worker' && args.build !== 'process') {
  out.error(`--build takes worker or process, not "${args.build}"`);
  process.exit(2);
}
// Everything the bench sends goes to loopback: the control plane's address must be one.
if (!((isIP(LISTEN) === 4 && LISTEN.startsWith('127.')) || LISTEN === '::1')) {
  out.error('--listen must be a loopback address (127.0.0.0/8 or ::1)');
  process.exit(2);
}
if (args.agents !== 'process' && args.agents !== 'inline') {
  out.error(`--agents takes process or inline, not "${args.agents}"`);
  process.exit(2);
}
const ROUNDS = positive('rounds', args.rounds);
const WAIT_SECONDS = positive('wait', args.wait);
const TIMEOUT_SECONDS =
  args.timeout !== undefined ? positive('timeout', args.timeout) : 180 + Math.ceil(EDGES * 0.3);
/** Agents started together; the next wave starts once these said hello. */
const WAVE = 100;

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    out.error(`--${name} must be a positive whole number`);
    process.exit(2);
  }
  return n;
}

const edgeName = (i: number) => `e${String(i + 1).padStart(4, '0')}`;

/** The desired state: N edges, one site on all of them; `round` sets an origin weight. */
function spec(round: number): string {
  const lines = ['edges:'];
  for (let i = 0; i < EDGES; i++) {
    lines.push(`  - name: ${edgeName(i)}`);
    lines.push(`    host: { v4: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  }
  lines.push(
    'sites:',
    '  - domain: bench.example.com',
    '    origins:',
    `      - { host: { v4: 192.0.2.1 }, protocol: http, weight: ${(round % 100) + 1} }`,
    '      - { host: { v4: 192.0.2.2 }, protocol: http }',
    "    edges: ['*']",
    '',
  );
  return lines.join('\n');
}

/** Nearest-rank percentile. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
    NaN
  );
}

const ms = (n: number) => (Number.isNaN(n) ? '-' : `${n.toFixed(1)} ms`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface SimulatedAgent {
  edge: string;
  applied: number;
}

/**
 * Starts the agents (in a child process, or on this thread with --agents inline); resolves
 * once every agent said hello. `stop` ends them and gives their counts.
 */
async function startAgents(
  run: { server: string; agents: [string, string][]; signal: AbortSignal },
  onApplied: (edge: string, release: number) => void,
): Promise<{ stop: () => Promise<AgentCounts> }> {
  const orders = { server: run.server, agents: run.agents, waitSeconds: WAIT_SECONDS, wave: WAVE };
  if (args.agents === 'inline') {
    const stop = new AbortController();
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const counts = runAgents({
      ...orders,
      signal: stop.signal,
      onReady: ready,
      onApplied,
      onError: (line) => out.error(line),
    });
    await Promise.race([started, new Promise((r) => run.signal.addEventListener('abort', r))]);
    return {
      stop: () => {
        stop.abort();
        return counts;
      },
    };
  }
  const child = fork(
    new URL('./propagation-agents.ts', import.meta.url),
    ['--propagation-agents'],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let done: (c: AgentCounts) => void = () => undefined;
  const counts = new Promise<AgentCounts>((resolve) => (done = resolve));
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (m: FromAgents) => {
    if (m.type === 'applied') onApplied(m.edge, m.release);
    else if (m.type === 'ready') ready();
    else if (m.type === 'log') out.error(m.line);
    else done(m.counts);
  });
  child.on('exit', () => done({ polls: NaN, errors: NaN }));
  const send = (m: ToAgents) => child.send(m);
  send({ type: 'start', ...orders });
  await Promise.race([started, new Promise((r) => run.signal.addEventListener('abort', r))]);
  return {
    stop: () => {
      if (child.connected) send({ type: 'stop' });
      setTimeout(() => child.kill(), 10_000).unref();
      return counts;
    },
  };
}

async function main(): Promise<number> {
  const started = performance.now();
  const stop = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    stop.abort();
    // Bounded no matter what: if tearing down hangs too, leave anyway.
    setTimeout(() => {
      out.error(`bench:propagation: gave up after ${TIMEOUT_SECONDS} s (--timeout)`);
      process.exit(1);
    }, 10_000).unref();
  }, TIMEOUT_SECONDS * 1000);

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);

  const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-'));
  const storeUrl = `sqlite:${join(dir, 'outpost.db')}`;
  const store = await openStore({ url: storeUrl });
  const adminToken = (await ensureAdminToken(store)) as string;
  const app = await buildControlPlane({
    store,
    ...(args.build === 'worker' ? { buildWorker: { storeUrl } } : {}),
    logger: pino({ level: 'warn' }, pino.destination(2)),
    publicUrl: 'http://127.0.0.1',
    version: 'bench',
    // The simulated edges and origins have addresses nothing here may send traffic to.
    probeIntervalMs: 0,
    // Every simulated agent connects from the one loopback address, where real edges each have
    // their own: the per-address connection limit (256, against one client hoarding
    // connections) would close the connections of all agents past the 256th (ECONNRESET).
    clientLimits: { maxConnectionsPerClient: 2 * EDGES + 64 },
  });
  // 4,096 pending connections (the kernel caps it at net.core.somaxconn), not Node's 511.
  const server = await app.listen({ host: LISTEN, port: 0, backlog: 4096 });
  const admin = (path: string, body?: unknown) =>
    fetch(`${server}/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  // Whoever waits for a release is told as soon as an agent reports one.
  let onApplied: (edge: string, release: number) => void = () => undefined;

  const agents: SimulatedAgent[] = [];
  let pool: { stop: () => Promise<AgentCounts> } | undefined;
  let counts: AgentCounts = { polls: 0, errors: 0 };
  const rows: { first: number; all: number; apply: number; cpu: number }[] = [];
  let failure: string | undefined;
  try {
    out.line(
      `Control plane on ${server}; applying ${EDGES} edges and starting ${EDGES} simulated agents…`,
    );
    const first = await admin('v1/apply', { yaml: spec(0) });
    if (!first.ok)
      throw new Error(`the first apply failed: HTTP ${first.status} ${await first.text()}`);
    const tokens = ((await first.json()) as { edge_tokens: Record<string, string> }).edge_tokens;

    const pairs: [string, string][] = [];
    for (let i = 0; i < EDGES; i++) {
      const edge = edgeName(i);
      const token = tokens[edge];
      if (token === undefined) throw new Error(`no token for ${edge}`);
      pairs.push([edge, token]);
      agents.push({ edge, applied: 0 });
    }
    const byName = new Map(agents.map((a) => [a.edge, a]));
    pool = await startAgents({ server, agents: pairs, signal: stop.signal }, (edge, release) => {
      const agent = byName.get(edge);
      if (agent !== undefined) agent.applied = release;
      onApplied(edge, release);
    });

    /** Resolves when every agent has reported `release`: times of the first and the last. */
    const waitForRelease = (release: number) =>
      new Promise<{ first: number; all: number }>((resolve, reject) => {
        let first = NaN;
        let pending = agents.filter((a) => a.applied < release).length;
        if (pending === 0) return resolve({ first: performance.now(), all: performance.now() });
        const abort = () => reject(new Error(`stopped waiting for release ${release}`));
        stop.signal.addEventListener('abort', abort, { once: true });
        onApplied = (_edge, r) => {
          if (r !== release) return;
          if (Number.isNaN(first)) first = performance.now();
          pending -= 1;
          if (pending === 0) {
            stop.signal.removeEventListener('abort', abort);
            resolve({ first, all: performance.now() });
          }
        };
      });

    await waitForRelease(1);
    out.line(
      `All ${EDGES} agents serve release 1 (${((performance.now() - started) / 1000).toFixed(1)} s after start). Measuring ${ROUNDS} rounds…`,
    );

    for (let round = 1; round <= ROUNDS; round++) {
      const release = round + 1; // every round changes every edge's bundle once
      const waiting = waitForRelease(release);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await admin('v1/apply', { yaml: spec(round) });
      const applyMs = performance.now() - t0;
      if (!res.ok) throw new Error(`apply ${round} failed: HTTP ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      const { first: tFirst, all: tAll } = await waiting;
      const cpu = process.cpuUsage(cpu0);
      rows.push({
        first: tFirst - t0,
        all: tAll - t0,
        apply: applyMs,
        cpu: (cpu.user + cpu.system) / 1000,
      });
    }

    // The control plane agrees: every edge applied its newest release.
    const status = (await (await admin('v1/status')).json()) as {
      edges: { applied_release: number | null; desired_release: number | null }[];
    };
    const current = status.edges.filter(
      (e) => e.applied_release !== null && e.applied_release === e.desired_release,
    ).length;
    out.line(`/v1/status: ${current} of ${status.edges.length} edges on their newest release.`);
  } catch (err) {
    failure = timedOut
      ? `gave up after ${TIMEOUT_SECONDS} s (--timeout) with ${rows.length} of ${ROUNDS} rounds measured`
      : (err as Error).message;
  } finally {
    clearTimeout(deadline);
    stop.abort();
    // The agents stop first; closing answers the long-polls still open.
    const stopping = pool?.stop();
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
    if (stopping !== undefined) counts = await stopping;
    await store.close();
    await rm(dir, { recursive: true, force: true });
    clearInterval(sampler);
  }

  const summary = (pick: (r: (typeof rows)[number]) => number) => {
    const sorted = rows.map(pick).sort((a, b) => a - b);
    return [ms(percentile(sorted, 50)), ms(percentile(sorted, 99)), ms(sorted.at(-1) ?? NaN)];
  };
  out.line('');
  out.line(
    `propagation: ${EDGES} edges (simulated agents, long-poll wait=${WAIT_SECONDS}s), ${rows.length} rounds`,
  );
  out.line(
    table([
      ["from the apply request's start to", 'p50', 'p99', 'max'],
      ['apply answered', ...summary((r) => r.apply)],
      ['first edge applied', ...summary((r) => r.first)],
      ['all edges applied', ...summary((r) => r.all)],
      ['control-plane CPU in the round', ...summary((r) => r.cpu)],
    ]),
  );
  out.line(
    `process RSS: ${mib(process.memoryUsage().rss)} now, ${mib(peakRss)} peak; run took ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  out.line(
    `polls: ${counts.polls} in all for ${EDGES} agents (${args.agents === 'inline' ? 'on this thread' : 'in their own process'}) and ${rows.length + 1} releases; agent request errors: ${counts.errors}`,
  );
  if (failure !== undefined) {
    const behind = agents
      .filter((a) => a.applied < rows.length + 2)
      .map((a) => `${a.edge}@${a.applied}`);
    out.line(
      `agents not on the newest release: ${behind.length} (${behind.slice(0, 10).join(', ')})`,
    );
  }
  out.line(
    `node ${process.version}, ${process.platform}/${process.arch}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (failure !== undefined) {
    out.error(`bench:propagation: ${failure}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
