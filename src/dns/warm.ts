// Keeping PowerDNS's LUA health checks warm. pdns starts a record's checks at its first query
// and forgets them after an hour without one; after a restart every record answers its
// fallback until its first check completes (measured: about one interval). So the control
// plane queries each published name once per its site's check interval, and at once after it
// sees pdns restart (its uptime went down). Bounded: at most `maxPerTick` queries a tick, a
// few at a time, only to the configured PowerDNS (`dns.dns_servers`). The answers also tell
// when a site's answers fell back to its origin (every edge down).
import { isIP } from 'node:net';
import type { RRsetPlan } from './plan.js';
import { recordEdge } from './plan.js';
import { noopLogger, type DnsLogger, type DnsProvider } from './provider.js';

/** What one warm-up query got. */
export interface WarmAnswer {
  name: string;
  type: 'A' | 'AAAA';
  answers: string[];
}

export interface SiteFallback {
  site: string;
  name: string;
  type: 'A' | 'AAAA';
  answers: string[];
  since: string;
}

export interface KeepWarmOptions {
  /** The sets to keep warm now (the current plan). */
  rrsets: () => Promise<readonly RRsetPlan[]>;
  provider: () => Promise<DnsProvider | undefined>;
  /** Tick length in ms (a set is queried when its interval has passed). Default 1000. */
  tickMs?: number;
  /** Seconds between queries of one set; default: its site's check frequency. */
  intervalSeconds?: (rrset: RRsetPlan) => number;
  maxPerTick?: number;
  logger?: DnsLogger;
  now?: () => number;
}

const key = (r: { name: string; type: string }): string => `${r.name} ${r.type}`;

export class KeepWarm {
  readonly name = 'dns-keep-warm';
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly due = new Map<string, number>();
  private readonly fallbacks = new Map<string, SiteFallback>();
  private lastUptime: number | undefined;
  private lastError: string | undefined;
  /** Queries sent so far (for tests and metrics). */
  queries = 0;
  private readonly logger: DnsLogger;
  private readonly now: () => number;

  constructor(private readonly opts: KeepWarmOptions) {
    this.logger = opts.logger ?? noopLogger;
    this.now = opts.now ?? Date.now;
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    return Promise.resolve();
  }

  /** Sites whose last warm-up answer held only origin addresses. */
  siteFallbacks(): SiteFallback[] {
    return [...this.fallbacks.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  }

  /** One round: queries every set whose interval passed (all of them after a pdns restart). */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const provider = await this.opts.provider();
      if (provider?.warm === undefined) return;
      const rrsets = await this.opts.rrsets();
      const uptime = await provider.uptimeSeconds?.().catch(() => undefined);
      if (uptime !== undefined && this.lastUptime !== undefined && uptime < this.lastUptime) {
        this.logger.info({ uptime }, 'powerdns restarted: warming every record now');
        this.due.clear();
      }
      if (uptime !== undefined) this.lastUptime = uptime;
      const now = this.now();
      const wanted = new Set(rrsets.map(key));
      for (const k of [...this.due.keys()]) if (!wanted.has(k)) this.due.delete(k);
      for (const k of [...this.fallbacks.keys()]) if (!wanted.has(k)) this.fallbacks.delete(k);
      const todo = rrsets
        .filter((r) => (this.due.get(key(r)) ?? 0) <= now)
        .slice(0, this.opts.maxPerTick ?? 200);
      if (todo.length === 0) return;
      for (const r of todo)
        this.due.set(key(r), now + 1000 * (this.opts.intervalSeconds?.(r) ?? intervalOf(r)));
      const answers = await provider.warm(todo);
      this.queries += todo.length;
      for (const a of answers) {
        const r = todo.find((x) => x.name === a.name && x.type === a.type);
        if (r === undefined) continue;
        const origins = originAddresses(r);
        const fellBack =
          origins.size > 0 && a.answers.length > 0 && a.answers.every((x) => origins.has(x));
        if (!fellBack) this.fallbacks.delete(key(a));
        else if (!this.fallbacks.has(key(a)))
          this.fallbacks.set(key(a), {
            site: r.site,
            name: a.name,
            type: a.type,
            answers: a.answers,
            since: new Date(now).toISOString(),
          });
      }
      this.lastError = undefined;
    } catch (err) {
      // once per distinct failure, not every tick
      const message = (err as Error).message;
      if (message !== this.lastError)
        this.logger.warn({ err: message }, 'dns keep-warm round failed');
      this.lastError = message;
    } finally {
      this.busy = false;
    }
  }
}

function intervalOf(r: RRsetPlan): number {
  const hc = r.pickers.find((p) => p.type === 'healthcheck');
  return hc?.frequency ?? 60;
}

function originAddresses(r: RRsetPlan): Set<string> {
  const out = new Set<string>();
  for (const rec of r.records)
    if (rec.meta.backup === true || recordEdge(rec.meta) === undefined)
      for (const ip of rec.content) if (isIP(ip) !== 0) out.add(ip);
  return out;
}
