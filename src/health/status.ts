// The whole status picture: each edge (release, reports, probes, traffic), each site (probes
// through its edges and of its origins) and the alerts. Pure: inputs in, snapshot out.
import { selectorMatch, type Site, type Spec } from '../spec/index.js';
import { edgeStatuses, type EdgeStatus, type EdgeStatusInput } from './edge-status.js';
import { combine, type Health, type TargetHealth } from './health-book.js';
import { edgeTargetId, originTargetId } from './prober.js';
import type { TrafficBook, TrafficSummary } from './traffic-book.js';
import { usedMbps } from './bandwidth.js';
import {
  codeOf,
  coded,
  englishOf,
  EdgeReport,
  type CodedMessage,
  type NodeResources,
} from '../spec/index.js';

export interface EdgeStatusWithHealth extends EdgeStatus {
  health: Health;
  health_reason: string | null;
  /** `health_reason`'s code and values (spec/messages.ts), when one fits. */
  health_reason_code?: CodedMessage | null;
  traffic: TrafficSummary;
  active_connections: number | null;
  validation_ms: number | null;
  resources: NodeResources | null;
  bandwidth: { capacity_mbps: number | null; used_mbps: number | null; percent: number | null };
}

type Reasoned<T> = T & { reason: string | null; reason_code?: CodedMessage | null };

/** A site's probe through one edge. */
export type SiteEdgeHealth = Reasoned<{ name: string; health: TargetHealth['state'] }>;

/** How many of a site's edges its probes find up, down, or have no answer for yet. */
export interface EdgesByHealth {
  up: number;
  down: number;
  unknown: number;
}

export interface SiteStatus {
  domain: string;
  health: Health;
  reason: string | null;
  reason_code?: CodedMessage | null;
  /** Every edge that serves the site, counted by the state of the site's probe through it. */
  edges_by_health: EdgesByHealth;
  /**
   * In the snapshot: only the edges where the site is down (so its size grows with problems,
   * not with sites × edges, docs/status.md); in `siteEdges` (GET /v1/status/sites/:domain):
   * every edge that serves the site.
   */
  edges: SiteEdgeHealth[];
  origins: Reasoned<{ index: number; health: TargetHealth['state'] }>[];
}

/** What the status needs of a probe target: its state and why (no history, no copies). */
export type HealthLookup = (target: string) => Pick<TargetHealth, 'state' | 'reason'>;

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
  health: HealthLookup;
  traffic: TrafficBook;
  /** Alerts other capabilities raise (certificates, DNS). */
  extraAlerts?: Alert[];
  /**
   * The edges serving each domain, as `edgesPerSite(spec)` gives them: a caller that snapshots
   * often passes this, computed once per revision.
   */
  edgesOf?: Map<string, string[]>;
  /**
   * The sites as an earlier snapshot gave them, when nothing they come from changed since
   * (the same revision, the same health): reused as they are, nothing is looked up again.
   */
  sites?: SiteStatus[];
}

export function buildStatus(input: StatusInput): StatusSnapshot {
  const { spec, health } = input;
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
      health_reason_code: codeOf(combined.reason),
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

  const edgesOf = input.sites ? undefined : (input.edgesOf ?? edgesPerSite(spec));
  const sites =
    input.sites ??
    spec.sites.map((site) => siteStatus(site, edgesOf?.get(site.domain) ?? [], health, 'problems'));

  const alerts: Alert[] = [];
  for (const e of edges) {
    if (e.paused) continue;
    if (e.health === 'down' || e.state === 'offline') {
      const since = e.state === 'offline' ? e.last_seen : null;
      alerts.push({
        kind: 'edge_down',
        subject: e.name,
        ...said(
          e.state === 'offline'
            ? coded('alert_edge_offline', { edge: e.name, seconds: e.age_seconds ?? '?' })
            : coded('alert_edge_down', { edge: e.name, reason: whyText(e.health_reason) }),
        ),
        since,
      });
    }
    if (e.state === 'error') {
      alerts.push({
        kind: 'config_error',
        subject: e.name,
        ...said(
          coded('alert_config_error', {
            edge: e.name,
            error: e.error_code ?? e.error ?? 'error',
          }),
        ),
        since: null,
      });
    }
  }
  for (const s of sites) {
    if (s.health !== 'down') continue;
    alerts.push({
      kind: 'site_down',
      subject: s.domain,
      ...said(siteDown(s)),
      since: null,
    });
  }
  // Other capabilities word their own alerts; those the table knows get their code here.
  for (const a of input.extraAlerts ?? [])
    alerts.push(a.code !== undefined ? a : { ...a, ...codeFields(codeOf(a.message)) });
  return { revision: input.revision, edges, sites, alerts };
}

