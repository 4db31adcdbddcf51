// `npm run chaos`: a real CDN on loopback under random faults, and what must hold through them.
//
// A control plane (`outpost serve`), --edges real nginx edges each driven by a real
// `outpost agent`, and one origin, all on 127.0.0.x (test/support's launchers). For --seconds
// a seeded random schedule (the seed is printed; --seed repeats a run) kills (-9) and restarts
// agents and the control plane, cuts the origin off and brings it back on the same port,
// applies changes, purges, and rotates edge tokens (the new token goes to the agent's token
// file and the agent is restarted, as an operator would), while a client keeps requesting
// cached, short-lived, purged and uncached paths on every edge. At the end it checks:
//
//   cached      every request for a cached object was answered from the cache (HIT or STALE)
//   short       an object that expires every 2 s was always answered (STALE while the origin
//               was down: stale_if_error)
//   changes     the last applied change is live on every edge, in its newest release
//   purges      every purge is confirmed (done) by every edge
//   store       PRAGMA integrity_check is ok, and bundles agree with the revisions they name
//   secrets     no admin token, edge token (old or new), secret key or private key in any log
//
// It prints the counts in a table and exits 1 on a violated check (2 on a usage error). The
// whole run is bounded: --seconds of chaos, then at most 3 minutes to settle and check.
//
//   npm run chaos -- --seconds 180 --seed 42
import Database from 'better-sqlite3';
import { createHash, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { stdio as out, table } from '../src/cli/output.js';
import { ChangeResult, PurgeStatus, TokenAnswer } from '../src/spec/api.js';
import { TestCdn } from '../test/support/cdn.js';
import { startOrigin, type Route } from '../test/support/origin.js';
import type { Running } from '../test/support/processes.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    seed: { type: 'string' },
    edges: { type: 'string', default: '2' },
  },
});
const SECONDS = whole('seconds', args.seconds, 10, 3600);
const SEED = args.seed === undefined ? randomInt(1, 2 ** 31) : whole('seed', args.seed, 0, 2 ** 31);
const EDGES = whole('edges', args.edges, 2, 4);
const SETTLE_MS = 180_000;
const HOST = 'chaos.test';

function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    out.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
}

/** mulberry32: a small seeded generator, so a seed repeats a run's schedule. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The paths the client asks for, by what must hold for them.
const CACHED = ['/static/c1.js', '/static/c2.css', '/assets/c3.js', '/assets/c4.png'];
const SHORT = ['/static/s1.js', '/static/s2.js'];
const PURGED = ['/static/p1.js', '/static/p2.js', '/static/p3.js'];
const UNCACHED = ['/api/u1', '/api/u2'];
type PathClass = 'cached' | 'short' | 'purged' | 'uncached';

const cacheFor =
  (seconds: number): Route =>
  (req, res) => {
    res.setHeader('cache-control', `max-age=${seconds}`);
    res.setHeader('content-type', 'text/plain');
    res.end(`origin says ${req.url ?? ''}`);
  };
const routes: Record<string, Route> = {};
for (const p of [...CACHED, ...PURGED]) routes[p] = cacheFor(3600);
for (const p of SHORT) routes[p] = cacheFor(2);
for (const p of UNCACHED)
  routes[p] = (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.end('live');
  };

const addresses = Array.from({ length: EDGES }, (_, i) => [`e${i + 1}`, `127.0.0.${111 + i}`]);
const cdn = new TestCdn<string>({
  edges: Object.fromEntries(addresses) as Record<string, string>,
  serveArgs: ['--log-level', 'info'],
  startTimeoutMs: 90_000,
});
const origin = await startOrigin({ routes });

/** Every process started in the run, for the secret check of their output. */
const processes: { name: string; run: Running }[] = [];
const adminToken = () => cdn.adminEnv.OUTPOST_TOKEN ?? '';
const edgeTokens: string[] = [];

