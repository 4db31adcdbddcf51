// `npx tsx bench/read-state.ts [--sites 1000] [--edges 20] [--reads 50]`: what readState costs.
//
// "parse" is a read after a write (rows loaded and every entry parsed through its schema: what
// every readState cost before the state was cached per revision); "cached" is a read at an
// unchanged revision (one-row query and a copy); "shared" is readSharedState (no copy; after a
// write through this store, the state it wrote). In-memory SQLite, no network. A benchmark
// measures and prints; it never fails on a time.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stdio, table } from '../src/cli/output.js';
import type { Spec } from '../src/spec/index.js';
import { parseSpec } from '../src/spec/index.js';
import { openStore } from '../src/store/index.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '1000' },
    edges: { type: 'string', default: '20' },
    reads: { type: 'string', default: '50' },
  },
});
const sites = Math.min(Number(args.sites), 20_000);
const edges = Math.min(Number(args.edges), 1_000);
const reads = Math.min(Number(args.reads), 1_000);

const spec: Spec = parseSpec({
  edges: Array.from({ length: edges }, (_, i) => ({
    name: `edge-${i}`,
    host: { v4: `127.0.${Math.floor(i / 250)}.${(i % 250) + 2}` },
    tags: [i % 2 ? 'eu' : 'us'],
  })),
  sites: Array.from({ length: sites }, (_, i) => ({
    domain: `site-${i}.example.com`,
    origins: [{ host: `origin-${i}.example.net` }],
    edges: [i % 3 ? 'tag:eu' : '*'],
  })),
});

const store = await openStore({ url: 'sqlite::memory:' });
await store.writeState(spec, { actor: 'bench', action: 'spec.apply', subject: '', detail: {} });

const time = async (
  n: number,
  before?: () => Promise<void>,
  read: () => Promise<unknown> = () => store.readState(),
): Promise<number[]> => {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    if (before) await before();
    const t = performance.now();
    await read();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
};
let weight = 1;
// A write that changes the revision, so the next read parses again.
const change = async () => {
  weight = (weight % 100) + 1;
  const next = structuredClone(spec);
  const first = next.sites[0]?.origins[0];
  if (first) first.weight = weight;
  await store.writeState(next, { actor: 'bench', action: 'spec.apply', subject: '', detail: {} });
};
const parse = await time(Math.min(reads, 20), change);
await store.readState();
const cached = await time(reads);
// The shared, frozen state (admin reads, the builder): after a write and at the same revision.
const sharedAfterWrite = await time(Math.min(reads, 20), change, () => store.readSharedState());
const shared = await time(reads, undefined, () => store.readSharedState());
await store.close();

const q = (xs: number[], p: number) => (xs[Math.floor((xs.length - 1) * p)] ?? 0).toFixed(2);
stdio.line(`readState with ${sites} sites and ${edges} edges (ms)`);
stdio.line(
  table([
    ['read', 'n', 'p50', 'p90', 'max'],
    ['parse (after a write)', String(parse.length), q(parse, 0.5), q(parse, 0.9), q(parse, 1)],
    ['cached (same revision)', String(cached.length), q(cached, 0.5), q(cached, 0.9), q(cached, 1)],
    [
      'shared, after a write',
      String(sharedAfterWrite.length),
      q(sharedAfterWrite, 0.5),
      q(sharedAfterWrite, 0.9),
      q(sharedAfterWrite, 1),
    ],
    ['shared (same revision)', String(shared.length), q(shared, 0.5), q(shared, 0.9), q(shared, 1)],
  ]),
);
