// The whole status picture: each edge (release, reports, probes, traffic), each site (probes
// through its edges and of its origins) and the alerts. Pure: inputs in, snapshot out.
import { sitesServedBy, type Spec } from '../spec/index.js';
import { edgeStatuses, type EdgeStatus, type EdgeStatusInput } from './edge-status.js';
import { combine, type Health, type TargetHealth } from './health-book.js';
import { edgeTargetId, originTargetId } from './prober.js';
import type { TrafficBook, TrafficSummary } from './traffic-book.js';
import { usedMbps } from './bandwidth.js';
import { EdgeReport, type NodeResources } from '../spec/index.js';

export interface EdgeStatusWithHealth extends EdgeStatus {
  health: Health;
  health_reason: string | null;
  traffic: TrafficSummary;
  active_connections: number | null;
  validation_ms: number | null;
  resources: NodeResources | null;
  bandwidth: { capacity_mbps: number | null; used_mbps: number | null; percent: number | null };
}

export interface SiteStatus {
  domain: string;
  health: Health;
  reason: string | null;
  edges: { name: string; health: TargetHealth['state']; reason: string | null }[];
  origins: { index: number; health: TargetHealth['state']; reason: string | null }[];
}

// One definition of an alert: the API answer's schema (spec/api.ts), so a new kind cannot
// exist here without the UI and CLI knowing it.
export type { Alert, AlertKind } from '../spec/api.js';
import type { Alert } from '../spec/api.js';

export interface StatusSnapshot {
  revision: number;
  edges: EdgeStatusWithHealth[];
  sites: SiteStatus[];
  alerts: Alert[];
}

export interface StatusInput extends EdgeStatusInput {
  revision: number;
  health: (target: string) => TargetHealth;
  traffic: TrafficBook;
  /** Alerts other capabilities raise (certificates, DNS). */
  extraAlerts?: Alert[];
  /**
   * The domains each edge serves, as `sitesPerEdge(spec)` gives them. Compiling every edge's
   * plan is the costly part of a snapshot; a caller that snapshots often passes this, computed
   * once per revision.
   */
  servedBy?: Map<string, string[]>;
}

export function buildStatus(input: StatusInput): StatusSnapshot {
  const { spec, health } = input;
  const servedBy = input.servedBy ?? sitesPerEdge(spec);
  const edges = edgeStatuses(input).map((e): EdgeStatusWithHealth => {
    const report = input.reports.find((r) => r.edge === e.name)?.report;
    const combined = e.paused
      ? { health: 'unknown' as Health, reason: null }
      : combine([health(edgeTargetId(e.name))]);
    const conns = report?.active_connections;
    const parsed = report ? EdgeReport.safeParse(report) : undefined;
    const samples = parsed?.success ? (parsed.data.resources ?? []) : [];
    const resources = samples[samples.length - 1] ?? null;
    const capacity = spec.edges.find((x) => x.name === e.name)?.bandwidth_mbps ?? null;
    const used = resources ? usedMbps(resources) : null;
    return {
      ...e,
      health: combined.health,
      health_reason: combined.reason,
      traffic: input.traffic.summary(e.name, input.now),
      active_connections: typeof conns === 'number' ? conns : null,
      validation_ms: parsed?.success ? (parsed.data.validation_ms ?? null) : null,
      resources,
      bandwidth: {
        capacity_mbps: capacity,
        used_mbps: used === null ? null : Math.round(used * 1000) / 1000,
        percent:
          used === null || capacity === null ? null : Math.round((used / capacity) * 1000) / 10,
      },
    };
  });

  const sites = spec.sites.map((site): SiteStatus => {
    const edgeNames = spec.edges
      .filter((e) => servedBy.get(e.name)?.includes(site.domain))
      .map((e) => e.name);
    const edgeHealth = edgeNames.map((n) => ({
      name: n,
      ...pick(health(edgeTargetId(n, site.domain))),
    }));
    const originHealth = site.origins.map((_, i) => ({
      index: i,
      ...pick(health(originTargetId(site.domain, i))),
    }));
    const origins = combine(site.origins.map((_, i) => health(originTargetId(site.domain, i))));
    const viaEdges = combine(edgeNames.map((n) => health(edgeTargetId(n, site.domain))));
    let verdict: { health: Health; reason: string | null };
    if (origins.health === 'down')
      verdict = { health: 'down', reason: `origins: ${origins.reason ?? 'down'}` };
    else if (viaEdges.health === 'down')
      verdict = { health: 'down', reason: `edges: ${viaEdges.reason ?? 'down'}` };
    else if (origins.health === 'degraded' || viaEdges.health === 'degraded')
      verdict = { health: 'degraded', reason: viaEdges.reason ?? origins.reason };
    else if (origins.health === 'unknown' && viaEdges.health === 'unknown')
      verdict = { health: 'unknown', reason: null };
    else verdict = { health: 'up', reason: null };
    return { domain: site.domain, ...verdict, edges: edgeHealth, origins: originHealth };
  });

  const alerts: Alert[] = [];
  for (const e of edges) {
    if (e.paused) continue;
    if (e.health === 'down' || e.state === 'offline') {
      const since = e.state === 'offline' ? e.last_seen : null;
      alerts.push({
        kind: 'edge_down',
        subject: e.name,
        message:
          e.state === 'offline'
            ? `edge ${e.name} has not reported for ${e.age_seconds ?? '?'} s`
            : `edge ${e.name} is down: ${e.health_reason ?? 'probes fail'}`,
        since,
      });
    }
    if (e.state === 'error') {
      alerts.push({
        kind: 'config_error',
        subject: e.name,
        message: `edge ${e.name}: ${e.error ?? 'error'}`,
        since: null,
      });
    }
  }
  for (const s of sites) {
    if (s.health !== 'down') continue;
    alerts.push({
      kind: 'site_down',
      subject: s.domain,
      message: `site ${s.domain} is down: ${s.reason ?? 'probes fail'}`,
      since: null,
    });
  }
  alerts.push(...(input.extraAlerts ?? []));
  return { revision: input.revision, edges, sites, alerts };
}

function pick(t: TargetHealth): { health: TargetHealth['state']; reason: string | null } {
  return { health: t.state, reason: t.reason };
}

/** The domains each edge serves (as its plan would list them), by edge name. */
export function sitesPerEdge(spec: Spec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const edge of spec.edges) {
    out.set(
      edge.name,
      sitesServedBy(spec, edge).map((s) => s.domain),
    );
  }
  return out;
}

/** What the public status page may show: no addresses, no errors, no secrets. */
export function publicStatus(snapshot: StatusSnapshot, now: Date) {
  return {
    updated_at: now.toISOString(),
    edges: snapshot.edges
      .filter((e) => !e.paused)
      .map((e) => ({ name: e.name, state: e.state, health: e.health })),
    sites: snapshot.sites.map((s) => ({ domain: s.domain, health: s.health })),
  };
}