const counts = {
  seconds: SECONDS,
  seed: SEED,
  edges: EDGES,
  requests: 0,
  cached: 0,
  cachedHit: 0,
  cachedStale: 0,
  short: 0,
  shortStale: 0,
  purged: 0,
  uncached: 0,
  uncachedFailed: 0,
  agentRestarts: 0,
  controlPlaneRestarts: 0,
  originRestarts: 0,
  tokenRotations: 0,
  changes: 0,
  purges: 0,
  purgesConfirmed: 0,
  restarts: 0,
  violations: 0,
};
const violations: string[] = [];
const violation = (text: string) => {
  counts.violations++;
  if (violations.length < 50) violations.push(text);
};
const log = (text: string) =>
  out.line(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${text}`);
let startedAt = Date.now();

function spec(change: number): string {
  return `edges:
${cdn.edgeNames.map((e) => cdn.edgeYaml(e)).join('')}sites:
  - domain: ${HOST}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    modifiers:
      - name: chaos-change
        match: { paths: ['/change'] }
        action: { type: set_header, name: X-Chaos-Change, value: 'change-${change}' }
`;
}

/** An admin API call, its answer checked by its schema in spec/api.ts. */
async function api<S extends z.ZodTypeAny>(
  schema: S,
  method: string,
  path: string,
  body?: unknown,
): Promise<z.infer<S>> {
  const res = await fetch(`${cdn.cpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken()}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return schema.parse(JSON.parse(text)) as z.infer<S>;
}

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(200);
  }
}

function startAgent(edge: string): void {
  cdn.startAgent(edge);
  const run = cdn.agents[edge];
  if (run) processes.push({ name: `agent ${edge}`, run });
}

async function startControlPlane(): Promise<void> {
  // A loaded machine can take long to start the sources through tsx: three tries.
  for (let attempt = 1; ; attempt++) {
    try {
      await cdn.startCp();
      processes.push({ name: 'control plane', run: cdn.cp });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
      log(`the control plane did not start (${(err as Error).message.split('\n')[0]}); again`);
    }
  }
}

// --- the client: requests every path on every edge, one at a time, for the whole run --------

let clientRunning = true;
const faults = { origin: false, cp: false, agents: new Set<string>() };
const describeFaults = () =>
  [
    faults.origin ? 'origin down' : '',
    faults.cp ? 'control plane down' : '',
    ...[...faults.agents].map((e) => `agent ${e} down`),
  ]
    .filter(Boolean)
    .join(', ') || 'no fault';

async function client(): Promise<void> {
  const plan: [PathClass, string][] = [
    ...CACHED.map((p): [PathClass, string] => ['cached', p]),
    ...SHORT.map((p): [PathClass, string] => ['short', p]),
    ...PURGED.map((p): [PathClass, string] => ['purged', p]),
    ...UNCACHED.map((p): [PathClass, string] => ['uncached', p]),
  ];
  while (clientRunning) {
    for (const edge of cdn.edgeNames)
      for (const [kind, path] of plan) {
        if (!clientRunning) return;
        counts.requests++;
        counts[kind]++;
        const r = await cdn.get(edge, path, HOST).catch((err: Error) => err);
        const status = r instanceof Error ? r.message : String(r.status);
        const cache = r instanceof Error ? '' : (r.headers['x-cache-status'] ?? '');
        const what = `${edge} ${path}: ${status} ${cache} (${describeFaults()})`;
        if (kind === 'cached') {
          if (status === '200' && cache === 'HIT') counts.cachedHit++;
          else if (status === '200' && cache === 'STALE') counts.cachedStale++;
          else violation(`cached object not served from the cache: ${what}`);
        } else if (kind === 'short') {
          if (status !== '200') violation(`short-lived cached object not answered: ${what}`);
          else if (cache === 'STALE') counts.shortStale++;
        } else if (kind === 'uncached' && status !== '200') {
          counts.uncachedFailed++;
          if (!faults.origin) violation(`uncached path failed with the origin up: ${what}`);
        }
      }
    await sleep(400);
  }
}

// --- the faults and the changes ------------------------------------------------------------

