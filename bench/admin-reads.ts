// `npm run bench:admin-reads -- [--sites 1000,10000] [--edges 100] [--requests 200]`: what the
// admin list reads cost over HTTP on a real control plane (buildControlPlane, a SQLite file,
// the admin token, loopback only), one request at a time.
//
// Rows per size, side by side in one run:
// - `before`: GET /v1/sites as it was (the handler returns the object, Fastify runs
//   JSON.stringify over the whole list per request), on a bench-only route without the door;
// - `after`: the route as it is (text made once per state, list-cache.ts), same: without the
//   door, so the two differ only in the handler;
// - `/v1/sites` etc.: the real routes through the admin door (token check included);
// - `304`: the real route with If-None-Match of the current ETag.
// Each row: requests, p50/p99 wall ms, bytes of one answer, CPU ms of this process per request
// (server and the client's read of the body: both in this process). A benchmark measures and
// prints; it never fails on a time.
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stdio, table } from '../src/cli/output.js';
import { ensureAdminToken } from '../src/http/admin-auth.js';
import { buildControlPlane } from '../src/server/app.js';
import { sitesRoutes } from '../src/sites/routes.js';
import { parseSpec, type SpecInput } from '../src/spec/index.js';
import { DesiredState } from '../src/state/service.js';
import { openStore } from '../src/store/index.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000,10000' },
    edges: { type: 'string', default: '100' },
    requests: { type: 'string', default: '200' },
  },
});
const sizes = args.sites.split(',').map((s) => Math.min(Math.max(Number(s) || 1, 1), 20_000));
const edges = Math.min(Math.max(Number(args.edges) || 1, 1), 1_000);
const requests = Math.min(Math.max(Number(args.requests) || 1, 10), 2_000);

/** Sites as bench:scale makes them (a cache rule, a modifier), on no edge (no build cost). */
const specOf = (sites: number): SpecInput => ({
  edges: Array.from({ length: edges }, (_, e) => ({
    name: `e${e}`,
    host: { v4: `127.1.${Math.floor(e / 250)}.${(e % 250) + 1}` },
  })),
  sites: Array.from({ length: sites }, (_, i) => ({
    domain: `site${i}.example.com`,
    origins: [{ host: { v4: '127.0.0.1' }, port: 10_000 + (i % 1000), protocol: 'http' as const }],
    edges: [],
    cache: { rules: [{ match: { paths: ['/static/*'] }, ttl: 300 }] },
    modifiers: [
      {
        match: { paths: ['/api/*'] },
        action: { type: 'set_header' as const, name: 'X-Site', value: `s${i}` },
      },
    ],
  })),
});

const q = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)] ?? 0;
const rows: string[][] = [
  ['sites', 'read', 'n', 'p50 ms', 'p99 ms', 'bytes', 'CPU ms/req', 'not the status'],
];

const started = performance.now();
const progress = (what: string) =>
  stdio.error(`${((performance.now() - started) / 1000).toFixed(1)} s: ${what}`);

for (const sites of sizes) {
  progress(`${sites} sites: writing the state`);
  const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-reads-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'outpost.db')}` });
  try {
    await store.writeState(parseSpec(specOf(sites)), {
      actor: 'bench',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });
    progress(`${sites} sites: starting the control plane`);
    const token = (await ensureAdminToken(store)) ?? '';
    const app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: 'bench',
      probeIntervalMs: 0,
      certificates: { checkIntervalMs: 3_600_000 },
    });
    // The two handlers side by side, without the door (bench only).
    const state = new DesiredState(store);
    app.get('/bench/before/v1/sites', async () => {
      const { spec, revision } = await state.read();
      return { revision, sites: spec.sites };
    });
    await app.register(sitesRoutes(state), { prefix: '/bench/after' });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    // The first build (every edge, no site) runs on this thread: measure after it.
    progress(`${sites} sites: waiting for the first build`);
    for (let i = 0; i < 600 && (await store.latestBundles()).length < edges; i++)
      await new Promise((r) => setTimeout(r, 500));
    const auth = { authorization: `Bearer ${token}` };
    const etag = (await fetch(`${base}/v1/sites`, { headers: auth })).headers.get('etag') ?? 'none';

    // [row, path, headers, status, share of the requests]
    const cases: [string, string, Record<string, string>, number, number?][] = [
      ['before: full list', '/bench/before/v1/sites', {}, 200],
      ['after: full list', '/bench/after/v1/sites', {}, 200],
      ['before: page of 100 (slice)', '/bench/before/v1/sites', {}, 200],
      ['after: page of 100', '/bench/after/v1/sites?limit=100&after=site499.example.com', {}, 200],
      ['GET /v1/sites (door)', '/v1/sites', auth, 200],
      ['GET /v1/sites?limit=100 (door)', '/v1/sites?limit=100', auth, 200],
      ['GET /v1/sites, If-None-Match (door)', '/v1/sites', { ...auth, 'if-none-match': etag }, 304],
      ['GET /v1/state (door)', '/v1/state', auth, 200],
      // YAML of the whole state is slow (seconds at 10,000 sites): a few requests.
      ['GET /v1/state/yaml (door)', '/v1/state/yaml', auth, 200, 0.05],
      ['GET /v1/edges (door)', '/v1/edges', auth, 200],
    ];
    // "before: page of 100" has no before: the old route had no pages. Its row measures the
    // old route's whole list again, so the row says what a client wanting 100 sites paid.
    const perCase = sites >= 10_000 ? Math.floor(requests / 4) : requests;
    for (const [name, path, headers, expected, share = 1] of cases) {
      const n = Math.max(3, Math.floor(perCase * share));
      progress(`${sites} sites: ${name}`);
      // Warm: the first answer after a state makes the text (after) or parses (store).
      // (Once more on a reset: a kept connection the server closed at its keep-alive timeout
      // while the slow row before ran.)
      const warm = await fetch(`${base}${path}`, { headers }).catch(() =>
        fetch(`${base}${path}`, { headers }),
      );
      await warm.arrayBuffer();
      const ms: number[] = [];
      let bytes = 0;
      let errors = 0;
      const cpu = process.cpuUsage();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const res = await fetch(`${base}${path}`, { headers });
        const body = await res.arrayBuffer();
        ms.push(performance.now() - t);
        if (res.status !== expected) errors++;
        else bytes = body.byteLength;
      }
      const used = process.cpuUsage(cpu);
      ms.sort((a, b) => a - b);
      rows.push([
        sites.toLocaleString('en'),
        name,
        String(n),
        q(ms, 0.5).toFixed(2),
        q(ms, 0.99).toFixed(2),
        bytes.toLocaleString('en'),
        ((used.user + used.system) / 1000 / n).toFixed(2),
        String(errors),
      ]);
    }
    await app.close();
    stdio.error(table(rows));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

stdio.line(
  `admin list reads over HTTP, one at a time, ${edges} edges; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end`,
);
stdio.line(table(rows));
