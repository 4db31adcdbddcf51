// The control plane's live picture of the CDN: assembles the status snapshot from the store,
// the bundle builder, the probes (merged across control planes) and the traffic book, and tells listeners (SSE) when it
// changes, at most once a second.
import { EventEmitter } from 'node:events';
import {
  buildStatus,
  edgesPerSite,
  type SiteStatus,
  siteStatus,
  type Alert,
  type StatusSnapshot,
} from '../health/status.js';
import type { SharedHealth } from '../health/shared-health.js';
import { TrafficBook } from '../health/traffic-book.js';
import { HistoryWorker } from '../health/history.js';
import {
  StatusSettings,
  type EdgeReport,
  type SiteEdgesStatus,
  type Spec,
  type StatusSettingsInput,
} from '../spec/index.js';
import { BandwidthWatch } from '../health/bandwidth.js';
import type { Store } from '../store/types.js';
import type { BundleBuilder } from '../edges/builder.js';
import type { Worker } from '../spec/worker.js';

/** Agents report every 10 s; three missed reports and an edge is offline. */
export const OFFLINE_AFTER_SECONDS = 30;

/** The settings row of the status page and the bandwidth alert. */
export const STATUS_SETTINGS_KEY = 'status.settings';

/** Other capabilities (certificates, DNS) add their alerts through this. */
export type AlertSource = () => Promise<Alert[]>;

export class StatusService extends EventEmitter implements Worker {
  readonly name = 'status';
  readonly traffic = new TrafficBook();
  private readonly alertSources: AlertSource[] = [];
  private pending: NodeJS.Timeout | undefined;
  private lastEmit = 0;
  /** Which edges serve each site, compiled once per desired-state revision. */
  private servedBy: { revision: number; edges: Map<string, string[]> } | undefined;
  /** The snapshot's sites at one revision and health version (health/status.ts's `sites`). */
  private sitesAt: { revision: number; health: number; sites: SiteStatus[] } | undefined;
  /** Edge name (as the refused request claimed it) → when its token was last refused. */
  private readonly tokenRefusals = new Map<string, Date>();
  /** The time series (a worker of its own, listed in server/workers.ts). */
  readonly history: HistoryWorker;
  /** Recent network use per edge, for the edge_bandwidth alert. */
  private readonly bandwidth = new BandwidthWatch();

  constructor(
    private readonly store: Store,
    private readonly builder: BundleBuilder,
    /** The probes' health: this control plane's merged with the others' (health/shared-health.ts). */
    readonly health: SharedHealth,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
    this.setMaxListeners(0);
    health.on('changed', () => this.changed());
    this.history = new HistoryWorker({
      store,
      snapshot: () => this.snapshot(),
      health: (id) => this.health.get(id),
      now,
    });
  }

  addAlertSource(source: AlertSource): void {
    this.alertSources.push(source);
  }

  async start(): Promise<void> {
    await this.health.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.pending);
    await this.health.stop();
  }

  onDesiredStateChange(): void {
    this.changed();
  }

  /** An agent reported: keep its traffic and tell listeners. */
  async recordReport(edge: string, report: EdgeReport): Promise<void> {
    // The stored report keeps the newest resource sample only; the history keeps them all.
    const newest = report.resources?.[report.resources.length - 1];
    await this.store.saveEdgeReport(edge, {
      ...report,
      ...(report.resources ? { resources: newest ? [newest] : [] } : {}),
    });
    if (report.traffic) this.traffic.record(edge, report.traffic, this.now());
    this.history.recorder.recordReport(edge, report, this.now());
    if (report.resources) this.bandwidth.record(edge, report.resources, this.now());
    this.changed();
  }

  /**
   * A request naming `edge` was refused for its token. Only names of edges in the spec are kept
   * (the map stays as small as the edge list).
   */
  async recordTokenRefusal(edge: string): Promise<void> {
    const { spec } = await this.store.readSharedState();
    if (!spec.edges.some((e) => e.name === edge)) return;
    const first = !this.tokenRefusals.has(edge);
    this.tokenRefusals.set(edge, this.now());
    if (first) this.changed();
  }

  async snapshot(): Promise<StatusSnapshot> {
    const [{ spec, revision }, bundles, reports] = await Promise.all([
      this.store.readSharedState(),
      this.store.latestBundles(),
      this.store.listEdgeReports(),
    ]);
    const served = this.served(spec, revision);
    // Read before the lookups: a probe that lands meanwhile bumps the version past this one.
    const healthVersion = this.health.version();
    const reuse =
      healthVersion !== undefined &&
      this.sitesAt?.revision === revision &&
      this.sitesAt.health === healthVersion
        ? this.sitesAt.sites
        : undefined;
    const settings = await this.settings();
    const extra: Alert[] = this.bandwidth.alerts(spec, settings.bandwidth_alert, this.now());
    for (const source of this.alertSources) extra.push(...(await source()));
    const snapshot = buildStatus({
      spec,
      revision,
      bundles,
      reports,
      buildErrors: this.builder.buildErrors(),
      now: this.now(),
      offlineAfterSeconds: OFFLINE_AFTER_SECONDS,
      tokenRefusals: this.tokenRefusals,
      health: (id) => this.health.peek(id),
      traffic: this.traffic,
      extraAlerts: extra,
      edgesOf: served.edges,
      ...(reuse ? { sites: reuse } : {}),
    });
    if (healthVersion !== undefined && !reuse)
      this.sitesAt = { revision, health: healthVersion, sites: snapshot.sites };
    return snapshot;
  }

  private served(spec: Spec, revision: number): { edges: Map<string, string[]> } {
    if (this.servedBy?.revision !== revision)
      this.servedBy = { revision, edges: edgesPerSite(spec) };
    return this.servedBy;
  }

  /**
   * One site's probe through every edge serving it (GET /v1/status/sites/:domain), with the
   * verdict and counts the snapshot gives it; undefined for a site the spec does not have.
   */
  async siteEdges(domain: string): Promise<SiteEdgesStatus | undefined> {
    const { spec, revision } = await this.store.readSharedState();
    const site = spec.sites.find((s) => s.domain === domain);
    if (!site) return undefined;
    const names = this.served(spec, revision).edges.get(domain) ?? [];
    return { revision, ...siteStatus(site, names, (id) => this.health.peek(id), 'all') };
  }

  /** The status page and bandwidth alert settings (defaults until someone sets them). */
  async settings(): Promise<StatusSettings> {
    const text = await this.store.getSetting(STATUS_SETTINGS_KEY);
    if (text === undefined) return StatusSettings.parse({});
    const parsed = StatusSettings.safeParse(JSON.parse(text) as unknown);
    return parsed.success ? parsed.data : StatusSettings.parse({});
  }

  async saveSettings(input: StatusSettingsInput): Promise<StatusSettings> {
    const settings = StatusSettings.parse(input);
    await this.store.setSetting(STATUS_SETTINGS_KEY, JSON.stringify(settings));
    this.changed();
    return settings;
  }

  /** Coalesces bursts: listeners hear of a change at most once a second. */
  changed(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastEmit + 1000 - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.lastEmit = Date.now();
      this.emit('changed');
    }, wait);
  }
}