let change = 0;
const purgeIds: number[] = [];

const actions: Record<string, () => Promise<void>> = {
  async 'kill agent'() {
    const edge = pick(cdn.edgeNames.filter((e) => !faults.agents.has(e)));
    faults.agents.add(edge);
    await cdn.agents[edge]?.stop('SIGKILL');
    const down = between(500, 5000);
    log(`kill -9 agent ${edge}, back in ${down} ms`);
    counts.agentRestarts++;
    void sleep(down).then(() => {
      startAgent(edge);
      faults.agents.delete(edge);
    });
  },
  async 'kill control plane'() {
    faults.cp = true;
    await cdn.cp.stop('SIGKILL');
    const down = between(500, 5000);
    log(`kill -9 control plane, back in ${down} ms`);
    await sleep(down);
    try {
      await startControlPlane();
      counts.controlPlaneRestarts++;
    } finally {
      faults.cp = false;
    }
  },
  async 'stop origin'() {
    faults.origin = true;
    await origin.stop();
    const down = between(1000, 8000);
    log(`origin cut off, back in ${down} ms`);
    counts.originRestarts++;
    void sleep(down).then(async () => {
      await origin.start();
      faults.origin = false;
    });
  },
  async apply() {
    const next = change + 1;
    const r = await api(ChangeResult, 'POST', '/v1/apply', { yaml: spec(next) });
    change = next;
    counts.changes++;
    log(`apply change ${next} (revision ${r.revision})`);
  },
  async purge() {
    const path = pick(PURGED);
    const r = await api(PurgeStatus, 'POST', `/v1/sites/${HOST}/purge`, {
      kind: 'urls',
      paths: [path],
    });
    purgeIds.push(r.job.id);
    counts.purges++;
    log(`purge ${r.job.id}: ${path}`);
  },
  async 'rotate edge token'() {
    const edge = pick(cdn.edgeNames.filter((e) => !faults.agents.has(e)));
    faults.agents.add(edge);
    const r = await api(TokenAnswer, 'POST', `/v1/edges/${edge}/token`);
    edgeTokens.push(r.token);
    writeFileSync(join(cdn.tmp.path, `token-${edge}`), `${r.token}\n`, { mode: 0o600 });
    await cdn.agents[edge]?.stop('SIGKILL');
    startAgent(edge);
    faults.agents.delete(edge);
    counts.tokenRotations++;
    log(`rotate the token of ${edge}, agent restarted with it`);
  },
};

async function chaos(until: number): Promise<void> {
  while (Date.now() < until) {
    await sleep(between(1000, 4000));
    if (Date.now() >= until) break;
    const possible = Object.keys(actions).filter(
      (a) =>
        !(a === 'stop origin' && faults.origin) &&
        !((a === 'kill agent' || a === 'rotate edge token') && faults.agents.size > 0),
    );
    const name = pick(possible);
    try {
      await actions[name]?.();
    } catch (err) {
      violation(`${name} failed: ${(err as Error).message}`);
    }
  }
}

// --- the checks at the end -------------------------------------------------------------------

async function checkChangesLive(): Promise<void> {
  const rows = await until('every edge to apply its newest release', SETTLE_MS, async () => {
    const rows = await cdn.status();
    return rows.every((r) => r.desired_release !== null && r.applied_release === r.desired_release)
      ? rows
      : undefined;
  });
  for (const row of rows) {
    const r = await until(`change ${change} live on ${row.name}`, 30_000, async () => {
      const r = await cdn.get(row.name, '/change', HOST);
      return r.headers['x-chaos-change'] === `change-${change}` ? r : undefined;
    }).catch((err: Error) => err);
    if (r instanceof Error) violation(`${row.name}: ${r.message}`);
    else if (r.headers['x-outpost-release'] !== String(row.desired_release))
      violation(
        `${row.name} answers with release ${r.headers['x-outpost-release']}, not ${row.desired_release}`,
      );
  }
}

