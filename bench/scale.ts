// `npm run bench:scale`: the control plane's build at scale, one case per child process (so
// each case's peak RSS is its own):
//
//   full build      BundleBuilder.rebuild() from an empty store: N sites on every one of E edges
//   one change      one site's origin port changed, rebuild() again
//   peak RSS        the case process's maximum resident set size
//   sites rendered  how many site files the one-change build rendered (incremental: 1)
//   release         the first edge's release: every file's bytes (what a new edge fetches)
//   manifest        its signed manifest (what a poll sends)
//   delta           what an edge that has the previous release fetches after the change:
//                   the manifest, and the contents whose hashes it lacks
//   store size      the SQLite file after both builds (releases kept as manifests; contents
//                   once by hash)
//   nginx -t        checkNginxConfig() of the first edge's rendering (every site), once
//
// The builder runs without its own nginx check unless --builder-check (the column gives one
// run, the largest edge). With --builder-check the builder checks every rendering with
// `nginx -t` as `serve --nginx` does, once per distinct rendering (proxy-check/check-cache.ts),
// and a second table gives its nginx -t runs per build beside the former way, measured here:
// one `nginx -t` of each edge's own rendering (its name and release), as the builder ran it
// before. A case is bounded by --max-seconds: past it, the child is stopped and the cells say
// "> N s". Loopback only, it never fails on a number.
//
//   npm run bench:scale -- --sites 1000,10000 --edges 10,100 --max-seconds 600
//   npm run bench:scale -- --sites 1000 --edges 10 --builder-check --no-check
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stdio as out, table } from '../src/cli/output.js';
import { BundleBuilder } from '../src/edges/builder.js';
import { BundleManifest, expandManifest, SignedBundle } from '../src/bundle/index.js';
import { ensureSigningKey } from '../src/edges/signing-key.js';
import { checkNginxConfig } from '../src/proxy-check/nginx-check.js';
import { compileEdgePlan } from '../src/compile/index.js';
import { renderNginx } from '../src/render/index.js';
import { parseSpec, type SpecInput } from '../src/spec/index.js';
import { openStore } from '../src/store/index.js';
import { scaleSpec } from './scale-spec.js';

const NGINX = '/usr/sbin/nginx';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000,10000' },
    edges: { type: 'string', default: '10,100' },
    'max-seconds': { type: 'string', default: '600' },
    'no-check': { type: 'boolean', default: false },
    'builder-check': { type: 'boolean', default: false },
    case: { type: 'string' },
  },
});

function numbers(name: string, value: string, max: number): number[] {
  const ns = value.split(',').map(Number);
  if (ns.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
    out.error(`--${name} must be a comma-separated list of whole numbers from 1 to ${max}`);
    process.exit(2);
  }
  return ns;
}

interface CaseResult {
  fullMs: number;
  changeMs: number;
  fullCpuMs: number;
  changeCpuMs: number;
  changedEdges: number;
  sitesRendered: number;
  rssMiB: number;
  releaseBytes: number;
  manifestBytes: number;
  deltaBytes: number;
  storeBytes: number;
  checkMs: number | null;
  checkOk: boolean | null;
  /** --builder-check: the builder's nginx -t runs and reuses per build, and the former way. */
  builderCheck: {
    fullPublished: number;
    changePublished: number;
    fullRuns: number;
    fullReused: number;
    changeRuns: number;
    changeReused: number;
    perEdgeRuns: number;
    perEdgeMs: number;
    perEdgeOk: boolean;
  } | null;
}

