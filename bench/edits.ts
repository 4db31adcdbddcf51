// `npm run bench:edits -- [--sites 1000,10000] [--edges 100] [--rounds 7]`: what one change of
// desired state costs on the control plane's request thread (issue 14: "one site changed:
// < 100 ms of control-plane work").
//
// Rows, side by side in one run, on a SQLite file (WAL) as `outpost serve` uses:
//   edit one site     DesiredState.change, as PUT /v1/sites/:domain does (one field changed)
//   add one site      as POST /v1/sites
//   delete one site   as DELETE /v1/sites/:domain
//   apply, one site   POST /v1/apply of the whole document (JSON) with one site changed
//   before (edit)     what an edit did before this change, for the same edit: copy the state,
//                     parse the whole document twice (DesiredState, then the store's safety
//                     net), diff it twice, walking every site; measured here with today's
//                     code, without the write (so it is a lower bound of the old cost)
// Every row is the wall time of the call (the event loop is held for most of it: SQLite
// through better-sqlite3 is synchronous) and its CPU; medians of --rounds. A benchmark
// measures and prints; it never fails on a time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stdio, table } from '../src/cli/output.js';
import { diffSpecs, parseSpec, type Spec } from '../src/spec/index.js';
import { DesiredState } from '../src/state/service.js';
import { openStore } from '../src/store/index.js';
import { scaleSpec } from './scale-spec.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000,10000' },
    edges: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '7' },
  },
});
const sizes = args.sites.split(',').map((n) => Math.min(Number(n), 20_000));
const edges = Math.min(Number(args.edges), 1_000);
const rounds = Math.max(1, Math.min(Number(args.rounds), 50));

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(1)} ms`);

async function measure(f: (round: number) => Promise<unknown>) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f(round);
    wall.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const rows: string[][] = [['sites', 'change', 'wall p50', 'CPU p50', 'vs before (edit)']];
for (const sites of sizes) {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-bench-edits-'));
  const store = await openStore({ url: `sqlite:${join(dir, 'outpost.db')}` });
  const state = new DesiredState(store);
  await state.apply({ spec: scaleSpec(sites, edges) }, { dryRun: false, actor: 'bench' });
  const event = (action: string) => ({ actor: 'bench', action, subject: '', detail: {} });
  const ttl = (round: number) => 120 + round;
  const editOne = (current: Spec, round: number) => ({
    ...current,
    sites: current.sites.map((s, i) => (i === 7 ? { ...s, dns_ttl: ttl(round) } : s)),
  });

  const edit = await measure((round) =>
    state.change((current) => editOne(current, round), { event: event('site.update') }),
  );
  const add = await measure((round) =>
    state.change(
      (current) => ({
        ...current,
        sites: [
          ...current.sites,
          { domain: `new${round}.example.com`, origins: [{ host: 'o.example.net' }] },
        ],
      }),
      { event: event('site.create') },
    ),
  );
  const del = await measure((round) =>
    state.change(
      (current) => ({
        ...current,
        sites: current.sites.filter((s) => s.domain !== `new${round}.example.com`),
      }),
      { event: event('site.delete') },
    ),
  );
  const apply = await measure((round) =>
    state.apply({ spec: scaleSpec(sites, edges, 11 + round) }, { dryRun: false, actor: 'bench' }),
  );
  // The old path's work for the same edit, without its write (see the head).
  const current = (await state.read()).spec;
  const before = await measure(async (round) => {
    const next = parseSpec(editOne(structuredClone<Spec>(current), round + rounds));
    diffSpecs(current, next);
    const again = parseSpec(next);
    diffSpecs(current, again);
  });
  await store.close();
  await rm(dir, { recursive: true, force: true });
  const ratio = (x: { wall: number }) => `${(before.wall / x.wall).toFixed(0)}× less`;
  rows.push(
    [String(sites), 'edit one site', ms(edit.wall), ms(edit.cpu), ratio(edit)],
    [String(sites), 'add one site', ms(add.wall), ms(add.cpu), ratio(add)],
    [String(sites), 'delete one site', ms(del.wall), ms(del.cpu), ratio(del)],
    [String(sites), 'apply, one site changed', ms(apply.wall), ms(apply.cpu), ratio(apply)],
    [String(sites), 'before (edit), no write', ms(before.wall), ms(before.cpu), '1×'],
  );
}
stdio.line(`One change of desired state, ${edges} edges, medians of ${rounds} rounds`);
stdio.line(table(rows));
