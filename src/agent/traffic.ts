// Traffic counts from the edge's JSON access log (one line per request, written by nginx with
// the `outpost_json` format). The agent tails the file and sends what it counted since the
// last report that the control plane accepted: nothing is sampled, nothing is lost while the
// control plane is away (counts keep adding up, bounded by the number of sites).
import { open, rename, rm, stat } from 'node:fs/promises';
import { SITE_CACHE_STATUSES, type SiteTraffic, type TrafficReport } from '../spec/index.js';

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

/** How much of the log is read at once: memory stays bounded however much was appended. */
export const READ_CHUNK_BYTES = 1024 * 1024;
/** A "line" longer than this without a newline is not ours: it is dropped, not buffered. */
const MAX_LINE_BYTES = 64 * 1024;

/** Rotation of the access log on disk (docs/logs.md): size and count bounds. */
export interface LogRotation {
  /** Rotate once the live file reaches this many bytes. */
  maxBytes: number;
  /** Rotated files kept beside it (`access.json.1` … `.N`); older ones are deleted. */
  keep: number;
  /** Makes the proxy reopen its log (nginx: SIGUSR1 to the master; no reload). */
  reopen: () => Promise<void>;
}

/**
 * Tails an access log from where it last stopped, in bounded chunks. A file that shrank
 * (truncated by hand) is read again from its start. A partial last line waits for the next
 * read. `rotate` renames the file away (and asks the proxy to reopen it); the next read first
 * finishes the renamed file (lines the proxy wrote before it reopened), so nothing is lost.
 */
export class AccessLogCounter {
  private offset = 0;
  private partial = '';
  private pending: Record<string, SiteTraffic> = {};
  private since: string;
  /** The file a rotation renamed, and how far it was read. */
  private rotatedTail: { path: string; offset: number; partial: string } | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.since = this.now().toISOString();
  }

  /** Starts counting at the end of the file as it is now (older lines were reported before). */
  async skipExisting(): Promise<void> {
    this.offset = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** Reads what was appended since the last call and adds it to the pending counts. */
  async read(): Promise<void> {
    if (this.rotatedTail) {
      const t = this.rotatedTail;
      const end = await stat(t.path).then(
        (s) => s.size,
        () => t.offset,
      );
      const done = await this.readRange(t.path, t.offset, end, t.partial);
      this.rotatedTail = undefined;
      if (done.partial !== '') countLine(this.pending, done.partial);
    }
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch {
      return; // no log yet
    }
    if (size < this.offset) {
      this.offset = 0;
      this.partial = '';
    }
    if (size === this.offset) return;
    const r = await this.readRange(this.path, this.offset, size, this.partial);
    this.offset = r.offset;
    this.partial = r.partial;
  }

  /** Counts the lines of `path` between `from` and `to`, a chunk at a time. */
  private async readRange(
    path: string,
    from: number,
    to: number,
    partial: string,
  ): Promise<{ offset: number; partial: string }> {
    const file = await open(path, 'r');
    let offset = from;
    let rest = partial;
    try {
      const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, Math.max(1, to - from)));
      while (offset < to) {
        const want = Math.min(buffer.length, to - offset);
        const { bytesRead } = await file.read(buffer, 0, want, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const lines = (rest + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        if (rest.length > MAX_LINE_BYTES) rest = '';
        for (const line of lines) if (line !== '') countLine(this.pending, line);
      }
    } finally {
      await file.close();
    }
    return { offset, partial: rest };
  }

  /**
   * Rotates the log when it reached `r.maxBytes`: `.N-1` → `.N` … `access.json` → `.1` (the
   * oldest beyond `keep` deleted), then the proxy reopens `access.json`. Call after `read()`.
   * Returns whether it rotated.
   */
  async rotate(r: LogRotation): Promise<boolean> {
    const size = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < r.maxBytes || this.rotatedTail) return false;
    const name = (n: number) => `${this.path}.${n}`;
    await rm(name(r.keep), { force: true });
    for (let n = r.keep - 1; n >= 1; n--) await rename(name(n), name(n + 1)).catch(ignoreMissing);
    if (r.keep >= 1) await rename(this.path, name(1));
    else await rm(this.path, { force: true });
    // Lines the proxy writes before it reopens land in the renamed file: the next read ends it.
    this.rotatedTail =
      r.keep >= 1 ? { path: name(1), offset: this.offset, partial: this.partial } : undefined;
    this.offset = 0;
    this.partial = '';
    await r.reopen();
    return true;
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

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