async function checkPurges(): Promise<void> {
  for (const id of purgeIds) {
    const done = await until(`purge ${id} confirmed by every edge`, SETTLE_MS, async () => {
      const p = await api(PurgeStatus, 'GET', `/v1/purges/${id}`);
      return p.edges.length === EDGES && p.edges.every((e) => e.state === 'done') ? p : undefined;
    }).catch((err: Error) => err);
    if (done instanceof Error) violation(done.message);
    else counts.purgesConfirmed++;
  }
}

/** SQLite's own check, then: bundles name revisions that existed and carry what they say. */
function checkStore(file: string): void {
  const db = new Database(file, { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') violation(`store: integrity_check says ${String(integrity)}`);
    const revision = (
      db.prepare('SELECT revision FROM state WHERE id = 1').get() as {
        revision: number;
      }
    ).revision;
    const bundles = db
      .prepare('SELECT edge, release, revision, hash, body FROM bundles ORDER BY edge, release')
      .all() as { edge: string; release: number; revision: number; hash: string; body: string }[];
    const edges = new Set(
      (db.prepare('SELECT name FROM edges').all() as { name: string }[]).map((r) => r.name),
    );
    const newest = new Map<string, number>();
    let lastRevision = new Map<string, number>();
    for (const b of bundles) {
      const where = `store: bundle ${b.edge}/${b.release}`;
      if (!edges.has(b.edge)) violation(`${where} belongs to no edge`);
      if (b.revision > revision) violation(`${where} names revision ${b.revision} > ${revision}`);
      if ((newest.get(b.edge) ?? 0) >= b.release) violation(`${where}: release out of order`);
      if ((lastRevision.get(b.edge) ?? 0) > b.revision)
        violation(`${where}: revision ${b.revision} older than an earlier release's`);
      newest.set(b.edge, b.release);
      lastRevision.set(b.edge, b.revision);
      const signed = JSON.parse(b.body) as { manifest: string; hash: string };
      const manifest = JSON.parse(signed.manifest) as {
        edge: string;
        release: number;
        revision: number;
      };
      if (createHash('sha256').update(signed.manifest).digest('hex') !== signed.hash)
        violation(`${where}: the manifest does not match its hash`);
      if (signed.hash !== b.hash) violation(`${where}: the row's hash is not the bundle's`);
      if (
        manifest.edge !== b.edge ||
        manifest.release !== b.release ||
        manifest.revision !== b.revision
      )
        violation(`${where}: the manifest says ${manifest.edge}/${manifest.release}`);
    }
    for (const e of edges) if (!newest.has(e)) violation(`store: edge ${e} has no bundle`);
    lastRevision = new Map();
    const orphans = db
      .prepare(
        'SELECT COUNT(*) AS n FROM purge_edges WHERE purge_id NOT IN (SELECT id FROM purges)',
      )
      .get() as { n: number };
    if (orphans.n > 0) violation(`store: ${orphans.n} purge progress rows without their purge`);
  } finally {
    db.close();
  }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.log$/.test(d.name))
    .map((d) => join(d.parentPath, d.name));
}

