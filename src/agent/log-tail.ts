// One tail-and-rotate reader for every log the proxy writes on the edge (the JSON access log,
// the WAF log): it reads what was appended since its last read in bounded chunks, hands each
// complete line to its owner, and keeps the file bounded on disk by renaming it at a size
// limit (`.1` … `.N`) and asking the proxy to reopen it (nginx: SIGUSR1, no reload). Lines the
// proxy wrote to the renamed file before it reopened are read at the next read, once.
import { open, rename, rm, stat } from 'node:fs/promises';

/** How much of a log is read at once: memory stays bounded however much was appended. */
export const READ_CHUNK_BYTES = 1024 * 1024;
/** A "line" longer than this without a newline is not ours: it is dropped, not buffered. */
export const MAX_LINE_BYTES = 64 * 1024;

/** Rotation of a log on disk (docs/logs.md): size and count bounds. */
export interface LogRotation {
  /** Rotate once the live file reaches this many bytes. */
  maxBytes: number;
  /** Rotated files kept beside it (`NAME.1` … `NAME.N`); older ones are deleted. */
  keep: number;
  /** Makes the proxy reopen its logs (nginx: SIGUSR1 to the master; no reload). */
  reopen: () => Promise<void>;
}

/**
 * Tails a log from where it last stopped, in bounded chunks. A file that shrank (truncated by
 * hand) is read again from its start. A partial last line waits for the next read. `rotate`
 * renames the file away (and asks the proxy to reopen it); the next read first finishes the
 * renamed file (lines the proxy wrote before it reopened), so nothing is lost or read twice.
 */
export class LogTail {
  private offset = 0;
  private partial = '';
  /** The file a rotation renamed, and how far it was read. */
  private rotatedTail: { path: string; offset: number; partial: string } | undefined;

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Starts at the end of the file as it is now (older lines belong to an earlier run). */
  async skipExisting(): Promise<void> {
    this.offset = await sizeOf(this.path, 0);
  }

  /** Reads what was appended since the last call and hands over each complete line. */
  async read(): Promise<void> {
    if (this.rotatedTail) {
      const t = this.rotatedTail;
      const done = await this.readRange(
        t.path,
        t.offset,
        await sizeOf(t.path, t.offset),
        t.partial,
      );
      this.rotatedTail = undefined;
      if (done.partial !== '') this.onLine(done.partial);
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

  /** Hands over the lines of `path` between `from` and `to`, a chunk at a time. */
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
        for (const line of lines) if (line !== '') this.onLine(line);
      }
    } finally {
      await file.close();
    }
    return { offset, partial: rest };
  }

  /**
   * Rotates the log when it reached `r.maxBytes`: `.N-1` → `.N` … `NAME` → `.1` (the oldest
   * beyond `keep` deleted), then the proxy reopens `NAME`. Call after `read()`. Returns whether
   * it rotated.
   */
  async rotate(r: LogRotation): Promise<boolean> {
    const size = await sizeOf(this.path, 0);
    if (size < r.maxBytes || this.rotatedTail) return false;
    await rotateFiles(this.path, r.keep);
    // Lines the proxy writes before it reopens land in the renamed file: the next read ends it.
    this.rotatedTail =
      r.keep >= 1
        ? { path: `${this.path}.1`, offset: this.offset, partial: this.partial }
        : undefined;
    this.offset = 0;
    this.partial = '';
    await r.reopen();
    return true;
  }
}

/** `.N-1` → `.N` … `path` → `.1`; the one beyond `keep` is deleted (keep 0: `path` deleted). */
export async function rotateFiles(path: string, keep: number): Promise<void> {
  const name = (n: number) => `${path}.${n}`;
  await rm(name(keep), { force: true });
  for (let n = keep - 1; n >= 1; n--) await rename(name(n), name(n + 1)).catch(ignoreMissing);
  if (keep >= 1) await rename(path, name(1));
  else await rm(path, { force: true });
}

function sizeOf(path: string, otherwise: number): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => otherwise,
  );
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}