/**
 * One site's health from its probes through each edge serving it and of each origin.
 * `edges: 'problems'` lists only the edges where the site is down (the snapshot), `'all'`
 * every one (GET /v1/status/sites/:domain); the verdict and the counts are the same.
 * One health lookup per edge (the lookup hands out the book's own entry, not a copy).
 */
export function siteStatus(
  site: Pick<Site, 'domain' | 'origins'>,
  edgeNames: readonly string[],
  health: HealthLookup,
  edges: 'problems' | 'all',
): SiteStatus {
  const counts: EdgesByHealth = { up: 0, down: 0, unknown: 0 };
  const listed: SiteEdgeHealth[] = [];
  const edgeStates = edgeNames.map((name) => {
    const t = health(edgeTargetId(name, site.domain));
    counts[t.state] += 1;
    if (edges === 'all' || t.state === 'down') listed.push({ name, ...pick(t) });
    return t;
  });
  const viaEdges = combine(edgeStates);
  const originStates = site.origins.map((_, i) => health(originTargetId(site.domain, i)));
  const origins = combine(originStates);
  let verdict: { health: Health; reason: CodedMessage | string | null };
  if (origins.health === 'down')
    verdict = { health: 'down', reason: coded('site_origins_down', { reason: why(origins) }) };
  else if (viaEdges.health === 'down')
    verdict = { health: 'down', reason: coded('site_edges_down', { reason: why(viaEdges) }) };
  else if (origins.health === 'degraded' || viaEdges.health === 'degraded')
    verdict = { health: 'degraded', reason: viaEdges.reason ?? origins.reason };
  else if (origins.health === 'unknown' && viaEdges.health === 'unknown')
    verdict = { health: 'unknown', reason: null };
  else verdict = { health: 'up', reason: null };
  return {
    domain: site.domain,
    health: verdict.health,
    ...reasoned(verdict.reason),
    edges_by_health: counts,
    edges: listed,
    origins: originStates.map((t, index) => ({ index, ...pick(t) })),
  };
}

/**
 * The edges serving each domain, in the spec's edge order, as compileEdgePlan plans them (a
 * paused edge serves nothing): computed once per distinct selector list (sites mostly share a
 * few), not once per site and edge.
 */
export function edgesPerSite(spec: Pick<Spec, 'sites' | 'edges'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const bySelectors = new Map<string, string[]>();
  for (const site of spec.sites) {
    const key = site.edges.join('\n');
    let names = bySelectors.get(key);
    if (!names) {
      names = spec.edges
        .filter((e) => !e.paused && selectorMatch(site.edges, e) !== undefined)
        .map((e) => e.name);
      bySelectors.set(key, names);
    }
    out.set(site.domain, names);
  }
  return out;
}

function pick(
  t: Pick<TargetHealth, 'state' | 'reason'>,
): Reasoned<{ health: TargetHealth['state'] }> {
  return { health: t.state, reason: t.reason, reason_code: codeOf(t.reason) };
}

/** A reason as text and as its code (a text the table does not word keeps no code). */
function reasoned(r: CodedMessage | string | null): {
  reason: string | null;
  reason_code?: CodedMessage | null;
} {
  if (r === null || typeof r === 'string') return { reason: r, reason_code: codeOf(r) };
  return { reason: englishOf(r), reason_code: r };
}

/** Why targets are down, as a coded sentence when the table words it. */
function why(c: { reason: string | null }): CodedMessage | string {
  return whyText(c.reason);
}

function whyText(reason: string | null): CodedMessage | string {
  if (reason === null) return coded('probes_fail');
  return codeOf(reason) ?? reason;
}

/** An alert's English message with its code and values beside it. */
function said(m: CodedMessage): { message: string; code: string; params: CodedMessage['params'] } {
  return { message: englishOf(m), code: m.code, params: m.params };
}

function codeFields(m: CodedMessage | null | undefined): {
  code?: string;
  params?: CodedMessage['params'];
} {
  return m ? { code: m.code, params: m.params } : {};
}

/** The sentence of a site that is down (its alert and its incident say the same). */
export function siteDown(s: Pick<SiteStatus, 'domain' | 'reason' | 'reason_code'>): CodedMessage {
  return coded('alert_site_down', {
    site: s.domain,
    reason: s.reason_code ?? s.reason ?? coded('probes_fail'),
  });
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
