// `npm run bench:status [-- --cases 1000x10,10000x10,10000x100 --reads 30 --probes none]`:
// what GET /v1/status costs at N sites on E edges (every site on every edge).
//
// One child process per case (its own heap). In each: a store (in-memory SQLite) holding the
// spec, the control plane's StatusService (with the certificate alert source, as `serve` has
// it), the status routes on a Fastify server on 127.0.0.1, and a client that reads
// GET /v1/status back to back (and GET /v1/status/sites/:domain where the route exists). No
// builder runs (no bundles, no reports: every edge is never-seen), no auth in front, so the
// figures are the snapshot, its JSON and the request itself.
//
// --probes none: no probe has answered (every site × edge pair unknown, as with probes off);
// --probes some: every pair up except one edge per 100 sites down (the probes' book filled
// directly, nothing is sent). Columns: wall p50/p99 per call, CPU per call (the process's
// user + system over the calls, the client's share included), the answer's bytes.
//
// The same file runs unchanged on an older checkout (it uses only what both have), which is
// how docs/benchmarks.md puts before and after side by side: copy it into the other tree and
// run it there. A benchmark measures and prints; it never fails on a time. Each case is
// bounded by --seconds of reads.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { stdio as out, table } from '../src/cli/output.js';
import { certificateAlertSource } from '../src/certs/alerts.js';
import type { BundleBuilder } from '../src/edges/builder.js';
import { Prober } from '../src/health/prober.js';
import { SharedHealth } from '../src/health/shared-health.js';
import { parseSpec } from '../src/spec/index.js';
import { Metrics } from '../src/status/metrics.js';
import { statusRoutes } from '../src/status/routes.js';
import { StatusService } from '../src/status/service.js';
import { openStore } from '../src/store/index.js';
import { scaleSpec } from './scale-spec.js';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000x10,10000x10,10000x100' },
    reads: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '90' },
    probes: { type: 'string', default: 'none' },
    /** Internal: run one case (SITESxEDGES) and print its JSON line. */
    child: { type: 'string' },
  },
});
const reads = Math.max(1, Math.min(Number(args.reads), 1_000));
const seconds = Math.max(1, Math.min(Number(args.seconds), 600));
const probes = args.probes === 'some' ? 'some' : 'none';

interface Row {
  case: string;
  reads: number;
  p50: number;
  p99: number;
  cpu: number;
  bytes: number;
  site: { p50: number; bytes: number } | null;
  first: number;
}

const size = (c: string): [number, number] => {
  const [s, e] = c.split('x').map(Number);
  return [Math.min(s ?? 0, 20_000), Math.min(e ?? 0, 200)];
};

async function runCase(c: string): Promise<Row> {
  const [sites, edges] = size(c);
  const spec = parseSpec(scaleSpec(sites, edges));
  const store = await openStore({ url: 'sqlite::memory:' });
  await store.writeState(spec, { actor: 'bench', action: 'spec.apply', subject: '', detail: {} });
  const prober = new Prober({ readState: () => store.readState(), intervalMs: 0, timeoutMs: 1 });
  if (probes === 'some')
    spec.sites.forEach((site, i) => {
      spec.edges.forEach((edge, j) => {
        const down = i % 100 === 0 && j === i % edges;
        const at = new Date().toISOString();
        prober.book.record(`edge:${edge.name}:site:${site.domain}`, {
          ok: !down,
          reason: down ? 'status 502' : 'status 200',
          at,
        });
      });
    });
  const health = new SharedHealth({ prober, store, instance: undefined });
  const builder = { buildErrors: () => [] } as unknown as BundleBuilder;
  const status = new StatusService(store, builder, health);
  status.addAlertSource(certificateAlertSource(store, () => new Date()));
  const app = Fastify({ logger: false });
  await app.register(statusRoutes(store, status, new Metrics(() => status.snapshot())));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    const body = await res.arrayBuffer();
    return { status: res.status, bytes: body.byteLength };
  };
  const t0 = performance.now();
  const first = await get('/v1/status');
  const firstMs = performance.now() - t0;
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  for (let i = 0; i < reads && performance.now() < until; i++) {
    const t = performance.now();
    await get('/v1/status');
    ms.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  const siteMs: number[] = [];
  let site: Row['site'] = null;
  const domain = spec.sites[0]?.domain ?? 'none';
  for (let i = 0; i < Math.min(reads, 20); i++) {
    const t = performance.now();
    const r = await get(`/v1/status/sites/${domain}`);
    if (r.status !== 200) break;
    siteMs.push(performance.now() - t);
    site = { p50: 0, bytes: r.bytes };
  }
  ms.sort((a, b) => a - b);
  siteMs.sort((a, b) => a - b);
  if (site) site.p50 = quantile(siteMs, 0.5);
  await app.close();
  await store.close();
  return {
    case: c,
    reads: ms.length,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, ms.length),
    bytes: first.bytes,
    site,
    first: firstMs,
  };
}

function quantile(xs: number[], p: number): number {
  return xs[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)] ?? 0;
}

if (args.child !== undefined) {
  const row = await runCase(args.child);
  process.stdout.write(`${JSON.stringify(row)}\n`);
  process.exit(0);
}

const rows: (Row | { case: string; failed: string })[] = [];
for (const c of args.cases.split(',')) {
  const row = await new Promise<Row | { case: string; failed: string }>((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        import.meta.filename,
        '--child',
        c,
        '--reads',
        String(reads),
        '--seconds',
        String(seconds),
        '--probes',
        probes,
      ],
      { maxBuffer: 1 << 20, timeout: (seconds + 300) * 1000 },
      (err, stdout, stderr) => {
        // A case that dies (out of memory, over its bound) is a row that says so.
        const why = stderr.split('\n').find((l) => /heap|memory|Error/.test(l)) ?? '';
        if (err)
          resolve({ case: c, failed: `${err.signal ?? `exit ${String(err.code)}`} ${why}`.trim() });
        else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Row);
      },
    );
  });
  rows.push(row);
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} KB`);
out.line(`GET /v1/status, every site on every edge, probes: ${probes} (ms per call)`);
out.line(
  table([
    ['sites x edges', 'reads', 'first', 'p50', 'p99', 'CPU/call', 'bytes', 'one site p50', 'bytes'],
    ...rows.map((r) =>
      'failed' in r
        ? [r.case, '-', `did not finish: ${r.failed}`, '', '', '', '', '', '']
        : [
            r.case,
            String(r.reads),
            ms(r.first),
            ms(r.p50),
            ms(r.p99),
            ms(r.cpu),
            kb(r.bytes),
            r.site ? ms(r.site.p50) : '-',
            r.site ? kb(r.site.bytes) : '-',
          ],
    ),
  ]),
);
