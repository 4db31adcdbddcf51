// One-off (w7-apply): what the request thread pays to read the state after another connection
// (the apply worker) wrote a change of every site, at --sites N: readSharedState re-parses every
// changed row through its schema. Beside it: JSON.parse alone of the same rows (what adopting
// the worker's already-validated entries without a zod parse would still cost).
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stdio, table } from '../src/cli/output.js';
import { openStore, openWorkerStore } from '../src/store/index.js';
import { parseSpec } from '../src/spec/index.js';
import { scaleSpec } from './scale-spec.js';

const { values: args } = parseArgs({ options: { sites: { type: 'string', default: '10000' } } });
const sites = Math.min(Number(args.sites), 20_000);
const dir = await mkdtemp(join(tmpdir(), 'outpost-reparse-'));
const url = `sqlite:${join(dir, 'outpost.db')}`;
const main = await openStore({ url });
const worker = await openWorkerStore({ url });
const event = { actor: 'bench', action: 'spec.apply', subject: '', detail: {} };
const rows: string[][] = [['read on the request thread', 'wall', 'CPU']];
const time = async (what: string, f: () => unknown) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  rows.push([
    what,
    `${(performance.now() - t0).toFixed(0)} ms`,
    `${((c.user + c.system) / 1000).toFixed(0)} ms`,
  ]);
};
try {
  await main.writeState(parseSpec(scaleSpec(sites, 10, -1, 0)), event);
  await time('first read (the cache its own write left)', () => main.readSharedState());
  await time('read at the same revision', () => main.readSharedState());
  await worker.writeState(parseSpec(scaleSpec(sites, 10, -1, 1)), event);
  await time('after the worker changed every site', () => main.readSharedState());
  await worker.writeState(parseSpec(scaleSpec(sites, 10, -1, 2)), event);
  const written = (await worker.readSharedState()).spec.sites.map((s) => ({
    kind: 'site' as const,
    text: JSON.stringify(s),
  }));
  await time("the worker's entries adopted (on its answer)", () =>
    main.adoptWrittenEntries(written),
  );
  await time('the next read, after the adoption', () => main.readSharedState());
  const load = loadavg().map((l) => l.toFixed(1));
  stdio.line(`${sites} sites; load average ${load.join(' ')}`);
  stdio.line(table(rows));
} finally {
  await worker.close();
  await main.close();
  await rm(dir, { recursive: true, force: true });
}
