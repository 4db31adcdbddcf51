// Several control planes on one PostgreSQL database (docs/high-availability.md): which one
// runs the singletons, and how a change made through one reaches the long-polls of the others.
//
// - Leader: the one holding the leader lock (store/coordination.ts), tried every second by
//   each control plane. The leader builds bundles (once per change, for every control plane),
//   renews certificates and syncs DNS; when it dies its lock goes with its connection and the
//   next control plane to try takes over within a second or two. Health probes run on every
//   control plane: each answers /v1/status from its own probes (nothing is merged yet).
// - Wake-ups: a state written through any control plane is announced ('state'); the leader
//   builds, stores the bundles and announces 'bundles'; every control plane then hands the new
//   bundles to the long-polls it holds. A slow re-check (every 10 s) does the same without a
//   notification, in case one was missed.
// - Alone (SQLite, no coordination): this process is the leader and nothing is announced.
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { BundleBuilder } from '../edges/builder.js';
import type { ChangeTopic, Coordination, Store } from '../store/types.js';
import type { Worker } from '../spec/worker.js';
import { LogRequest } from '../spec/index.js';

/** What a log request's announcement carries (base64url JSON: NOTIFY details have no spaces). */
const AnnouncedLogRequest = z
  .object({ edge: z.string().min(1), request: LogRequest, timeout_ms: z.number().int().positive() })
  .strict();

/** The longest detail of an announcement (PostgreSQL's NOTIFY payload ends at 8000 bytes). */
const MAX_DETAIL = 7000;

export interface ClusterOptions {
  store: Store;
  builder: BundleBuilder;
  /** Workers that run on the leader only, in start order. */
  singletons: Worker[];
  /** Another control plane changed the desired state (run this process's reactions). */
  onRemoteStateChange: () => void;
  /** Another control plane accepted a purge for these edges (undefined: maybe any edge). */
  onRemotePurge?: (edges: string[] | undefined) => void;
  /** Another control plane revoked or replaced this edge's token. */
  onRemoteRevocation?: (edge: string) => void;
  /** Another control plane asks this edge for log lines (docs/logs.md). */
  onRemoteLogRequest?: (edge: string, request: LogRequest, timeoutMs: number) => void;
  /** Another control plane stored the answer to a log request (its id). */
  onRemoteLogAnswer?: (id: string) => void;
  logger: FastifyBaseLogger;
  leaderCheckMs?: number;
  recheckMs?: number;
}

