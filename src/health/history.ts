// History: what the control plane keeps over time (docs/status.md). Every 10 s the worker
// samples each edge's and site's health and the newest probe latencies; agents' reports add
// traffic (to the minute they arrive in) and resource samples (to the minute they were taken,
// so samples kept through an outage land where they belong). Each minute the pending deltas are
// merged into 1-minute points; each finished hour is folded from its minutes into a 1-hour
// point (again when a late sample changed one of its minutes); once an hour, minute points
// older than 48 h, hour points older than 90 days and incidents that ended more than 90 days
// ago are pruned. Incidents open when an edge is down (the edge_down alert) or a site is down,
// and end when it is back.
import {
  bucketOf,
  englishOf,
  emptyEdgePoint,
  emptySitePoint,
  HOUR_POINT,
  KEEP_HOUR_POINTS,
  KEEP_MINUTE_POINTS,
  mergeEdgePoint,
  mergeSitePoint,
  MINUTE_POINT,
  CACHE_LOOKUPS,
  SITE_CACHE_STATUSES,
  SITE_STATUS_CLASSES,
  type EdgePoint,
  type EdgeReport,
  type NodeResources,
  type SitePoint,
} from '../spec/index.js';
import type { Worker } from '../spec/worker.js';
import type { HistoryQueries, IncidentKind } from '../store/types.js';
import type { TargetHealth } from './health-book.js';
import { edgeTargetId, originTargetId } from './prober.js';
import { siteDown, type StatusSnapshot } from './status.js';

/** How often health is sampled (one up or down count per sample). */
export const HEALTH_SAMPLE_MS = 10_000;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** An edge's resource sample as the gauges of one point. */
export function resourcePoint(edge: string, s: NodeResources): EdgePoint {
  const p = emptyEdgePoint(edge, bucketOf(Math.floor(Date.parse(s.at) / 1000), MINUTE_POINT));
  const cache = s.disks.find((d) => d.dir === 'cache') ?? s.disks[0];
  p.res_n = 1;
  p.cpu = s.cpu_percent;
  p.load1 = s.load[0] ?? null;
  p.mem_total = s.memory.total_bytes;
  p.mem_used = s.memory.total_bytes - s.memory.available_bytes;
  p.disk_total = cache?.total_bytes ?? null;
  p.disk_used = cache ? cache.total_bytes - cache.free_bytes : null;
  p.rx_bps = s.network?.rx_bytes_per_second ?? null;
  p.tx_bps = s.network?.tx_bytes_per_second ?? null;
  p.conns = s.tcp_established;
  return p;
}

/** The deltas not yet written, keyed by subject and minute. Pure bookkeeping. */
export class HistoryRecorder {
  private edges = new Map<string, EdgePoint>();
  private sites = new Map<string, SitePoint>();
  /** When each probe target's newest result was taken: a probe counts once. */
  private readonly seenProbe = new Map<string, string>();

  private edge(name: string, t: number): EdgePoint {
    const key = `${name}\t${t}`;
    let p = this.edges.get(key);
    if (!p) this.edges.set(key, (p = emptyEdgePoint(name, t)));
    return p;
  }

  private site(domain: string, t: number): SitePoint {
    const key = `${domain}\t${t}`;
    let p = this.sites.get(key);
    if (!p) this.sites.set(key, (p = emptySitePoint(domain, t)));
    return p;
  }

  /** A report: its traffic (in the minute it arrived) and its resource samples (in theirs). */
  recordReport(edge: string, report: EdgeReport, at: Date): void {
    const t = bucketOf(seconds(at), MINUTE_POINT);
    for (const [domain, s] of Object.entries(report.traffic?.sites ?? {})) {
      const e = this.edge(edge, t);
      e.requests += s.requests;
      e.bytes += s.bytes;
      e.hits += s.cache.HIT ?? 0;
      e.lookups += CACHE_LOOKUPS.reduce((n, k) => n + (s.cache[k] ?? 0), 0);
      const p = this.site(domain, t);
      p.requests += s.requests;
      p.bytes += s.bytes;
      for (const k of SITE_STATUS_CLASSES) p.status[k] += s.status[k] ?? 0;
      for (const k of SITE_CACHE_STATUSES) p.cache[k] += s.cache[k] ?? 0;
    }
    for (const sample of report.resources ?? []) {
      if (!Number.isFinite(Date.parse(sample.at))) continue;
      const r = resourcePoint(edge, sample);
      mergeEdgePoint(this.edge(edge, r.t), r);
    }
  }

