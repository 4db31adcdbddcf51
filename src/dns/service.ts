// The DNS sync worker of the control plane: plan/apply on demand (admin API), and a debounced
// automatic sync after every change of desired state plus a slow periodic drift check. Each
// zone's drift (in sync / pending / error) is kept in memory for the status page. Automatic
// syncs never prune: deleting is always an explicit `outpost dns apply --prune`.
import type { Spec } from '../spec/index.js';
import { createDnsProvider } from './index.js';
import { EdgeChecks } from './edge-checks.js';
import { planDnsRecords, type HealthCheckPicker } from './plan.js';
import { KeepWarm, type SiteFallback } from './warm.js';
import { noopLogger, type DnsLogger, type DnsProvider, type DnsProviderKind } from './provider.js';
import {
  applyDnsPlan,
  errorMessage,
  planDnsChanges,
  type DnsPlanResult,
  type ZoneApplyResult,
} from './sync.js';

export type ZoneDrift = 'in_sync' | 'pending' | 'error';

export interface ZoneStatus {
  zone: string;
  state: ZoneDrift;
  /** Changes a sync would make now (0 when in sync). */
  pending_changes: number;
  obsolete: number;
  unmanaged: number;
  /** Record sets not Outpost's at names it publishes ("name TYPE"): served with, or instead of, its answers. */
  conflicts: string[];
  error: string | null;
  checked_at: string;
}

export interface DnsStatus {
  provider: DnsProviderKind | null;
  syncing: boolean;
  last_sync: string | null;
  zones: ZoneStatus[];
}

export interface DnsSyncOptions {
  readState: () => Promise<{ spec: Spec }>;
  secretVars: Readonly<Record<string, string | undefined>>;
  logger?: DnsLogger;
  /** Wait this long after a change before syncing (changes in a burst sync once). */
  debounceMs?: number;
  /** Re-check for drift this often; 0 disables. */
  intervalMs?: number;
  /** Tests inject a provider (or a fetch) instead of the spec's settings. */
  provider?: (spec: Spec) => DnsProvider | undefined;
  now?: () => Date;
  /** Keep-warm tick in ms (PowerDNS); 0 disables. Default 1000. */
  warmTickMs?: number;
  /**
   * Providers without edge health checks of their own (Cloudflare, DNSPod, Alibaba): how often
   * the control plane checks the edges. Default: the smallest `health_check.frequency` of the
   * sites (60 s unless set); 0 disables.
   */
  healthCheckMs?: number;
  /** Checks in a row before an edge counts as down / up again. Default 2 / 2. */
  healthHysteresis?: { downAfter: number; upAfter: number };
}

export class DnsSync {
  readonly name = 'dns-sync';
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private syncing = false;
  private lastSync: string | null = null;
  private providerKind: DnsStatus['provider'] = null;
  private readonly zones = new Map<string, ZoneStatus>();
  /** Zones Outpost has written to, so a zone left without sites can still be pruned. */
  private readonly knownZones = new Set<string>();
  private readonly logger: DnsLogger;
  private readonly debounceMs: number;
  private readonly now: () => Date;
  /** Queries each published set once per its check interval (PowerDNS), see warm.ts. */
  readonly keepWarm: KeepWarm;
  /** The edge checks for providers that make none Outpost drives (edge-checks.ts). */
  readonly edgeChecks: EdgeChecks;
  private healthTimer: NodeJS.Timeout | undefined;
  private healthRun: Promise<void> = Promise.resolve();
  /** Sets whose every edge the checks found down, by "name type" (their origins answer). */
  private readonly checkedFallbacks = new Map<string, SiteFallback>();

  constructor(private readonly opts: DnsSyncOptions) {
    this.logger = opts.logger ?? noopLogger;
    this.debounceMs = opts.debounceMs ?? 2000;
    this.now = opts.now ?? (() => new Date());
    this.keepWarm = new KeepWarm({
      rrsets: async () => planDnsRecords((await this.opts.readState()).spec).rrsets,
      provider: async () => this.provider((await this.opts.readState()).spec),
      tickMs: opts.warmTickMs ?? 1000,
      logger: this.logger,
    });
    this.edgeChecks = new EdgeChecks(opts.healthHysteresis ?? {});
  }

  /**
   * Sites whose answers fell back to their origin (every edge down): from the warm-up answers
   * (PowerDNS), or from the control plane's edge checks (Cloudflare, DNSPod, Alibaba).
   */
  siteFallbacks(): SiteFallback[] {
    return [...this.keepWarm.siteFallbacks(), ...this.checkedFallbacks.values()];
  }

