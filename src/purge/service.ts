// Purges: recorded for every edge that serves (or would serve) the site, delivered through the
// edges' long-poll channel at once, run by each agent against its cache, confirmed per edge.
// An edge that is away runs its pending purges when it comes back. With several control planes
// (docs/high-availability.md) the one that accepted the purge announces its edges
// (`onCreated`, NOTIFY), and each other one wakes the long-polls it holds for them (`wake`):
// the job itself is read from the database, so each edge gets it once, whoever it polls.
import { EventEmitter } from 'node:events';
import { signPurgeJob, type SignedPurgeJob } from '../bundle/index.js';
import { selectorMatch } from '../spec/selectors.js';
import type { PurgeJob, PurgeRequest, PurgeResult, Spec } from '../spec/index.js';
import type { Store, StoredPurge } from '../store/types.js';
import { ApiError } from '../http/errors.js';

/** Response headers that carry cache tags, in order of preference. */
export const TAG_HEADERS = ['cache-tag', 'surrogate-key'];

/** Edges whose selectors match the site, paused or not: a paused edge keeps its cache. */
export function edgesOfSite(spec: Spec, domain: string): string[] {
  const site = spec.sites.find((s) => s.domain === domain);
  if (!site) return [];
  return spec.edges.filter((e) => selectorMatch(site.edges, e) !== undefined).map((e) => e.name);
}

export class PurgeService {
  private readonly jobs = new EventEmitter();
  /** Told the edges of each purge created here (to announce them to other control planes). */
  onCreated: (edges: string[]) => void = () => {};

  constructor(
    private readonly store: Store,
    /** The bundle signing key: purge jobs are signed with it, like bundles. */
    private readonly signer: { privateKeyPem: string },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.jobs.setMaxListeners(0);
  }

  async create(
    domain: string,
    request: PurgeRequest,
    actor: string,
    address?: string,
  ): Promise<StoredPurge> {
    const { spec } = await this.store.readSharedState();
    const site = spec.sites.find((s) => s.domain === domain);
    if (!site) throw new ApiError('not_found', `no site "${domain}"`, 'domain');
    const edges = edgesOfSite(spec, domain);
    const job: Omit<PurgeJob, 'id'> = {
      site: domain,
      hosts: [site.domain, ...site.aliases],
      request,
      tag_headers: TAG_HEADERS,
      created_at: this.now().toISOString(),
    };
    const stored = await this.store.createPurge(job, edges, {
      actor,
      action: 'purge.create',
      subject: domain,
      detail: { request },
      ...(address !== undefined ? { address } : {}),
    });
    this.wake(edges);
    this.onCreated(edges);
    return stored;
  }

  get(id: number): Promise<StoredPurge | undefined> {
    return this.store.getPurge(id);
  }

  /** The purges `edge` has not run yet, each signed for that edge (the agent verifies them). */
  async pending(edge: string): Promise<SignedPurgeJob[]> {
    const jobs = await this.store.pendingPurges(edge);
    return jobs.map((job) => signPurgeJob(job, edge, this.signer.privateKeyPem));
  }

  async record(edge: string, results: PurgeResult[]): Promise<void> {
    for (const r of results) await this.store.recordPurgeResult(edge, r);
  }

  /**
   * Wakes the long-polls held here for these edges (a purge for them was created, here or
   * through another control plane); undefined: every edge that is waiting.
   */
  wake(edges: readonly string[] | undefined): void {
    for (const edge of edges ?? (this.jobs.eventNames() as string[])) this.jobs.emit(edge);
  }

  /** Resolves when a purge for `edge` is created, or after `timeoutMs`. */
  wait(edge: string, timeoutMs: number, signal: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.jobs.off(edge, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.jobs.on(edge, done);
      void signal.then(done);
    });
  }
}
