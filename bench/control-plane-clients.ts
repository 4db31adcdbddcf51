// The clients of `npm run bench:control-plane`, in their own process (forked by
// bench/control-plane.ts with an IPC channel): the long-polling agents and the admin clients.
// Real agents and admins are on other hosts; here they are at least off the control plane's
// event loop, so an admin call's latency is the control plane's answer and the control plane's
// CPU and RSS are its own (this process reports its own CPU and RSS beside them).
//
// What it does, told by the parent (`start`), every request to loopback only:
//  1. applies N sites on E edges (POST /v1/apply), which gives each edge's token;
//  2. starts A agents, agent i polling edge e(i % E) from its own address 127.3.x.y (the
//     control plane allows 256 connections per client address, http/client-limits.ts: 1,000
//     agents from one address would mostly be refused), GET /v1/edge/poll?wait=30 with
//     If-None-Match, remembering the ETag of every 200 (they only poll, they apply nothing);
//  3. waits until every agent holds its edge's first bundle (and the control plane's store says
//     it is the latest);
//  4. idle phase: one admin client per path, each a loop of calls back to back on its own
//     keep-alive connection (GET /v1/sites, GET /v1/status, GET /v1/sites/<one site>), so a
//     slow big answer does not hold back the small call's samples;
//  5. change phase: one apply changes every site's origin port (every edge rebuilt), the admin
//     loops go on until every agent has seen its edge's new bundle.
// The control plane's event-loop delay, CPU and RSS per phase are asked for with `mark`
// messages (relayed by the parent to the control plane's process) at the phase boundaries.
//
// Bounded: every phase ends by the deadline (`timeoutMs` from `start`); the parent kills this
// process after its own bound, and this process exits when the parent goes away (IPC closed).
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request } from 'node:http';
import { parseSpec, stringifySpec } from '../src/spec/index.js';
import { scaleSpec } from './scale-spec.js';

/** Parent → clients. */
export type ToClients =
  | {
      type: 'start';
      base: string;
      adminToken: string;
      sites: number;
      edges: number;
      agents: number;
      idleMs: number;
      timeoutMs: number;
      /** How the applies are sent: `{spec}` or `{yaml}` (what `outpost apply -f` sends). */
      body: 'json' | 'yaml';
    }
  | { type: 'marked'; id: number; stats: PhaseStats }
  | { type: 'hashes'; id: number; hashes: Record<string, string> };

/** Clients → parent. `mark` and `hashes` are answered by the control plane's process. */
export type FromClients =
  | { type: 'phase'; phase: string }
  | { type: 'mark'; id: number; phase: string }
  | { type: 'hashes'; id: number }
  | { type: 'result'; result: ClientsResult }
  | { type: 'error'; message: string };

/** The control plane's process between two marks. */
export interface PhaseStats {
  /** Event-loop delay of the request thread (perf_hooks.monitorEventLoopDelay), ms. */
  eld: { p50: number; p99: number; max: number };
  cpuMs: number;
  /** Peak resident set of the whole process so far (getrusage maxrss), MiB. */
  peakRssMiB: number;
}

export interface PathSamples {
  path: string;
  idle: number[];
  during: number[];
  /** Bytes of the last answer's body. */
  bytes: number;
  /** Calls that failed without an answer (reset, refused), and the first one's cause. */
  errors: number;
  firstError: string;
}

export interface ClientsResult {
  paths: PathSamples[];
  /** From the first apply to every agent holding its first bundle; the control plane's
   * process from its start to then (its start, the first build, 1,000 first answers). */
  setupMs: number;
  setup: PhaseStats;
  /** From the change's apply request to every agent holding its edge's new bundle. */
  changeMs: number;
  /** From the change's apply request to its answer. */
  applyMs: number;
  polls: number;
  pollErrors: number;
  firstPollError: string;
  idle: PhaseStats;
  during: PhaseStats;
  /** This process's CPU during the change, and its peak RSS. */
  clientsCpuMs: number;
  clientsPeakRssMiB: number;
}

const SMALL_BODY = 500;

