// `npm run bench:control-plane`: is the control plane responsive while it builds?
//
// One case per child process (its own RSS and CPU), loopback only: a control plane (temp
// SQLite, no nginx -t) with N sites on E edges, A long-polling agents as lightweight HTTP
// clients (GET /v1/edge/poll?wait=30 with If-None-Match, each edge's token shared by A/E
// agents; they only poll, they apply nothing), and one admin client that reads GET /v1/sites
// and GET /v1/status back to back. After a quiet phase (the "idle" column), one apply changes
// every site's origin port, so every site is rendered again and every edge rebuilt; the admin
// reads go on until every agent has seen its edge's new bundle. Three cases, side by side:
//
//   inline   the builder never yields to the event loop (how it ran before issue 14)
//   yield    the builder yields every 8 ms (setImmediate) on the request thread
//   worker   the build runs in the build worker thread (edges/build-worker.ts), as
//            `outpost serve` runs it: its own store connection, the request thread free
//
// RSS and CPU are the whole process's (the worker thread's included); the agents are
// lightweight clients in the same process (one keep-alive socket each, nothing applied), so
// their CPU is counted too.
//
// A benchmark measures and prints: it never fails on a time. Every case is bounded by
// --timeout seconds.
//
// --database sqlite,postgres runs every case on each store: `postgres` is a throwaway
// PostgreSQL from Debian's package (test/support/postgres.ts, on loopback), one empty database
// per case.
//
//   npm run bench:control-plane -- --sites 5000 --edges 10 --agents 1000 [--database postgres]
import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent as HttpAgent, request } from 'node:http';
import { pino } from 'pino';
import { stdio as out, table } from '../src/cli/output.js';
import { ensureAdminToken } from '../src/http/admin-auth.js';
import { buildControlPlane } from '../src/server/app.js';
import { loadSecretBox, newSecretKey, openStore, writeKeyFile } from '../src/store/index.js';
import { scaleSpec } from './scale-spec.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '5000' },
    edges: { type: 'string', default: '10' },
    agents: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '300' },
    cases: { type: 'string', default: 'inline,yield,worker' },
    database: { type: 'string', default: 'sqlite' },
    case: { type: 'string' },
    /** A child's store (the parent made it): a postgres:// URL; absent, a temp SQLite file. */
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

