// `npm run bench:propagation`: how long a change takes to reach every edge.
//
// One process, loopback only: a control plane (temp SQLite, no nginx -t) and N simulated
// agents that do what the real agent does on the wire: long-poll their bundle with their own
// token and If-None-Match, verify its signature with the key from /v1/edge/hello, and report
// the applied release (no nginx: this measures the control plane and the pull path). Each
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
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { verifyBundle } from '../src/bundle/index.js';
import { stdio, table } from '../src/cli/output.js';
import { ensureAdminToken } from '../src/http/admin-auth.js';
import { buildControlPlane } from '../src/server/app.js';
import type { EdgeReport } from '../src/spec/index.js';
import { openStore } from '../src/store/index.js';

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
const ROUNDS = positive('rounds', args.rounds);
const WAIT_SECONDS = positive('wait', args.wait);
const TIMEOUT_SECONDS =
  args.timeout !== undefined ? positive('timeout', args.timeout) : 180 + Math.ceil(EDGES * 0.3);
/** Agents started together; the next wave starts once these said hello. */
const WAVE = 100;
/** Request errors of the simulated agents (the first few are printed). */
let agentErrors = 0;

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
  /** Bundle requests made: about one per change when long-polling works. */
  polls: number;
  loop: Promise<void>;
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
  const rows: { first: number; all: number; apply: number }[] = [];
  let failure: string | undefined;
  try {
    out.line(
      `Control plane on ${server}; applying ${EDGES} edges and starting ${EDGES} simulated agents…`,
    );
    const first = await admin('v1/apply', { yaml: spec(0) });
    if (!first.ok)
      throw new Error(`the first apply failed: HTTP ${first.status} ${await first.text()}`);
    const tokens = ((await first.json()) as { edge_tokens: Record<string, string> }).edge_tokens;

    const aborted = new Promise((resolve) =>
      stop.signal.addEventListener('abort', resolve, { once: true }),
    );
    for (let wave = 0; wave < EDGES; wave += WAVE) {
      const hellos: Promise<void>[] = [];
      for (let i = wave; i < Math.min(EDGES, wave + WAVE); i++) {
        const edge = edgeName(i);
        const token = tokens[edge];
        if (token === undefined) throw new Error(`no token for ${edge}`);
        const agent: SimulatedAgent = { edge, applied: 0, polls: 0, loop: Promise.resolve() };
        let hello: () => void = () => undefined;
        hellos.push(new Promise<void>((resolve) => (hello = resolve)));
        agent.loop = simulateAgent(server, token, agent, stop.signal, hello, (release) =>
          onApplied(edge, release),
        );
        agents.push(agent);
      }
      await Promise.race([Promise.all(hellos), aborted]);
    }

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
      const t0 = performance.now();
      const res = await admin('v1/apply', { yaml: spec(round) });
      const applyMs = performance.now() - t0;
      if (!res.ok) throw new Error(`apply ${round} failed: HTTP ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      const { first: tFirst, all: tAll } = await waiting;
      rows.push({ first: tFirst - t0, all: tAll - t0, apply: applyMs });
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
    // Closing answers the open long-polls; the agents see the abort and stop.
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
    await Promise.allSettled(agents.map((a) => a.loop));
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
    ]),
  );
  out.line(
    `process RSS: ${mib(process.memoryUsage().rss)} now, ${mib(peakRss)} peak; run took ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  out.line(
    `polls: ${agents.reduce((n, a) => n + a.polls, 0)} in all for ${EDGES} agents and ${rows.length + 1} releases; agent request errors: ${agentErrors}`,
  );
  if (failure !== undefined) {
    const behind = agents
      .filter((a) => a.applied < rows.length + 2)
      .map((a) => `${a.edge}@${a.applied}`);
    out.line(
      `agents not on the newest release: ${behind.length} (${behind.slice(0, 10).join(', ')})`,
    );
  }
  out.line(`node ${process.version}, ${process.platform}/${process.arch}`);
  if (failure !== undefined) {
    out.error(`bench:propagation: ${failure}`);
    return 1;
  }
  return 0;
}

/** One edge's pull loop, as the real agent does it on the wire (no nginx). */
async function simulateAgent(
  server: string,
  token: string,
  agent: SimulatedAgent,
  signal: AbortSignal,
  hello: () => void,
  applied: (release: number) => void,
): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const started = new Date().toISOString();
  let key: string | undefined;
  let known: string | undefined;
  while (!signal.aborted) {
    try {
      if (key === undefined) {
        const answer = await fetch(`${server}/v1/edge/hello`, { headers: auth });
        key = ((await answer.json()) as { public_key: string }).public_key;
        hello();
      }
      agent.polls += 1;
      const res = await fetch(`${server}/v1/edge/poll?wait=${WAIT_SECONDS}`, {
        headers: { ...auth, ...(known ? { 'if-none-match': `"${known}"` } : {}) },
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        continue;
      }
      const { bundle } = (await res.json()) as { bundle: unknown };
      if (bundle === null) continue; // purges only; the bench publishes none
      const manifest = verifyBundle(bundle, key, agent.edge);
      known = (res.headers.get('etag') ?? '').replace(/"/g, '');
      const report: EdgeReport = {
        agent_version: 'bench',
        applied_release: manifest.release,
        applied_hash: known,
        failed_release: null,
        last_error: null,
        proxy: 'nginx',
        proxy_running: true,
        started_at: started,
      };
      const r = await fetch(`${server}/v1/edge/report`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(report),
      });
      await r.body?.cancel();
      if (r.status !== 204) throw new Error(`report refused: HTTP ${r.status}`);
      agent.applied = manifest.release;
      applied(manifest.release);
    } catch (err) {
      if (signal.aborted) return;
      agentErrors += 1;
      if (agentErrors <= 10) {
        const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
        out.error(
          `${agent.edge}: ${(err as Error).message}${cause !== undefined ? ` (${cause})` : ''}; retrying`,
        );
      }
      // Not all together again: a random 0.5-1.5 s.
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
    }
  }
}

process.exitCode = await main();