/** One HTTP GET on a keep-alive pool: status, ETag, body size and the time it took. */
function get(
  pool: HttpAgent,
  url: URL,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  localAddress?: string,
): Promise<{ status: number; etag: string | undefined; ms: number; bytes: number; error: string }> {
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
        // The body is counted; it is kept only when it says what went wrong.
        let error = '';
        let bytes = 0;
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          if ((res.statusCode ?? 0) >= 400 && error.length < SMALL_BODY) error += d.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            etag: res.headers.etag?.replace(/"/g, ''),
            ms: performance.now() - t0,
            bytes,
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

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

// Requests to the parent (answered by the control plane's process), matched by id.
let nextId = 0;
const waiting = new Map<number, (m: ToClients) => void>();
function ask(m: { type: 'mark'; phase: string } | { type: 'hashes' }): Promise<ToClients> {
  const id = ++nextId;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    send({ ...m, id });
  });
}
function send(m: FromClients, then?: () => void): void {
  process.send?.(m, undefined, {}, then);
}
// A failure of an admin loop running beside the wait (an HTTP 500 during the change) ends the
// wait with it.
let failure: Error | undefined;
const mark = async (phase: string) => {
  const r = await ask({ type: 'mark', phase });
  if (r.type !== 'marked') throw new Error(`expected the stats of "${phase}", got ${r.type}`);
  return r.stats;
};
const storeHashes = async () => {
  const r = await ask({ type: 'hashes' });
  if (r.type !== 'hashes') throw new Error(`expected hashes, got ${r.type}`);
  return new Map(Object.entries(r.hashes));
};