function checkSecrets(): void {
  const secrets = [
    ['the admin token', adminToken()],
    ...edgeTokens.map((t, i) => [`edge token ${i + 1}`, t]),
  ];
  const keyFile = join(cdn.tmp.path, 'cp', 'secret.key');
  if (existsSync(keyFile)) secrets.push(['the secret key', readFileSync(keyFile, 'utf8').trim()]);
  const logs: [string, string][] = processes.map((p, i) => {
    let text = p.run.output();
    // The first start shows the admin token on purpose (once, to the operator): that block
    // is the only place it may be.
    if (i === 0)
      text = text.replace(/First start: this is the admin token[^\n]*\n[\s\S]*?\n\n/, '');
    return [`${p.name} #${i + 1} output`, text];
  });
  for (const file of cdn.edgeNames.flatMap((e) => filesUnder(cdn.root(e))))
    logs.push([file, readFileSync(file, 'utf8')]);
  for (const [where, text] of logs) {
    for (const [name, value] of secrets)
      if (value && text.includes(value)) violation(`secrets: ${name} in ${where}`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
      violation(`secrets: a private key in ${where}`);
  }
}

// --- the run ---------------------------------------------------------------------------------

const hardStop = setTimeout(
  () => {
    out.error(
      `chaos: not finished ${SECONDS + SETTLE_MS / 1000 + 240} s after the start; stopping`,
    );
    void cleanup().finally(() => process.exit(3));
  },
  (SECONDS + SETTLE_MS / 1000 + 240) * 1000,
);
hardStop.unref();

async function cleanup(): Promise<void> {
  clientRunning = false;
  await cdn.close().catch(() => undefined);
  await origin.close().catch(() => undefined);
}

let failed: Error | undefined;
try {
  out.line(`chaos: seed ${SEED} (repeat with --seed ${SEED}), ${SECONDS} s, ${EDGES} edges`);
  await cdn.start();
  processes.push({ name: 'control plane', run: cdn.cp });
  await cdn.apply(spec(0));
  for (const edge of cdn.edgeNames) edgeTokens.push(cdn.tokens[edge] ?? '');
  for (const edge of cdn.edgeNames) startAgent(edge);
  await until('every edge to apply its first release', SETTLE_MS, async () => {
    const rows = await cdn.status();
    return rows.every((r) => r.applied_release !== null && r.applied_release === r.desired_release)
      ? rows
      : undefined;
  });
  // Warm every cached path on every edge.
  for (const edge of cdn.edgeNames)
    for (const path of [...CACHED, ...SHORT, ...PURGED])
      await until(`${path} cached on ${edge}`, 30_000, async () =>
        (await cdn.get(edge, path, HOST)).headers['x-cache-status'] === 'HIT' ? true : undefined,
      );

  startedAt = Date.now();
  log('chaos starts');
  const requests = client();
  await chaos(startedAt + SECONDS * 1000);
  log('chaos ends: everything comes back');
  await until('the faults to end', SETTLE_MS, async () =>
    !faults.origin && !faults.cp && faults.agents.size === 0 ? true : undefined,
  );
  // A last few seconds of requests with everything up, then the client stops.
  await sleep(3000);
  clientRunning = false;
  await requests;
  await checkChangesLive();
  await checkPurges();
  for (const edge of cdn.edgeNames) await cdn.agents[edge]?.stop();
  await cdn.cp.stop();
  checkStore(join(cdn.tmp.path, 'cp', 'outpost.db'));
  checkSecrets();
} catch (err) {
  failed = err as Error;
} finally {
  await cleanup();
  clearTimeout(hardStop);
}

counts.restarts = counts.agentRestarts + counts.controlPlaneRestarts + counts.originRestarts;
out.line('');
out.line(
  table([
    ['what', 'count'],
    ['requests', String(counts.requests)],
    [
      '  cached objects (HIT / STALE)',
      `${counts.cached} (${counts.cachedHit} / ${counts.cachedStale})`,
    ],
    ['  short-lived objects (STALE)', `${counts.short} (${counts.shortStale})`],
    ['  purged objects', String(counts.purged)],
    ['  uncached (failed, origin down)', `${counts.uncached} (${counts.uncachedFailed})`],
    ['agent kills (-9) and restarts', String(counts.agentRestarts)],
    ['control plane kills (-9) and restarts', String(counts.controlPlaneRestarts)],
    ['origin cut off and back', String(counts.originRestarts)],
    ['edge token rotations', String(counts.tokenRotations)],
    ['changes applied (live on every edge)', String(counts.changes)],
    ['purges (confirmed)', `${counts.purges} (${counts.purgesConfirmed})`],
    ['violations', String(counts.violations)],
  ]),
);
for (const v of violations) out.error(`violation: ${v}`);
if (failed) out.error(`chaos: the run stopped: ${failed.message}`);
out.line(`CHAOS_COUNTS ${JSON.stringify(counts)}`);
process.exit(failed || counts.violations > 0 ? 1 : 0);
