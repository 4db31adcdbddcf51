// The history as the API answers it: series over 1 h / 24 h / 7 d / 90 d (every bucket present,
// null where nothing was measured), and the public page's 90 daily uptime bars, 24 h of
// response times and the incidents, without addresses (a message that names one is cut).
import { foldEdgePoints, foldSitePoints } from '../health/history.js';
import type { StatusSnapshot } from '../health/status.js';
import {
  CACHE_LOOKUPS,
  emptyEdgePoint,
  emptySitePoint,
  HOUR_POINT,
  MINUTE_POINT,
  parseMessage,
  type EdgeHistoryPoint,
  type EdgePoint,
  type EdgeSeries,
  type HistoryRange,
  type PublicIncident,
  type PublicSubjectHistory,
  type Resolution,
  type SiteHistoryPoint,
  type SitePoint,
  type Spec,
  type StatusSettings,
} from '../spec/index.js';
import type { HistoryQueries, StoredIncident } from '../store/types.js';

/** Each range: the stored points it reads and the step it shows (at most 168 points). */
export const RANGES: Record<HistoryRange, { seconds: number; source: Resolution; step: number }> = {
  '1h': { seconds: 3600, source: MINUTE_POINT, step: 60 },
  '24h': { seconds: 86_400, source: MINUTE_POINT, step: 900 },
  '7d': { seconds: 7 * 86_400, source: HOUR_POINT, step: 3600 },
  '90d': { seconds: 90 * 86_400, source: HOUR_POINT, step: 86_400 },
};

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function round(x: number | null, digits = 2): number | null {
  if (x === null) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The bucket starts of a range ending now: the last one holds `now`. */
export function buckets(range: HistoryRange, now: Date): { from: number; starts: number[] } {
  const { seconds, step } = RANGES[range];
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  const starts: number[] = [];
  for (let t = end - seconds + step; t <= end; t += step) starts.push(t);
  return { from: starts[0] ?? end, starts };
}

export function edgeHistoryPoint(p: EdgePoint): EdgeHistoryPoint {
  return {
    t: new Date(p.t * 1000).toISOString(),
    up_ratio: round(ratio(p.up, p.up + p.down), 4),
    latency_ms: round(p.latency_ms, 1),
    requests: p.requests,
    bytes: p.bytes,
    hit_ratio: round(ratio(p.hits, p.lookups), 4),
    cpu: round(p.cpu, 1),
    load1: round(p.load1),
    mem_used: round(p.mem_used, 0),
    mem_total: round(p.mem_total, 0),
    disk_used: round(p.disk_used, 0),
    disk_total: round(p.disk_total, 0),
    rx_bps: round(p.rx_bps, 0),
    tx_bps: round(p.tx_bps, 0),
    conns: round(p.conns, 1),
  };
}

export function siteHistoryPoint(p: SitePoint): SiteHistoryPoint {
  const lookups = CACHE_LOOKUPS.reduce((n, k) => n + p.cache[k], 0);
  return {
    t: new Date(p.t * 1000).toISOString(),
    up_ratio: round(ratio(p.up, p.up + p.down), 4),
    latency_ms: round(p.latency_ms, 1),
    requests: p.requests,
    bytes: p.bytes,
    hit_ratio: round(ratio(p.cache.HIT, lookups), 4),
    status: { ...p.status },
    cache: { ...p.cache },
  };
}

/** Groups points (sorted by subject) into the range's buckets, one folded point per bucket. */
function byBucket<P extends { t: number }>(
  points: P[],
  starts: number[],
  step: number,
  fold: (ps: P[], t: number) => P[],
  empty: (t: number) => P,
): P[] {
  const groups = new Map<number, P[]>();
  for (const p of points) {
    const b = Math.floor(p.t / step) * step;
    const g = groups.get(b) ?? [];
    g.push(p);
    groups.set(b, g);
  }
  return starts.map((t) => fold(groups.get(t) ?? [], t)[0] ?? empty(t));
}

export async function edgeSeries(
  store: HistoryQueries,
  spec: Spec,
  range: HistoryRange,
  now: Date,
  only?: string,
): Promise<EdgeSeries[]> {
  const { source, step } = RANGES[range];
  const { from, starts } = buckets(range, now);
  const edges = spec.edges.filter((e) => only === undefined || e.name === only);
  const points = await store.readEdgeHistory({
    resolution: source,
    from,
    to: (starts[starts.length - 1] ?? from) + step,
    ...(only !== undefined ? { edge: only } : {}),
  });
  return edges.map((e) => ({
    name: e.name,
    bandwidth_mbps: e.bandwidth_mbps ?? null,
    points: byBucket(
      points.filter((p) => p.edge === e.name),
      starts,
      step,
      foldEdgePoints,
      (t) => emptyEdgePoint(e.name, t),
    ).map(edgeHistoryPoint),
  }));
}

export async function siteSeries(
  store: HistoryQueries,
  site: string,
  range: HistoryRange,
  now: Date,
): Promise<SiteHistoryPoint[]> {
  const { source, step } = RANGES[range];
  const { from, starts } = buckets(range, now);
  const points = await store.readSiteHistory({
    resolution: source,
    from,
    to: (starts[starts.length - 1] ?? from) + step,
    site,
  });
  return byBucket(points, starts, step, foldSitePoints, (t) => emptySitePoint(site, t)).map(
    siteHistoryPoint,
  );
}

// ---- The public page ----

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g;
const IPV6 = /\[?\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b\]?(?::\d+)?/g;

/** A message for the public page: no addresses (cut, in case a reason ever names one). */
export function publicMessage(message: string): string {
  return message.replace(IPV4, '(address)').replace(IPV6, '(address)').slice(0, 300);
}

/** Who appears on the public page, by the settings. */
export function shownOnPage(settings: StatusSettings, spec: Spec) {
  const pick = (list: string[], name: string) => list.includes('*') || list.includes(name);
  return {
    edges: spec.edges.filter((e) => !e.paused && pick(settings.edges, e.name)).map((e) => e.name),
    sites: spec.sites.filter((s) => pick(settings.sites, s.domain)).map((s) => s.domain),
  };
}

export function publicIncident(i: StoredIncident, now: Date): PublicIncident {
  const end = i.ended_at === null ? now.getTime() : Date.parse(i.ended_at);
  return {
    kind: i.kind,
    subject: i.subject,
    started_at: i.started_at,
    ended_at: i.ended_at,
    duration_seconds: Math.max(0, Math.round((end - Date.parse(i.started_at)) / 1000)),
    // The code is read back from the stored English (rows older than codes get one too), after
    // the addresses are cut, so its values name no address either.
    ...incidentCode(publicMessage(i.message)),
  };
}

/** The message of an incident with its code and values (spec/messages.ts), when one fits. */
export function incidentCode(message: string): Pick<PublicIncident, 'message' | 'code' | 'params'> {
  const m = parseMessage(message);
  return m ? { message, code: m.code, params: m.params } : { message };
}

interface HealthLike {
  t: number;
  up: number;
  down: number;
  latency_ms: number | null;
  latency_n: number;
}

/** 90 daily bars from hour points (the current hour from minute points), and 24 h of latency. */
export function subjectHistory(
  name: string,
  health: PublicSubjectHistory['health'],
  hours: HealthLike[],
  minutes: HealthLike[],
  now: Date,
): PublicSubjectHistory {
  const day = 86_400;
  const today = Math.floor(now.getTime() / 1000 / day) * day;
  const hourNow = Math.floor(now.getTime() / 1000 / HOUR_POINT) * HOUR_POINT;
  const perDay = new Map<number, { up: number; down: number }>();
  const add = (t: number, up: number, down: number) => {
    const d = Math.floor(t / day) * day;
    const x = perDay.get(d) ?? { up: 0, down: 0 };
    x.up += up;
    x.down += down;
    perDay.set(d, x);
  };
  for (const h of hours) add(h.t, h.up, h.down);
  // Minutes of the hours not rolled up yet (the current one).
  const rolled = new Set(hours.map((h) => h.t));
  for (const m of minutes) {
    const hour = Math.floor(m.t / HOUR_POINT) * HOUR_POINT;
    if (!rolled.has(hour) || hour >= hourNow) add(m.t, m.up, m.down);
  }
  const days: PublicSubjectHistory['days'] = [];
  let up = 0;
  let all = 0;
  for (let d = today - 89 * day; d <= today; d += day) {
    const x = perDay.get(d);
    const n = x ? x.up + x.down : 0;
    if (x) {
      up += x.up;
      all += n;
    }
    days.push({
      date: new Date(d * 1000).toISOString().slice(0, 10),
      up_ratio: n === 0 || !x ? null : round(x.up / n, 4),
    });
  }
  const step = 900;
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  const lat = new Map<number, { sum: number; n: number }>();
  for (const m of minutes) {
    if (m.latency_ms === null || m.latency_n === 0) continue;
    const b = Math.floor(m.t / step) * step;
    const x = lat.get(b) ?? { sum: 0, n: 0 };
    x.sum += m.latency_ms * m.latency_n;
    x.n += m.latency_n;
    lat.set(b, x);
  }
  const latency: PublicSubjectHistory['latency'] = [];
  for (let t = end - day + step; t <= end; t += step) {
    const x = lat.get(t);
    latency.push({
      t: new Date(t * 1000).toISOString(),
      ms: x ? round(x.sum / x.n, 1) : null,
    });
  }
  return { name, health, uptime: all === 0 ? null : round(up / all, 5), days, latency };
}

/** The public page's rows for the subjects the settings show. */
export async function publicRows(
  store: HistoryQueries,
  snapshot: StatusSnapshot,
  shown: { edges: string[]; sites: string[] },
  now: Date,
): Promise<{ edges: PublicSubjectHistory[]; sites: PublicSubjectHistory[] }> {
  const t = Math.floor(now.getTime() / 1000);
  const hourRange = { resolution: HOUR_POINT, from: t - 91 * 86_400, to: t + 1 } as const;
  const minuteRange = { resolution: MINUTE_POINT, from: t - 86_400 - 900, to: t + 1 } as const;
  const [eh, em, sh, sm] = await Promise.all([
    store.readEdgeHistory(hourRange),
    store.readEdgeHistory(minuteRange),
    store.readSiteHistory(hourRange),
    store.readSiteHistory(minuteRange),
  ]);
  const edges = shown.edges.map((name) =>
    subjectHistory(
      name,
      snapshot.edges.find((e) => e.name === name)?.health ?? 'unknown',
      eh.filter((p) => p.edge === name),
      em.filter((p) => p.edge === name),
      now,
    ),
  );
  const sites = shown.sites.map((domain) =>
    subjectHistory(
      domain,
      snapshot.sites.find((s) => s.domain === domain)?.health ?? 'unknown',
      sh.filter((p) => p.site === domain),
      sm.filter((p) => p.site === domain),
      now,
    ),
  );
  return { edges, sites };
}
