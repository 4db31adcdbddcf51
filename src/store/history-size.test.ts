// The history stays bounded: 90 days of points for 50 edges and 200 sites, written through the
// store as the history worker writes them (1-minute points for 48 h, 1-hour points for 90 days,
// plus a day too many of each, then pruned), fit in HISTORY_BUDGET_BYTES of SQLite file.
// docs/status.md states the figure.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  emptyEdgePoint,
  emptySitePoint,
  HOUR_POINT,
  KEEP_HOUR_POINTS,
  KEEP_MINUTE_POINTS,
  MINUTE_POINT,
  type EdgePoint,
  type Resolution,
  type SitePoint,
} from '../spec/index.js';
import { openStore, type Store } from './index.js';

/** What docs/status.md promises for 50 edges and 200 sites. */
const HISTORY_BUDGET_BYTES = 160 * 2 ** 20;

let dir: string;
let store: Store | undefined;
beforeEach(() => {
  // In memory-backed /dev/shm when there is one: the size is the same, the disk is spared.
  dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'outpost-history-size-'));
});
afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const EDGES = Array.from({ length: 50 }, (_, i) => `edge-${String(i).padStart(2, '0')}`);
const SITES = Array.from(
  { length: 200 },
  (_, i) => `site-${String(i).padStart(3, '0')}.example.com`,
);

/** Busy, realistic numbers (large counters take more bytes than zeros would). */
function edgePoint(edge: string, t: number, scale: number): EdgePoint {
  const r = (t % 997) / 997;
  return {
    ...emptyEdgePoint(edge, t),
    up: 6 * scale,
    down: 0,
    latency_ms: 12.5 + r,
    latency_n: 6 * scale,
    res_n: 6 * scale,
    cpu: 31.4 + r,
    load1: 1.25 + r,
    mem_used: 3_221_225_472 + Math.round(r * 1e6),
    mem_total: 8_589_934_592,
    disk_used: 53_687_091_200 + Math.round(r * 1e8),
    disk_total: 107_374_182_400,
    rx_bps: 1_250_000 + Math.round(r * 1e5),
    tx_bps: 3_750_000 + Math.round(r * 1e5),
    conns: 420 + Math.round(r * 50),
    requests: 12_000 * scale + Math.round(r * 100),
    bytes: 450_000_000 * scale + Math.round(r * 1e6),
    hits: 10_000 * scale,
    lookups: 11_500 * scale,
  };
}

function sitePoint(site: string, t: number, scale: number): SitePoint {
  const r = (t % 991) / 991;
  const p = emptySitePoint(site, t);
  p.up = 6 * scale;
  p.latency_ms = 48.2 + r;
  p.latency_n = 6 * scale;
  p.requests = 3000 * scale + Math.round(r * 10);
  p.bytes = 110_000_000 * scale + Math.round(r * 1e5);
  p.status = { '2xx': 2800 * scale, '3xx': 120 * scale, '4xx': 70 * scale, '5xx': 10 * scale };
  p.cache = {
    HIT: 2500 * scale,
    MISS: 300 * scale,
    EXPIRED: 40 * scale,
    STALE: 5,
    UPDATING: 2,
    REVALIDATED: 30 * scale,
    BYPASS: 100 * scale,
    EDGE: 23,
  };
  return p;
}

/** Writes every bucket of [from, to), 30 buckets (7500 points) per call. */
async function fill(s: Store, res: Resolution, from: number, to: number): Promise<void> {
  const scale = res === HOUR_POINT ? 60 : 1;
  for (let start = from; start < to; start += 30 * res) {
    const ts: number[] = [];
    for (let t = start; t < Math.min(to, start + 30 * res); t += res) ts.push(t);
    await s.putHistory(
      res,
      ts.flatMap((t) => EDGES.map((e) => edgePoint(e, t, scale))),
      ts.flatMap((t) => SITES.map((x) => sitePoint(x, t, scale))),
    );
  }
}

it('keeps 90 days of points for 50 edges and 200 sites under the stated size, pruned to the windows', async () => {
  const file = join(dir, 'outpost.db');
  store = await openStore({ url: `sqlite:${file}` });
  const now = 1_800_000_000 - (1_800_000_000 % HOUR_POINT);
  // More than each window keeps (a day of hours, 6 h of minutes), then the worker's prune.
  await fill(store, HOUR_POINT, now - KEEP_HOUR_POINTS - 86_400, now);
  await fill(store, MINUTE_POINT, now - KEEP_MINUTE_POINTS - 6 * 3600, now);
  const pruned =
    (await store.pruneHistory(HOUR_POINT, now - KEEP_HOUR_POINTS)) +
    (await store.pruneHistory(MINUTE_POINT, now - KEEP_MINUTE_POINTS));
  expect(pruned).toBe(250 * 24 + 250 * 360);
  const hours = await store.readEdgeHistory({
    resolution: HOUR_POINT,
    from: 0,
    to: now,
    edge: 'edge-07',
  });
  expect(hours).toHaveLength(KEEP_HOUR_POINTS / HOUR_POINT);
  const minutes = await store.readSiteHistory({
    resolution: MINUTE_POINT,
    from: 0,
    to: now,
    site: SITES[42]!,
  });
  expect(minutes).toHaveLength(KEEP_MINUTE_POINTS / MINUTE_POINT);
  expect(minutes[0]?.t).toBe(now - KEEP_MINUTE_POINTS);
  await store.close();
  store = undefined;
  // Closing checkpoints the WAL into the file: the file is all there is.
  const size = statSync(file).size;
  // Measured on the development machine: 130.7 MiB (docs/status.md).
  expect(size).toBeLessThan(HISTORY_BUDGET_BYTES);
  // A second prune cycle reuses the freed pages instead of growing the file.
  store = await openStore({ url: `sqlite:${file}` });
  await fill(store, MINUTE_POINT, now, now + 6 * 3600);
  await store.pruneHistory(MINUTE_POINT, now + 6 * 3600 - KEEP_MINUTE_POINTS);
  await store.close();
  store = undefined;
  expect(statSync(file).size).toBeLessThan(size * 1.1);
}, 600_000);