export class Cluster implements Worker {
  readonly name = 'cluster';
  private leader = false;
  private readonly coordination: Coordination | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private lastRevision: number | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: ClusterOptions) {
    this.coordination = opts.store.coordination;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** This control plane's id among the others (undefined when alone). */
  get instance(): string | undefined {
    return this.coordination?.instance;
  }

  async start(): Promise<void> {
    const c = this.coordination;
    if (c === undefined) {
      await this.lead();
      return;
    }
    this.opts.builder.setBuilding(false);
    this.unsubscribe = c.onAnnounce((topic, detail) => this.received(topic, detail));
    await this.tick();
    this.timers.push(
      setInterval(() => void this.tick(), this.opts.leaderCheckMs ?? 1000),
      setInterval(() => void this.recheck(), this.opts.recheckMs ?? 10_000),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.unsubscribe?.();
    await this.ticking;
    if (this.leader) await this.abdicate();
  }

  onDesiredStateChange(): void {
    if (!this.leader) return;
    for (const w of this.opts.singletons) w.onDesiredStateChange?.();
  }

  /** Tells the other control planes (a failure is logged: the slow re-check covers it). */
  announce(topic: ChangeTopic, detail?: string): void {
    this.coordination
      ?.announce(topic, detail)
      .catch((err: unknown) => this.opts.logger.warn({ err, topic }, 'announcement failed'));
  }

  /**
   * A purge accepted here, for these edges: the other control planes wake the long-polls they
   * hold for them. A list too long for one NOTIFY payload wakes every long-poll instead. If
   * the announcement is lost, each edge gets the purge at its next poll (within --wait).
   */
  announcePurge(edges: readonly string[]): void {
    if (edges.length === 0) return;
    const list = edges.join(',');
    this.announce('purges', list.length <= MAX_DETAIL ? list : undefined);
  }

  /**
   * An edge's token was revoked or replaced here: the other control planes end the polls they
   * hold for it at once (else they would hold them until the poll's --wait, then refuse it).
   */
  announceRevocation(edge: string): void {
    this.announce('revocations', edge);
  }

  /**
   * A log request asked here: the control plane holding the edge's poll delivers it. One too
   * long for a NOTIFY payload is not announced (it reaches the edges polling here only).
   */
  announceLogRequest(edge: string, request: LogRequest, timeoutMs: number): void {
    const detail = Buffer.from(JSON.stringify({ edge, request, timeout_ms: timeoutMs })).toString(
      'base64url',
    );
    if (detail.length <= MAX_DETAIL) this.announce('logs', detail);
  }

  private received(topic: ChangeTopic, detail: string | undefined): void {
    if (topic === 'state') this.opts.onRemoteStateChange();
    else if (topic === 'bundles') void this.refresh();
    else if (topic === 'purges') this.opts.onRemotePurge?.(detail?.split(','));
    // No detail (a reconnected listener): nothing names an edge; answers re-check tokens.
    else if (topic === 'revocations' && detail !== undefined)
      this.opts.onRemoteRevocation?.(detail);
    else if (topic === 'logs' && detail !== undefined) {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(detail, 'base64url').toString('utf8'));
      } catch {
        return;
      }
      const parsed = AnnouncedLogRequest.safeParse(body);
      if (parsed.success)
        this.opts.onRemoteLogRequest?.(
          parsed.data.edge,
          parsed.data.request,
          parsed.data.timeout_ms,
        );
    } else if (topic === 'log-answers' && detail !== undefined)
      this.opts.onRemoteLogAnswer?.(detail);
  }

  private async refresh(): Promise<void> {
    try {
      await this.opts.builder.refreshFromStore();
    } catch (err) {
      this.opts.logger.warn({ err }, 'reading the stored bundles failed');
    }
  }

  private tick(): Promise<void> {
    this.ticking = this.ticking.then(async () => {
      if (this.stopped || this.coordination === undefined) return;
      const lead = await this.coordination.tryLead().catch(() => false);
      if (lead && !this.leader) await this.lead();
      else if (!lead && this.leader) await this.abdicate();
    });
    return this.ticking;
  }

  private async lead(): Promise<void> {
    this.leader = true;
    if (this.coordination !== undefined)
      this.opts.logger.warn(
        { instance: this.coordination.instance },
        'this control plane is the leader: it builds bundles, renews certificates, syncs DNS',
      );
    this.opts.builder.setBuilding(true);
    for (const w of this.opts.singletons) await w.start();
    // Alone, the builder built at its own start; a new leader builds what it may have missed.
    if (this.coordination !== undefined) await this.opts.builder.rebuild();
  }

  private async abdicate(): Promise<void> {
    this.leader = false;
    this.opts.builder.setBuilding(false);
    for (const w of [...this.opts.singletons].reverse()) await w.stop();
    if (!this.stopped) this.opts.logger.warn('this control plane is no longer the leader');
  }

  private async recheck(): Promise<void> {
    await this.refresh();
    if (!this.leader) return;
    try {
      const { revision } = await this.opts.store.readSharedState();
      if (this.lastRevision !== undefined && revision !== this.lastRevision)
        this.opts.onRemoteStateChange();
      this.lastRevision = revision;
    } catch (err) {
      this.opts.logger.warn({ err }, 'the slow re-check failed');
    }
  }
}