  private latency(target: string, health: TargetHealth): number | undefined {
    const last = health.last;
    if (!last || last.ms === undefined || this.seenProbe.get(target) === last.at) return undefined;
    this.seenProbe.set(target, last.at);
    return last.ok ? last.ms : undefined;
  }

  /** One health sample of every edge and site in the snapshot. */
  recordHealth(snapshot: StatusSnapshot, health: (id: string) => TargetHealth, at: Date): void {
    const t = bucketOf(seconds(at), MINUTE_POINT);
    for (const e of snapshot.edges) {
      if (e.paused) continue;
      const down = e.health === 'down' || e.state === 'offline';
      const up = !down && (e.health === 'up' || e.health === 'degraded');
      if (!up && !down) continue; // unknown: neither
      const p = this.edge(e.name, t);
      if (up) p.up += 1;
      else p.down += 1;
      const ms = this.latency(edgeTargetId(e.name), health(edgeTargetId(e.name)));
      if (ms !== undefined)
        mergeEdgePoint(p, { ...emptyEdgePoint(e.name, t), latency_ms: ms, latency_n: 1 });
    }
    for (const s of snapshot.sites) {
      if (s.health === 'unknown') continue;
      const p = this.site(s.domain, t);
      if (s.health === 'down') p.down += 1;
      else p.up += 1;
      for (const o of s.origins) {
        const id = originTargetId(s.domain, o.index);
        const ms = this.latency(id, health(id));
        if (ms !== undefined)
          mergeSitePoint(p, { ...emptySitePoint(s.domain, t), latency_ms: ms, latency_n: 1 });
      }
    }
  }

  /** The pending deltas, which are forgotten here. */
  take(): { edges: EdgePoint[]; sites: SitePoint[] } {
    const out = { edges: [...this.edges.values()], sites: [...this.sites.values()] };
    this.edges = new Map();
    this.sites = new Map();
    return out;
  }

  /** Puts back deltas a failed write did not keep (they merge with newer ones). */
  giveBack(points: { edges: EdgePoint[]; sites: SitePoint[] }): void {
    for (const p of points.edges) mergeEdgePoint(this.edge(p.edge, p.t), p);
    for (const p of points.sites) mergeSitePoint(this.site(p.site, p.t), p);
  }
}

/** Folds points of several buckets into one point per subject (for the hour roll-up). */
export function foldEdgePoints(points: EdgePoint[], t: number): EdgePoint[] {
  const by = new Map<string, EdgePoint>();
  for (const p of points) {
    const into = by.get(p.edge) ?? emptyEdgePoint(p.edge, t);
    by.set(p.edge, mergeEdgePoint(into, p));
  }
  return [...by.values()];
}

export function foldSitePoints(points: SitePoint[], t: number): SitePoint[] {
  const by = new Map<string, SitePoint>();
  for (const p of points) {
    const into = by.get(p.site) ?? emptySitePoint(p.site, t);
    by.set(p.site, mergeSitePoint(into, p));
  }
  return [...by.values()];
}

export interface HistoryWorkerOptions {
  store: HistoryQueries;
  snapshot: () => Promise<StatusSnapshot>;
  health: (id: string) => TargetHealth;
  now?: () => Date;
  /** Health sampling interval (default 10 s); writes happen on the minute. */
  sampleMs?: number;
  log?: (message: string, err: unknown) => void;
}