interface CaseResult {
  idle: number[];
  during: number[];
  buildMs: number;
  polls: number;
  rssMiB: number;
  cpuMs: number;
  pollErrors: number;
}

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** One HTTP GET on a keep-alive pool; resolves with status, ETag and the time it took. */
function get(
  pool: HttpAgent,
  url: URL,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  localAddress?: string,
): Promise<{ status: number; etag: string | undefined; ms: number; error: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        headers,
        agent: pool,
        signal,
        ...(localAddress !== undefined ? { localAddress } : {}),
      },
      (res) => {
        // The body is kept only when it says what went wrong.
        let error = '';
        res.on('data', (d: Buffer) => {
          if ((res.statusCode ?? 0) >= 400 && error.length < 500) error += d.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            etag: res.headers.etag?.replace(/"/g, ''),
            ms: performance.now() - t0,
            error,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function runCase(name: string, storeUrl: string | undefined): Promise<CaseResult> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-cp-'));
  const stop = new AbortController();
  // Every agent's request listens on the one signal.
  setMaxListeners(0, stop.signal);
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
    ...(name === 'worker' ? { buildWorker: { storeUrl: url } } : {}),
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  try {
    const base = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const apply = async (shift: number) => {
      const res = await fetch(new URL('/v1/apply', base), {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ spec: scaleSpec(SITES, EDGES, -1, shift) }),
      });
      if (!res.ok) throw new Error(`apply failed: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as { edge_tokens?: Record<string, string> };
    };
    const first = await apply(0);
    const tokens = first.edge_tokens ?? {};

    // The agents: each long-polls its edge and remembers the hash it was last sent.
    const pollPool = new HttpAgent({ keepAlive: true, maxSockets: AGENTS + 10 });
    const seen: (string | undefined)[] = Array.from({ length: AGENTS }, () => undefined);
    let polls = 0;
    let pollErrors = 0;
    let onSeen: () => void = () => undefined;
    // Each agent from its own loopback address, as edges are distinct clients: the control
    // plane allows 256 connections per client address (http/client-limits.ts), so 1,000
    // agents from 127.0.0.1 alone would mostly be refused (why 1,000 agents never finished).
    const loops = Array.from({ length: AGENTS }, async (_, i) => {
      const edge = `e${i % EDGES}`;
      const from = `127.3.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      const token = tokens[edge];
      if (token === undefined) throw new Error(`no token for ${edge}`);
      while (!stop.signal.aborted) {
        const known = seen[i];
        try {
          const r = await get(
            pollPool,
            base,
            '/v1/edge/poll?wait=30',
            {
              authorization: `Bearer ${token}`,
              ...(known !== undefined ? { 'if-none-match': `"${known}"` } : {}),
            },
            stop.signal,
            from,
          );
          polls++;
          if (r.status === 200 && r.etag !== undefined) {
            seen[i] = r.etag;
            onSeen();
          } else if (r.status !== 304) await new Promise((res) => setTimeout(res, 200));
        } catch {
          if (stop.signal.aborted) return;
          pollErrors++;
          await new Promise((res) => setTimeout(res, 200));
        }
      }
    });
    // Wait until every agent holds its edge's first bundle.
    const latestHashes = async () =>
      new Map((await store.latestBundles()).map((b) => [b.edge, b.hash]));
    const allSee = async (hashes: Map<string, string>) =>
      seen.every((h, i) => h !== undefined && h === hashes.get(`e${i % EDGES}`));
    const deadline = Date.now() + TIMEOUT * 1000;
    // Checked at most every 100 ms (not at every agent's answer: 1,000 agents would make it
    // a store read per answer).
    const until = async (done: () => Promise<boolean>) => {
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise<void>((res) => {
          onSeen = res;
          setTimeout(res, 250);
        });
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    let firstHashes = await latestHashes();
    await until(async () => {
      firstHashes = await latestHashes();
      return firstHashes.size === EDGES && (await allSee(firstHashes));
    });

    // Admin reads: GET /v1/sites, GET /v1/status, back to back.
    const adminPool = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const auth = { authorization: `Bearer ${adminToken}` };
    const read = async (into: number[]) => {
      for (const path of ['/v1/sites', '/v1/status']) {
        const r = await get(adminPool, base, path, auth, stop.signal);
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${r.error}`);
        into.push(r.ms);
      }
    };
    const idle: number[] = [];
    const idleUntil = performance.now() + 3000;
    while (performance.now() < idleUntil) await read(idle);

    // The change: every site's origin port, so every site renders again on every edge.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const during: number[] = [];
    let building = true;
    const reader = (async () => {
      while (building) await read(during);
    })();
    await apply(1);
    await until(async () => {
      const now = await latestHashes();
      return [...now].every(([e, h]) => h !== firstHashes.get(e)) && allSee(now);
    });
    const buildMs = performance.now() - t0;
    building = false;
    await reader;
    const cpu = process.cpuUsage(cpu0);
    stop.abort();
    await Promise.allSettled(loops);
    pollPool.destroy();
    adminPool.destroy();
    return {
      idle: idle.sort((a, b) => a - b),
      during: during.sort((a, b) => a - b),
      buildMs,
      polls,
      pollErrors,
      rssMiB: peakRss / 1024 / 1024,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    clearInterval(sampler);
    stop.abort();
    await app.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

function childCase(name: string, storeUrl: string | undefined): Promise<CaseResult | string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        ...process.execArgv,
        import.meta.filename,
        '--case',
        name,
        ...(storeUrl !== undefined ? ['--store-url', storeUrl] : []),
        '--sites',
        String(SITES),
        '--edges',
        String(EDGES),
        '--agents',
        String(AGENTS),
        '--timeout',
        String(TIMEOUT),
      ],
      { timeout: (TIMEOUT + 30) * 1000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return resolve(`failed: ${(stderr || error.message).slice(-300)}`);
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as CaseResult);
      },
    );
  });
}

const ms = (n: number) =>
  Number.isNaN(n) ? '-' : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`;

async function main(): Promise<void> {
  if (args.case !== undefined) {
    const r = await runCase(args.case, args['store-url']);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const stores = args.database.split(',');
  for (const s of stores)
    if (s !== 'sqlite' && s !== 'postgres') {
      out.error(`--database must be sqlite, postgres or both (sqlite,postgres), not "${s}"`);
      process.exit(2);
    }
  for (const c of args.cases.split(','))
    if (!['inline', 'yield', 'worker'].includes(c)) {
      out.error(`--cases takes inline, yield and worker (comma-separated), not "${c}"`);
      process.exit(2);
    }
  out.line(
    `${SITES} sites on ${EDGES} edges, ${AGENTS} long-polling agents; cases: ${args.cases}; stores: ${stores.join(', ')}`,
  );
  const rows = [
    [
      'store',
      'build',
      'idle p50',
      'idle p99',
      'during build p50',
      'p99',
      'max',
      'admin calls',
      'change to all agents',
      'polls',
      'peak RSS',
      'CPU',
    ],
  ];
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
        await runOne(store, name, storeUrl);
      }
  } finally {
    await pg?.stop();
  }
  out.line(table(rows));

  async function runOne(store: string, name: string, storeUrl: string | undefined) {
    const r = await childCase(name, storeUrl);
    if (typeof r === 'string') {
      rows.push([store, name, r, ...Array<string>(9).fill('')]);
      return;
    }
    rows.push([
      store,
      name,
      ms(percentile(r.idle, 50)),
      ms(percentile(r.idle, 99)),
      ms(percentile(r.during, 50)),
      ms(percentile(r.during, 99)),
      ms(r.during.at(-1) ?? NaN),
      String(r.during.length),
      ms(r.buildMs),
      `${r.polls}${r.pollErrors > 0 ? ` (${r.pollErrors} errors)` : ''}`,
      `${r.rssMiB.toFixed(0)} MiB`,
      ms(r.cpuMs),
    ]);
    out.line(`done: ${store} ${name}`);
  }
}

await main();
