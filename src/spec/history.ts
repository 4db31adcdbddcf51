// History points: what the control plane keeps over time per edge and per site (1-minute points
// for 48 hours, 1-hour points for 90 days; docs/status.md). The store keeps them as rows of
// numbers; points of one bucket merge (counts add, gauges average by their sample counts), so
// minutes fold into an hour with the same rule that folds late samples into a minute.

/** Bucket widths in seconds. */
export const MINUTE_POINT = 60;
export const HOUR_POINT = 3600;
export type Resolution = typeof MINUTE_POINT | typeof HOUR_POINT;

/** How long each resolution is kept (seconds). */
export const KEEP_MINUTE_POINTS = 48 * 3600;
export const KEEP_HOUR_POINTS = 90 * 86_400;

/** What health and probes say about a subject during the bucket. */
export interface HealthCounts {
  /** Health samples (one per 10 s) in which it was up (degraded counts as up), and down. */
  up: number;
  down: number;
  /** Mean probe latency in ms over `latency_n` probes, or null without a probe. */
  latency_ms: number | null;
  latency_n: number;
}

export interface EdgePoint extends HealthCounts {
  edge: string;
  /** Bucket start, Unix seconds. */
  t: number;
  /** Resource gauges, averaged over `res_n` samples (null when none came). */
  res_n: number;
  cpu: number | null;
  load1: number | null;
  mem_used: number | null;
  mem_total: number | null;
  /** The filesystem of the cache directory. */
  disk_used: number | null;
  disk_total: number | null;
  rx_bps: number | null;
  tx_bps: number | null;
  conns: number | null;
  /** Traffic counted in the bucket (all sites on the edge). */
  requests: number;
  bytes: number;
  hits: number;
  /** Cache lookups (HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED): the hit ratio's base. */
  lookups: number;
}

export const SITE_STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
/** Cache statuses that were a cache lookup (the hit ratio's base), HIT first. */
export const CACHE_LOOKUPS = [
  'HIT',
  'MISS',
  'EXPIRED',
  'STALE',
  'UPDATING',
  'REVALIDATED',
] as const;
/** Every X-Cache-Status an edge logs: the lookups, then BYPASS and EDGE (answered by the edge). */
export const SITE_CACHE_STATUSES = [...CACHE_LOOKUPS, 'BYPASS', 'EDGE'] as const;

export interface SitePoint extends HealthCounts {
  site: string;
  t: number;
  requests: number;
  bytes: number;
  /** By status class, in SITE_STATUS_CLASSES order. */
  status: Record<(typeof SITE_STATUS_CLASSES)[number], number>;
  cache: Record<(typeof SITE_CACHE_STATUSES)[number], number>;
}

export const EDGE_GAUGES = [
  'cpu',
  'load1',
  'mem_used',
  'mem_total',
  'disk_used',
  'disk_total',
  'rx_bps',
  'tx_bps',
  'conns',
] as const;

export function emptyEdgePoint(edge: string, t: number): EdgePoint {
  return {
    edge,
    t,
    up: 0,
    down: 0,
    latency_ms: null,
    latency_n: 0,
    res_n: 0,
    cpu: null,
    load1: null,
    mem_used: null,
    mem_total: null,
    disk_used: null,
    disk_total: null,
    rx_bps: null,
    tx_bps: null,
    conns: null,
    requests: 0,
    bytes: 0,
    hits: 0,
    lookups: 0,
  };
}

export function emptySitePoint(site: string, t: number): SitePoint {
  return {
    site,
    t,
    up: 0,
    down: 0,
    latency_ms: null,
    latency_n: 0,
    requests: 0,
    bytes: 0,
    status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    cache: {
      HIT: 0,
      MISS: 0,
      EXPIRED: 0,
      STALE: 0,
      UPDATING: 0,
      REVALIDATED: 0,
      BYPASS: 0,
      EDGE: 0,
    },
  };
}

function mean(a: number | null, an: number, b: number | null, bn: number): number | null {
  if (a === null || an === 0) return b === null || bn === 0 ? null : b;
  if (b === null || bn === 0) return a;
  return (a * an + b * bn) / (an + bn);
}

function mergeHealth(into: HealthCounts, add: HealthCounts): void {
  into.latency_ms = mean(into.latency_ms, into.latency_n, add.latency_ms, add.latency_n);
  into.latency_n += add.latency_n;
  into.up += add.up;
  into.down += add.down;
}

/** Adds `add` into `into` (same edge; `into.t` stays). */
export function mergeEdgePoint(into: EdgePoint, add: EdgePoint): EdgePoint {
  mergeHealth(into, add);
  for (const g of EDGE_GAUGES) into[g] = mean(into[g], into.res_n, add[g], add.res_n);
  into.res_n += add.res_n;
  into.requests += add.requests;
  into.bytes += add.bytes;
  into.hits += add.hits;
  into.lookups += add.lookups;
  return into;
}

export function mergeSitePoint(into: SitePoint, add: SitePoint): SitePoint {
  mergeHealth(into, add);
  into.requests += add.requests;
  into.bytes += add.bytes;
  for (const k of SITE_STATUS_CLASSES) into.status[k] += add.status[k];
  for (const k of SITE_CACHE_STATUSES) into.cache[k] += add.cache[k];
  return into;
}

/** The start of the bucket holding Unix second `t`. */
export function bucketOf(t: number, resolution: Resolution): number {
  return Math.floor(t / resolution) * resolution;
}