/** Samples, writes, rolls up and prunes the history; keeps incidents. */
export class HistoryWorker implements Worker {
  readonly name = 'history';
  readonly recorder = new HistoryRecorder();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private lastFlushMinute = 0;
  private lastPrune = 0;
  /** Hours (bucket starts) whose minutes changed after they were rolled up. */
  private readonly dirtyHours = new Set<number>();
  /** Incidents open, by `kind\tsubject`. */
  private open = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly opts: HistoryWorkerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    this.stopped = false;
    const open = await this.opts.store.listIncidents({ since: this.now().toISOString() });
    this.open = new Set(
      open.filter((i) => i.ended_at === null).map((i) => `${i.kind}\t${i.subject}`),
    );
    const tick = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((err: unknown) => this.opts.log?.('history tick failed', err))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.sampleMs ?? HEALTH_SAMPLE_MS);
        });
    };
    this.timer = setTimeout(tick, this.opts.sampleMs ?? HEALTH_SAMPLE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.flush().catch((err: unknown) => this.opts.log?.('history flush failed', err));
  }

  /** One sample; on a new minute, the write, roll-up and (hourly) prune. */
  async tick(): Promise<void> {
    const now = this.now();
    const snapshot = await this.opts.snapshot();
    this.recorder.recordHealth(snapshot, this.opts.health, now);
    await this.incidents(snapshot, now);
    const minute = bucketOf(seconds(now), MINUTE_POINT);
    if (minute !== this.lastFlushMinute) {
      this.lastFlushMinute = minute;
      await this.flush();
      await this.rollUp(now);
    }
    if (now.getTime() - this.lastPrune >= 3600_000) {
      this.lastPrune = now.getTime();
      await this.prune(now);
    }
  }

  /** Writes the pending deltas into their minute points. */
  async flush(): Promise<void> {
    const pending = this.recorder.take();
    if (pending.edges.length === 0 && pending.sites.length === 0) return;
    try {
      await this.opts.store.addHistory(MINUTE_POINT, pending.edges, pending.sites);
    } catch (err) {
      this.recorder.giveBack(pending);
      throw err;
    }
    const current = bucketOf(seconds(this.now()), HOUR_POINT);
    for (const p of [...pending.edges, ...pending.sites]) {
      const hour = bucketOf(p.t, HOUR_POINT);
      if (hour < current) this.dirtyHours.add(hour);
    }
  }

  /** Folds every finished hour not rolled up yet (and the changed ones) into hour points. */
  async rollUp(now: Date): Promise<void> {
    const current = bucketOf(seconds(now), HOUR_POINT);
    const oldest = current - KEEP_MINUTE_POINTS;
    const latest = await this.opts.store.latestHistoryBucket(HOUR_POINT);
    const hours = new Set(this.dirtyHours);
    this.dirtyHours.clear();
    const from =
      latest === undefined ? current - HOUR_POINT : Math.max(latest + HOUR_POINT, oldest);
    for (let h = from; h < current; h += HOUR_POINT) hours.add(h);
    for (const h of [...hours].sort((a, b) => a - b)) {
      if (h < oldest || h >= current) continue;
      const range = { resolution: MINUTE_POINT, from: h, to: h + HOUR_POINT } as const;
      const [edges, sites] = await Promise.all([
        this.opts.store.readEdgeHistory(range),
        this.opts.store.readSiteHistory(range),
      ]);
      await this.opts.store.putHistory(
        HOUR_POINT,
        foldEdgePoints(edges, h),
        foldSitePoints(sites, h),
      );
    }
  }

  async prune(now: Date): Promise<void> {
    const t = seconds(now);
    await this.opts.store.pruneHistory(MINUTE_POINT, t - KEEP_MINUTE_POINTS);
    await this.opts.store.pruneHistory(HOUR_POINT, t - KEEP_HOUR_POINTS);
    await this.opts.store.pruneIncidents(new Date((t - KEEP_HOUR_POINTS) * 1000).toISOString());
  }

  /** Opens an incident for what went down, ends the ones that are back. */
  private async incidents(snapshot: StatusSnapshot, now: Date): Promise<void> {
    const down = new Map<string, { kind: IncidentKind; subject: string; message: string }>();
    for (const a of snapshot.alerts)
      if (a.kind === 'edge_down')
        down.set(`edge\t${a.subject}`, { kind: 'edge', subject: a.subject, message: a.message });
    for (const s of snapshot.sites)
      if (s.health === 'down')
        down.set(`site\t${s.domain}`, {
          kind: 'site',
          subject: s.domain,
          // Stored in English; its code is read back from the text (status/history.ts).
          message: englishOf(siteDown(s)),
        });
    const at = now.toISOString();
    for (const [key, d] of down) {
      if (this.open.has(key)) continue;
      await this.opts.store.openIncident(d.kind, d.subject, at, d.message);
      this.open.add(key);
    }
    for (const key of [...this.open]) {
      if (down.has(key)) continue;
      const [kind = 'edge', subject = ''] = key.split('\t');
      await this.opts.store.closeIncident(kind === 'site' ? 'site' : 'edge', subject, at);
      this.open.delete(key);
    }
  }
}