async function run(start: Extract<ToClients, { type: 'start' }>): Promise<ClientsResult> {
  const { sites: SITES, edges: EDGES, agents: AGENTS } = start;
  const deadline = performance.now() + start.timeoutMs;
  const base = new URL(start.base);
  const stop = new AbortController();
  // Every agent's request listens on the one signal.
  setMaxListeners(0, stop.signal);
  const auth = { authorization: `Bearer ${start.adminToken}` };
  // The request bodies are made before they are timed.
  const bodyOf = (shift: number) =>
    JSON.stringify(
      start.body === 'yaml'
        ? { yaml: stringifySpec(parseSpec(scaleSpec(SITES, EDGES, -1, shift))) }
        : { spec: scaleSpec(SITES, EDGES, -1, shift) },
    );
  const bodies = [bodyOf(0), bodyOf(1)];
  const apply = async (shift: 0 | 1) => {
    const res = await fetch(new URL('/v1/apply', base), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: bodies[shift],
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))),
    });
    if (!res.ok) throw new Error(`apply failed: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { edge_tokens?: Record<string, string> };
  };

  const setup0 = performance.now();
  send({ type: 'phase', phase: 'first apply' });
  const tokens = (await apply(0)).edge_tokens ?? {};

  // The agents: each long-polls its edge and remembers the hash it was last sent.
  const pollPool = new HttpAgent({ keepAlive: true, maxSockets: AGENTS + 10 });
  const seen: (string | undefined)[] = Array.from({ length: AGENTS }, () => undefined);
  let polls = 0;
  let pollErrors = 0;
  let firstPollError = '';
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
        if (r.status === 200 && r.etag !== undefined) seen[i] = r.etag;
        else if (r.status !== 304) {
          pollErrors++;
          firstPollError ||= `HTTP ${r.status} ${r.error}`;
          await sleep(200);
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        pollErrors++;
        firstPollError ||= (e as Error).message;
        await sleep(200);
      }
    }
  });

  // What every agent of each edge holds, when they all agree (else undefined).
  const held = (): Map<string, string> | undefined => {
    const byEdge = new Map<string, string>();
    for (let i = 0; i < AGENTS; i++) {
      const h = seen[i];
      if (h === undefined) return undefined;
      const edge = `e${i % EDGES}`;
      const other = byEdge.get(edge);
      if (other !== undefined && other !== h) return undefined;
      byEdge.set(edge, h);
    }
    return byEdge;
  };
  // Checked every 50 ms in this process (no store read on the control plane while it is
  // measured); the store's latest hashes are compared once the agents agree.
  // Every 10 s of waiting, where the agents are (the parent prints it, and names it when the
  // case runs out of time).
  const until = async (
    what: string,
    done: (h: Map<string, string>) => boolean,
    // Which agents count as there: holding a bundle, or (the change) holding another one.
    there: (hash: string, agent: number) => boolean = () => true,
  ) => {
    let told = performance.now();
    for (;;) {
      const h = held();
      if (h !== undefined && done(h)) return h;
      if (failure !== undefined) throw failure;
      if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
      if (performance.now() - told > 10_000) {
        told = performance.now();
        const holding = seen.filter((x, i) => x !== undefined && there(x, i)).length;
        send({
          type: 'phase',
          phase: `${what}: ${holding} of ${AGENTS} so far, ${polls} polls answered, ${pollErrors} errors${firstPollError ? ` (first: ${firstPollError.slice(0, 120)})` : ''}`,
        });
      }
      await sleep(50);
    }
  };
  const agreesWithStore = async (h: Map<string, string>) => {
    const latest = await storeHashes();
    return latest.size === EDGES && [...h].every(([edge, hash]) => latest.get(edge) === hash);
  };

  send({ type: 'phase', phase: 'agents fetching the first bundles' });
  let first = await until('every agent holding its first bundle', () => true);
  while (!(await agreesWithStore(first))) {
    await sleep(500);
    first = await until('every agent holding the latest bundle', () => true);
  }

  // The admin clients, one per path, each on its own keep-alive connection.
  const one = `site${Math.floor(SITES / 2)}.example.com`;
  const paths: PathSamples[] = ['/v1/sites', '/v1/status', `/v1/sites/${one}`].map((path) => ({
    path,
    idle: [],
    during: [],
    bytes: 0,
    errors: 0,
    firstError: '',
  }));
  const adminPools = paths.map(() => new HttpAgent({ keepAlive: true, maxSockets: 1 }));
  const admin = (phase: 'idle' | 'during', going: () => boolean) =>
    Promise.all(
      paths.map(async (p, k) => {
        while (going()) {
          // A connection reset or refused is counted and the call made again (as an admin
          // would); an HTTP error answer ends the case: it is a bug to look at.
          const r = await get(adminPools[k]!, base, p.path, auth, stop.signal).catch(
            (e: unknown) => {
              p.errors++;
              p.firstError ||= `${phase}: ${(e as Error).message}`;
              return undefined;
            },
          );
          if (r === undefined) {
            await sleep(200);
            continue;
          }
          if (r.status !== 200) throw new Error(`${p.path}: HTTP ${r.status} ${r.error}`);
          p[phase].push(r.ms);
          p.bytes = r.bytes;
        }
      }),
    );

  const setupMs = performance.now() - setup0;
  send({ type: 'phase', phase: 'idle' });
  const setup = await mark('idle start');
  const idleUntil = performance.now() + start.idleMs;
  await admin('idle', () => performance.now() < idleUntil);
  const idle = await mark('idle end');

  send({ type: 'phase', phase: 'change' });
  await mark('change start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let changing = true;
  const readers = admin('during', () => changing).catch((e: unknown) => {
    failure = e instanceof Error ? e : new Error(String(e));
  });
  const applied = apply(1).then(
    () => performance.now() - t0,
    (e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      return NaN;
    },
  );
  // Every edge's bundle changes once: every agent holds another hash than its edge's first.
  const changed = (h: Map<string, string>) =>
    [...h].every(([edge, hash]) => hash !== first.get(edge));
  const moved = (hash: string, i: number) => hash !== first.get(`e${i % EDGES}`);
  let now = await until('every agent holding its new bundle', changed, moved);
  const changeMs = performance.now() - t0;
  const during = await mark('change end');
  const clientsCpu = process.cpuUsage(cpu0);
  changing = false;
  const applyMs = await applied;
  await readers;
  if (failure !== undefined) throw failure;
  while (!(await agreesWithStore(now))) {
    await sleep(500);
    now = await until('every agent holding the latest bundle', changed, moved);
  }
  stop.abort();
  await Promise.allSettled(loops);
  pollPool.destroy();
  for (const p of adminPools) p.destroy();
  return {
    paths: paths.map((p) => ({
      ...p,
      idle: p.idle.sort((a, b) => a - b),
      during: p.during.sort((a, b) => a - b),
    })),
    setupMs,
    setup,
    changeMs,
    applyMs,
    polls,
    pollErrors,
    firstPollError: firstPollError.slice(0, SMALL_BODY),
    idle,
    during,
    clientsCpuMs: (clientsCpu.user + clientsCpu.system) / 1000,
    clientsPeakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

if (process.send !== undefined) {
  // The parent gone (IPC closed): nothing left to report to, no stray process.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (m: ToClients) => {
    if (m.type === 'start') {
      run(m).then(
        (result) => send({ type: 'result', result }, () => process.exit(0)),
        (e: unknown) =>
          send({ type: 'error', message: e instanceof Error ? e.message : String(e) }, () =>
            process.exit(1),
          ),
      );
      return;
    }
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
}