async function runCase(
  sites: number,
  edges: number,
  check: boolean,
  builderCheck: boolean,
): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-scale-'));
  const file = join(dir, 'outpost.db');
  const store = await openStore({ url: `sqlite:${file}` });
  try {
    const signer = await ensureSigningKey(store);
    const builder = new BundleBuilder({
      store,
      signer,
      logger: pino({ level: 'silent' }),
      // The loaded machine stretches nginx -t past the default timeout: patience, not a verdict.
      ...(builderCheck ? { nginx: NGINX, nginxCheckTimeoutMs: 3_600_000 } : {}),
    });
    const write = (input: SpecInput) =>
      store.writeState(parseSpec(input), {
        actor: 'bench',
        action: 'spec.apply',
        subject: '',
        detail: {},
      });
    await write(scaleSpec(sites, edges));
    const cpu = (since: NodeJS.CpuUsage) => {
      const c = process.cpuUsage(since);
      return (c.user + c.system) / 1000;
    };
    let c0 = process.cpuUsage();
    let t = performance.now();
    await builder.rebuild();
    const fullMs = performance.now() - t;
    const fullCpuMs = cpu(c0);
    const fullStats = builder.lastBuild();
    const before = new Map((await store.latestBundles()).map((b) => [b.edge, b.release]));
    await write(scaleSpec(sites, edges, Math.floor(sites / 2)));
    c0 = process.cpuUsage();
    t = performance.now();
    await builder.rebuild();
    const changeMs = performance.now() - t;
    const changeCpuMs = cpu(c0);
    const changeStats = builder.lastBuild();
    const sitesRendered = changeStats?.sitesRendered ?? 0;
    const latest = await store.latestBundles();
    const changedEdges = latest.filter((b) => before.get(b.edge) !== b.release).length;
    const manifestBytes = Buffer.byteLength(latest[0]?.body ?? '');
    // Release sizes from the stored manifests of e0 (previous and newest).
    const kept = (await store.keptBundles()).filter((b) => b.edge === 'e0');
    const entriesOf = async (body: string) => {
      const signed = SignedBundle.parse(JSON.parse(body));
      const m = BundleManifest.parse(JSON.parse(signed.manifest));
      const lists = await store.releaseFiles(m.lists.map((l) => l.sha256));
      return { m, entries: expandManifest(m, lists) };
    };
    const newest = await entriesOf(kept.at(-1)?.body ?? '');
    const older = kept.length > 1 ? await entriesOf(kept.at(-2)?.body ?? '') : undefined;
    const releaseBytes = newest.entries.reduce((n, e) => n + e.size, 0);
    const had = new Set([
      ...(older?.entries.map((e) => e.sha256) ?? []),
      ...(older?.m.lists.map((l) => l.sha256) ?? []),
    ]);
    const deltaBytes =
      manifestBytes +
      [...newest.entries, ...newest.m.lists]
        .filter((e) => !had.has(e.sha256))
        .reduce((n, e) => n + e.size, 0);
    builder.close();
    let checkMs: number | null = null;
    let checkOk: boolean | null = null;
    if (check) {
      const spec = parseSpec(scaleSpec(sites, edges));
      const files = renderNginx(compileEdgePlan(spec, 'e0'), { release: 1, certificates: [] });
      t = performance.now();
      const r = await checkNginxConfig(files, { nginx: NGINX, timeoutMs: 3_600_000 });
      checkMs = performance.now() - t;
      checkOk = r.ok;
      if (!r.ok) out.error(r.output.slice(0, 500));
    }
    let builderChecks: CaseResult['builderCheck'] = null;
    if (builderCheck) {
      // The former way: one nginx -t per changed edge, of that edge's own rendering.
      const spec = parseSpec(scaleSpec(sites, edges, Math.floor(sites / 2)));
      let perEdgeMs = 0;
      let perEdgeOk = true;
      for (const edge of spec.edges) {
        const files = renderNginx(compileEdgePlan(spec, edge.name), {
          release: 2,
          certificates: [],
        });
        t = performance.now();
        const r = await checkNginxConfig(files, {
          nginx: NGINX,
          release: 2,
          edgeName: edge.name,
          timeoutMs: 3_600_000,
        });
        perEdgeMs += performance.now() - t;
        perEdgeOk &&= r.ok;
      }
      builderChecks = {
        fullPublished: fullStats?.published ?? 0,
        changePublished: changeStats?.published ?? 0,
        fullRuns: fullStats?.checksRun ?? 0,
        fullReused: fullStats?.checksReused ?? 0,
        changeRuns: changeStats?.checksRun ?? 0,
        changeReused: changeStats?.checksReused ?? 0,
        perEdgeRuns: spec.edges.length,
        perEdgeMs,
        perEdgeOk,
      };
    }
    await store.close();
    return {
      fullMs,
      changeMs,
      fullCpuMs,
      changeCpuMs,
      changedEdges,
      sitesRendered,
      rssMiB: process.resourceUsage().maxRSS / 1024,
      releaseBytes,
      manifestBytes,
      deltaBytes,
      storeBytes: statSync(file).size,
      checkMs,
      checkOk,
      builderCheck: builderChecks,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one case in a child process, stopped after `maxSeconds`. */
function childCase(
  sites: number,
  edges: number,
  maxSeconds: number,
): Promise<CaseResult | 'timeout'> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        ...process.execArgv,
        import.meta.filename,
        '--case',
        `${sites}x${edges}`,
        ...(args['no-check'] ? ['--no-check'] : []),
        ...(args['builder-check'] ? ['--builder-check'] : []),
      ],
      { timeout: maxSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error.killed || error.signal === 'SIGKILL')) return resolve('timeout');
        if (error) return reject(new Error(`case ${sites}x${edges} failed: ${stderr}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        resolve(JSON.parse(line) as CaseResult);
      },
    );
    child.stdin?.end();
  });
}

const MiB = 1024 * 1024;
const seconds = (ms: number) =>
  ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  if (args.case !== undefined) {
    const [sites, edges] = args.case.split('x').map(Number) as [number, number];
    const r = await runCase(sites, edges, !args['no-check'], args['builder-check']);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const siteCounts = numbers('sites', args.sites, 20_000);
  const edgeCounts = numbers('edges', args.edges, 1000);
  const [maxSeconds = 600] = numbers('max-seconds', args['max-seconds'], 7200);
  const rows = [
    [
      'sites',
      'edges',
      'full build (CPU)',
      'one change (CPU)',
      'edges rebuilt',
      'sites rendered',
      'peak RSS',
      'release',
      'manifest',
      'delta',
      'store size',
      'nginx -t (1 edge)',
    ],
  ];
  const checkRows = [
    [
      'sites',
      'edges',
      'full build (CPU)',
      'published',
      'nginx -t runs (reused)',
      'one change (CPU)',
      'published',
      'nginx -t runs (reused)',
      'before: one nginx -t per edge',
    ],
  ];
  for (const sites of siteCounts)
    for (const edges of edgeCounts) {
      const r = await childCase(sites, edges, maxSeconds);
      if (r === 'timeout') {
        rows.push([
          `${sites}`,
          `${edges}`,
          `> ${maxSeconds} s (stopped)`,
          ...Array<string>(9).fill(''),
        ]);
      } else {
        const check =
          r.checkMs === null ? 'not run' : `${seconds(r.checkMs)}${r.checkOk ? '' : ' (failed)'}`;
        rows.push([
          `${sites}`,
          `${edges}`,
          `${seconds(r.fullMs)} (${seconds(r.fullCpuMs)})`,
          `${seconds(r.changeMs)} (${seconds(r.changeCpuMs)})`,
          `${r.changedEdges}`,
          `${r.sitesRendered}`,
          `${r.rssMiB.toFixed(0)} MiB`,
          `${(r.releaseBytes / MiB).toFixed(2)} MiB`,
          `${(r.manifestBytes / 1024).toFixed(1)} KiB`,
          `${(r.deltaBytes / 1024).toFixed(1)} KiB`,
          `${(r.storeBytes / MiB).toFixed(0)} MiB`,
          check,
        ]);
        const b = r.builderCheck;
        if (b !== null)
          checkRows.push([
            `${sites}`,
            `${edges}`,
            `${seconds(r.fullMs)} (${seconds(r.fullCpuMs)})`,
            `${b.fullPublished}`,
            `${b.fullRuns} (${b.fullReused})`,
            `${seconds(r.changeMs)} (${seconds(r.changeCpuMs)})`,
            `${b.changePublished}`,
            `${b.changeRuns} (${b.changeReused})`,
            `${b.perEdgeRuns} runs, ${seconds(b.perEdgeMs)}${b.perEdgeOk ? '' : ' (failed)'}`,
          ]);
      }
      out.line(`done: ${sites} sites x ${edges} edges`);
    }
  out.line(table(rows));
  if (checkRows.length > 1) {
    out.line('');
    out.line("The builder's nginx -t (--builder-check), per build:");
    out.line(table(checkRows));
  }
}

await main();