  start(): Promise<void> {
    this.stopped = false;
    if ((this.opts.warmTickMs ?? 1000) > 0) void this.keepWarm.start();
    const every = this.opts.intervalMs ?? 300_000;
    if (every > 0) {
      this.interval = setInterval(() => this.schedule(0), every);
      this.interval.unref();
    }
    this.schedule(this.debounceMs);
    if (this.opts.healthCheckMs !== 0) this.scheduleHealth(0);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.interval) clearInterval(this.interval);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    await this.healthRun.catch(() => undefined);
    await this.keepWarm.stop();
    await this.running.catch(() => undefined);
  }

  onDesiredStateChange(): void {
    this.schedule(this.debounceMs);
    for (const z of this.zones.values()) if (z.state === 'in_sync') z.state = 'pending';
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.apply({ prune: false }).catch((err: unknown) =>
        this.logger.error({ err: errorMessage(err) }, 'dns sync failed'),
      );
    }, ms);
    this.timer.unref();
  }

  private scheduleHealth(ms: number): void {
    if (this.stopped) return;
    this.healthTimer = setTimeout(() => {
      this.healthRun = this.checkEdges()
        .catch((err: unknown) => {
          this.logger.warn({ err: errorMessage(err) }, 'dns edge checks failed');
          return 60_000;
        })
        .then((next) => this.scheduleHealth(next));
    }, ms);
    this.healthTimer.unref();
  }

  /**
   * One round of edge checks when the provider needs them; a change of who is down syncs at
   * once (the records of such providers are the healthy edges). Returns the delay to the next.
   */
  async checkEdges(): Promise<number> {
    const { spec } = await this.opts.readState();
    const provider = this.provider(spec);
    const rrsets = planDnsRecords(spec).rrsets;
    const frequency = Math.min(
      60,
      ...rrsets
        .flatMap((r) => r.pickers.filter((p): p is HealthCheckPicker => p.type === 'healthcheck'))
        .map((p) => p.frequency),
    );
    const next = this.opts.healthCheckMs ?? frequency * 1000;
    if (provider?.healthChecks !== 'outpost') return next;
    const before = [...this.edgeChecks.down()].sort().join(',');
    const down = await this.edgeChecks.run(rrsets);
    const after = [...down].sort().join(',');
    const now = this.now().toISOString();
    const seen = new Set<string>();
    for (const r of planDnsRecords(spec, { drainedEdges: down }).rrsets) {
      const origins = r.records.filter((x) => x.meta.backup === true).flatMap((x) => x.content);
      if (origins.length === 0 || r.records.some((x) => x.enabled && x.meta.backup !== true))
        continue;
      const key = `${r.name} ${r.type}`;
      seen.add(key);
      const since = this.checkedFallbacks.get(key)?.since ?? now;
      this.checkedFallbacks.set(key, {
        site: r.site,
        name: r.name,
        type: r.type,
        answers: origins,
        since,
      });
    }
    for (const k of [...this.checkedFallbacks.keys()])
      if (!seen.has(k)) this.checkedFallbacks.delete(k);
    if (before !== after) {
      this.logger.info({ down: after === '' ? [] : after.split(',') }, 'dns edge health changed');
      this.schedule(0);
    }
    return next;
  }

  /** Edges left out of the records: those the control plane's checks found down. */
  private healthDrained(provider: DnsProvider): { drainedEdges?: ReadonlySet<string> } {
    return provider.healthChecks === 'outpost' ? { drainedEdges: this.edgeChecks.down() } : {};
  }

  private provider(spec: Spec): DnsProvider | undefined {
    if (this.opts.provider) return this.opts.provider(spec);
    if (spec.dns === undefined) return undefined;
    return createDnsProvider(spec.dns, { secretVars: this.opts.secretVars, logger: this.logger });
  }

  /** Runs `fn` after any sync in progress (one at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.catch(() => undefined).then(fn);
    this.running = next;
    return next;
  }

  /** What an apply would change now, per zone (nothing is written). */
  plan(opts: { prune: boolean }): Promise<DnsPlanResult & { provider: DnsStatus['provider'] }> {
    return this.serial(async () => {
      const { spec } = await this.opts.readState();
      const provider = this.provider(spec);
      if (provider === undefined) return { provider: null, zones: [], problems: [] };
      const plan = await planDnsChanges(provider, spec, {
        prune: opts.prune,
        extraZones: [...this.knownZones],
        ...this.healthDrained(provider),
      });
      this.record(plan, undefined);
      return { provider: provider.kind, ...plan };
    });
  }

  /** Plans and applies; returns what was planned and what each zone applied. */
  apply(opts: { prune: boolean }): Promise<{
    provider: DnsStatus['provider'];
    plan: DnsPlanResult;
    results: ZoneApplyResult[];
  }> {
    return this.serial(async () => {
      const { spec } = await this.opts.readState();
      const provider = this.provider(spec);
      this.providerKind = provider?.kind ?? null;
      if (provider === undefined)
        return { provider: null, plan: { zones: [], problems: [] }, results: [] };
      this.syncing = true;
      try {
        const plan = await planDnsChanges(provider, spec, {
          prune: opts.prune,
          extraZones: [...this.knownZones],
          ...this.healthDrained(provider),
        });
        const results = await applyDnsPlan(provider, plan);
        this.record(plan, results);
        this.lastSync = this.now().toISOString();
        for (const r of results)
          if (r.applied.length > 0 || r.error !== null)
            this.logger.info(
              { zone: r.zone, applied: r.applied.length, error: r.error },
              'dns zone synced',
            );
        return { provider: provider.kind, plan, results };
      } finally {
        this.syncing = false;
      }
    });
  }

  private record(plan: DnsPlanResult, results: ZoneApplyResult[] | undefined): void {
    const at = this.now().toISOString();
    for (const z of plan.zones) {
      const result = results?.find((r) => r.zone === z.zone);
      const error = result?.error ?? z.error;
      const pending = result && result.error === null ? 0 : z.changes.length;
      if (error === null) this.knownZones.add(z.zone);
      this.zones.set(z.zone, {
        zone: z.zone,
        state: error !== null ? 'error' : pending > 0 ? 'pending' : 'in_sync',
        pending_changes: pending,
        obsolete: z.obsolete.length,
        unmanaged: z.unmanaged.length,
        conflicts: z.unmanaged.filter((u) => u.conflict).map((u) => `${u.name} ${u.type}`),
        error,
        checked_at: at,
      });
    }
    for (const zone of [...this.zones.keys()])
      if (!plan.zones.some((z) => z.zone === zone)) this.zones.delete(zone);
  }

  status(): DnsStatus {
    return {
      provider: this.providerKind,
      syncing: this.syncing,
      last_sync: this.lastSync,
      zones: [...this.zones.values()].sort((a, b) => (a.zone < b.zone ? -1 : 1)),
    };
  }
}
