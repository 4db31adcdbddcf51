// Traffic counts from the edge's JSON access log (one line per request, written by nginx with
// the `outpost_json` format). The agent tails the file and sends what it counted since the
// last report that the control plane accepted: nothing is sampled, nothing is lost while the
// control plane is away (counts keep adding up, bounded by the number of sites).
import { SITE_CACHE_STATUSES, type SiteTraffic, type TrafficReport } from '../spec/index.js';
import { LogTail, type LogRotation } from './log-tail.js';

export { READ_CHUNK_BYTES, type LogRotation } from './log-tail.js';

export function emptySiteTraffic(): SiteTraffic {
  return { requests: 0, bytes: 0, status: {}, cache: {} };
}

/** Adds one access-log line to the counts; returns false for a line that is not ours. */
export function countLine(into: Record<string, SiteTraffic>, line: string): boolean {
  let entry: {
    site?: unknown;
    status?: unknown;
    bytes?: unknown;
    cache?: unknown;
    block?: unknown;
    limit?: unknown;
  };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return false;
  }
  if (typeof entry.status !== 'number' || typeof entry.bytes !== 'number') return false;
  const site = typeof entry.site === 'string' && entry.site !== '' ? entry.site : '(unknown host)';
  const t = (into[site] ??= emptySiteTraffic());
  t.requests += 1;
  t.bytes += entry.bytes;
  const cls = `${Math.floor(entry.status / 100)}xx`;
  t.status[cls] = (t.status[cls] ?? 0) + 1;
  const cache =
    typeof entry.cache === 'string' &&
    (SITE_CACHE_STATUSES as readonly string[]).includes(entry.cache)
      ? entry.cache
      : 'OTHER';
  t.cache[cache] = (t.cache[cache] ?? 0) + 1;
  // Refused at the edge (issue 16): an access rule, a rate limit.
  if (entry.block === 'denied') t.denied = (t.denied ?? 0) + 1;
  if (entry.limit === 'REJECTED') t.rate_limited = (t.rate_limited ?? 0) + 1;
  return true;
}

/** Adds the optional refusal counts of `add` into `into` (absent stays absent). */
function addRefusals(into: SiteTraffic, add: SiteTraffic, sign = 1): void {
  for (const k of ['denied', 'rate_limited'] as const) {
    const v = add[k];
    if (v === undefined) continue;
    const left = (into[k] ?? 0) + sign * v;
    if (left === 0) delete into[k];
    else into[k] = left;
  }
}

export function mergeTraffic(
  into: Record<string, SiteTraffic>,
  add: Record<string, SiteTraffic>,
): void {
  for (const [site, t] of Object.entries(add)) {
    const x = (into[site] ??= emptySiteTraffic());
    x.requests += t.requests;
    x.bytes += t.bytes;
    for (const [k, v] of Object.entries(t.status)) x.status[k] = (x.status[k] ?? 0) + v;
    for (const [k, v] of Object.entries(t.cache)) x.cache[k] = (x.cache[k] ?? 0) + v;
    addRefusals(x, t);
  }
}

/**
 * Counts an access log's lines as a LogTail (log-tail.ts) hands them over: the same bounded
 * reads and rotation as every log the proxy writes on the edge.
 */
export class AccessLogCounter {
  private pending: Record<string, SiteTraffic> = {};
  private since: string;
  private readonly tail: LogTail;

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.since = this.now().toISOString();
    this.tail = new LogTail(path, (line) => countLine(this.pending, line));
  }

  /** Starts counting at the end of the file as it is now (older lines were reported before). */
  skipExisting(): Promise<void> {
    return this.tail.skipExisting();
  }

  /** Reads what was appended since the last call and adds it to the pending counts. */
  read(): Promise<void> {
    return this.tail.read();
  }

  /** Rotates the log at its size limit (LogTail.rotate); call after `read()`. */
  rotate(r: LogRotation): Promise<boolean> {
    return this.tail.rotate(r);
  }

  /** The counts not yet accepted by the control plane. */
  peek(): TrafficReport {
    return {
      since: this.since,
      until: this.now().toISOString(),
      sites: structuredClone(this.pending),
    };
  }

  /** The control plane accepted `report`: forget what it held. */
  acknowledge(report: TrafficReport): void {
    for (const [site, t] of Object.entries(report.sites)) {
      const p = this.pending[site];
      if (!p) continue;
      p.requests -= t.requests;
      p.bytes -= t.bytes;
      subtract(p.status, t.status);
      subtract(p.cache, t.cache);
      addRefusals(p, t, -1);
      if (p.requests === 0) delete this.pending[site];
    }
    this.since = report.until;
  }
}

function subtract(from: Record<string, number>, counts: Record<string, number>): void {
  for (const [k, v] of Object.entries(counts)) {
    const left = (from[k] ?? 0) - v;
    if (left === 0) delete from[k];
    else from[k] = left;
  }
}
