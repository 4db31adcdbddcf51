// Traffic as the agents report it, kept per edge and per site in one-minute buckets for the
// last hour, plus totals since the control plane started (for Prometheus counters).
import { CACHE_LOOKUPS, type SiteTraffic, type TrafficReport } from '../spec/index.js';

export interface TrafficPoint {
  /** Start of the minute, ISO 8601. */
  t: string;
  requests: number;
  bytes: number;
  hits: number;
  misses: number;
}

export interface TrafficSummary {
  requests: number;
  bytes: number;
  /** HITs over cache lookups (HIT + MISS + EXPIRED + STALE + UPDATING + REVALIDATED), or null. */
  hit_ratio: number | null;
  /** Requests refused by an access rule, and by a rate limit, since the control plane started. */
  denied: number;
  rate_limited: number;
  /** The last `minutes` minutes, oldest first, one point per minute (zeros included). */
  series: TrafficPoint[];
  /** Requests the WAF blocked (403) since start. */
  waf_blocked: number;
}

export interface TrafficTotals {
  requests: number;
  bytes: number;
  status: Record<string, number>;
  cache: Record<string, number>;
  denied: number;
  rate_limited: number;
  /** WAF verdicts and rule matches (issue 16 part B). */
  waf: { blocked: number; detected: number; rules: Record<string, number> };
}

const MINUTE = 60_000;

interface Bucket {
  minute: number;
  requests: number;
  bytes: number;
  hits: number;
  misses: number;
}

function emptyTotals(): TrafficTotals {
  return {
    requests: 0,
    bytes: 0,
    status: {},
    cache: {},
    denied: 0,
    rate_limited: 0,
    waf: { blocked: 0, detected: 0, rules: {} },
  };
}

function addInto(t: TrafficTotals, s: SiteTraffic): void {
  t.requests += s.requests;
  t.bytes += s.bytes;
  for (const [k, v] of Object.entries(s.status)) t.status[k] = (t.status[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.cache)) t.cache[k] = (t.cache[k] ?? 0) + v;
  t.denied += s.denied ?? 0;
  t.rate_limited += s.rate_limited ?? 0;
  if (s.waf !== undefined) {
    t.waf.blocked += s.waf.blocked;
    t.waf.detected += s.waf.detected;
    for (const [k, v] of Object.entries(s.waf.rules)) t.waf.rules[k] = (t.waf.rules[k] ?? 0) + v;
  }
}

export function hitRatio(cache: Record<string, number>): number | null {
  const lookups = CACHE_LOOKUPS.reduce((n, k) => n + (cache[k] ?? 0), 0);
  return lookups === 0 ? null : (cache.HIT ?? 0) / lookups;
}

export class TrafficBook {
  /** key: `edge` or `edge\tsite` */
  private readonly buckets = new Map<string, Bucket[]>();
  private readonly totals = new Map<string, TrafficTotals>();

  constructor(private readonly keepMinutes = 60) {}

  /** Adds a report's counts, attributed to the minute it was received in. */
  record(edge: string, report: TrafficReport, at: Date): void {
    const minute = Math.floor(at.getTime() / MINUTE) * MINUTE;
    for (const [site, s] of Object.entries(report.sites)) {
      for (const key of [edge, `${edge}\t${site}`]) {
        this.addBucket(key, minute, s);
        const t = this.totals.get(key) ?? emptyTotals();
        addInto(t, s);
        this.totals.set(key, t);
      }
    }
  }

  private addBucket(key: string, minute: number, s: SiteTraffic): void {
    const list = this.buckets.get(key) ?? [];
    let b = list[list.length - 1];
    if (!b || b.minute !== minute) {
      b = { minute, requests: 0, bytes: 0, hits: 0, misses: 0 };
      list.push(b);
      while (list.length > 0 && (list[0]?.minute ?? 0) <= minute - this.keepMinutes * MINUTE)
        list.shift();
    }
    b.requests += s.requests;
    b.bytes += s.bytes;
    b.hits += s.cache.HIT ?? 0;
    b.misses += CACHE_LOOKUPS.slice(1).reduce((n, k) => n + (s.cache[k] ?? 0), 0);
    this.buckets.set(key, list);
  }

  /** Totals since start for an edge, or for one site on it. */
  total(edge: string, site?: string): TrafficTotals {
    return structuredClone(
      this.totals.get(site === undefined ? edge : `${edge}\t${site}`) ?? emptyTotals(),
    );
  }

  /** Every (edge, site) pair seen, for metrics. */
  pairs(): { edge: string; site: string }[] {
    return [...this.totals.keys()]
      .filter((k) => k.includes('\t'))
      .map((k) => {
        const [edge = '', site = ''] = k.split('\t');
        return { edge, site };
      });
  }

  summary(edge: string, now: Date, minutes = this.keepMinutes): TrafficSummary {
    const end = Math.floor(now.getTime() / MINUTE) * MINUTE;
    const list = this.buckets.get(edge) ?? [];
    const series: TrafficPoint[] = [];
    for (let m = end - (minutes - 1) * MINUTE; m <= end; m += MINUTE) {
      const b = list.find((x) => x.minute === m);
      series.push({
        t: new Date(m).toISOString(),
        requests: b?.requests ?? 0,
        bytes: b?.bytes ?? 0,
        hits: b?.hits ?? 0,
        misses: b?.misses ?? 0,
      });
    }
    const t = this.totals.get(edge) ?? emptyTotals();
    return {
      requests: t.requests,
      bytes: t.bytes,
      hit_ratio: hitRatio(t.cache),
      denied: t.denied,
      rate_limited: t.rate_limited,
      series,
      waf_blocked: t.waf.blocked,
    };
  }
}
