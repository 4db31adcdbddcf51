// Prometheus metrics (prom-client): counters that add up the traffic agents report, and gauges
// read from the status snapshot at scrape time.
import { Counter, Gauge, Registry } from 'prom-client';
import type { StatusSnapshot } from '../health/status.js';
import type { TrafficReport } from '../spec/index.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'edge' | 'site' | 'status_class'>;
  private readonly bytes: Counter<'edge' | 'site'>;
  private readonly cache: Counter<'edge' | 'site' | 'cache_status'>;
  private readonly denied: Counter<'edge' | 'site'>;
  private readonly rateLimited: Counter<'edge' | 'site'>;
  private readonly wafBlocked: Counter<'edge' | 'site'>;
  private readonly wafDetected: Counter<'edge' | 'site'>;
  private readonly wafRules: Counter<'edge' | 'site' | 'rule'>;

  private readonly refresh: (s: StatusSnapshot) => void;

  constructor(private readonly snapshot: () => Promise<StatusSnapshot>) {
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const revision = new Gauge({
      name: 'outpost_desired_revision',
      help: 'Revision of the desired state',
      registers,
    });
    this.requests = counter(
      'outpost_requests_total',
      'Requests served by edges, by site and status class',
      ['edge', 'site', 'status_class'],
    );
    this.bytes = counter('outpost_bytes_sent_total', 'Response body bytes sent by edges, by site', [
      'edge',
      'site',
    ]);
    this.cache = counter(
      'outpost_cache_total',
      'Requests by cache status (HIT, MISS, STALE, BYPASS, EDGE, …), by edge and site',
      ['edge', 'site', 'cache_status'],
    );
    this.denied = counter(
      'outpost_requests_denied_total',
      'Requests an access rule refused at the edge, by edge and site',
      ['edge', 'site'],
    );
    this.rateLimited = counter(
      'outpost_requests_rate_limited_total',
      'Requests a rate limit refused at the edge, by edge and site',
      ['edge', 'site'],
    );
    this.wafBlocked = counter(
      'outpost_waf_blocked_total',
      'Requests the WAF answered 403 (block mode), by edge and site',
      ['edge', 'site'],
    );
    this.wafDetected = counter(
      'outpost_waf_detected_total',
      'Requests over the WAF anomaly threshold let through (detect mode), by edge and site',
      ['edge', 'site'],
    );
    this.wafRules = counter(
      'outpost_waf_rule_matches_total',
      'Matches of each OWASP CRS rule id, by edge and site',
      ['edge', 'site', 'rule'],
    );
    const edgeUp = gauge('outpost_edge_up', "1 when the control plane's probes reach the edge", [
      'edge',
    ]);
    const lag = gauge('outpost_edge_config_lag_releases', 'Desired release minus applied release', [
      'edge',
    ]);
    const age = gauge('outpost_edge_report_age_seconds', 'Seconds since the edge last reported', [
      'edge',
    ]);
    const hit = gauge('outpost_edge_hit_ratio', 'Cache hit ratio since the control plane started', [
      'edge',
    ]);
    const siteUp = gauge('outpost_site_up', 'Site health: 1 up, 0.5 degraded, 0 down', ['site']);
    const originUp = gauge('outpost_origin_up', '1 when the origin answers its probe', [
      'site',
      'origin',
    ]);
    const alerts = gauge('outpost_alerts', 'Active alerts by kind', ['kind']);

    this.refresh = (s: StatusSnapshot) => {
      revision.set(s.revision);
      for (const g of [edgeUp, lag, age, hit, siteUp, originUp, alerts]) g.reset();
      for (const e of s.edges) {
        if (e.health !== 'unknown') edgeUp.set({ edge: e.name }, e.health === 'down' ? 0 : 1);
        if (e.desired_release !== null)
          lag.set({ edge: e.name }, e.desired_release - (e.applied_release ?? 0));
        if (e.age_seconds !== null) age.set({ edge: e.name }, e.age_seconds);
        if (e.traffic.hit_ratio !== null) hit.set({ edge: e.name }, e.traffic.hit_ratio);
      }
      for (const site of s.sites) {
        if (site.health !== 'unknown')
          siteUp.set(
            { site: site.domain },
            site.health === 'up' ? 1 : site.health === 'degraded' ? 0.5 : 0,
          );
        for (const o of site.origins) {
          if (o.health !== 'unknown')
            originUp.set({ site: site.domain, origin: String(o.index) }, o.health === 'up' ? 1 : 0);
        }
      }
      for (const a of s.alerts) alerts.inc({ kind: a.kind });
    };
  }

  /** The exposition text: gauges refreshed from one snapshot, then every metric. */
  async render(): Promise<string> {
    this.refresh(await this.snapshot());
    return this.registry.metrics();
  }

  recordTraffic(edge: string, traffic: TrafficReport): void {
    for (const [site, t] of Object.entries(traffic.sites)) {
      this.bytes.inc({ edge, site }, t.bytes);
      for (const [cls, n] of Object.entries(t.status))
        this.requests.inc({ edge, site, status_class: cls }, n);
      for (const [c, n] of Object.entries(t.cache))
        this.cache.inc({ edge, site, cache_status: c }, n);
      if (t.denied !== undefined) this.denied.inc({ edge, site }, t.denied);
      if (t.rate_limited !== undefined) this.rateLimited.inc({ edge, site }, t.rate_limited);
      if (t.waf === undefined) continue;
      if (t.waf.blocked > 0) this.wafBlocked.inc({ edge, site }, t.waf.blocked);
      if (t.waf.detected > 0) this.wafDetected.inc({ edge, site }, t.waf.detected);
      for (const [rule, n] of Object.entries(t.waf.rules))
        this.wafRules.inc({ edge, site, rule }, n);
    }
  }
}
