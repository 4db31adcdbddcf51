// One control plane per data directory. The lock is an OS-level one, taken through SQLite's
// own file locking: a small `outpost.lock` database opened with `locking_mode=EXCLUSIVE` and
// written once keeps its exclusive (POSIX fcntl) lock until the connection closes, and the
// kernel drops it when the process dies, even on kill -9. So there is no stale lock to detect
// and no pid to trust: a pid file with `open(O_EXCL)` and a `process.kill(pid, 0)` check
// would take a crashed control plane's recycled pid for a live holder, and two starts racing
// over a stale file could both win. The pid sits beside it in `outpost.pid`, written after the
// lock is held, only to name the holder in the refusal.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export const LOCK_FILE = 'outpost.lock';
export const PID_FILE = 'outpost.pid';

/** Another process holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'data_dir_locked';
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
  ) {
    super(
      `the data directory ${dir} is in use by another control plane (${pid !== undefined ? `pid ${pid}` : 'pid unknown'}); stop it first, or give this one another --data-dir`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly dir: string;
  release(): void;
}

/** Takes the lock of `dir` (which must exist) or throws DataDirLockedError at once. */
export function lockDataDir(dir: string): DataDirLock {
  const lock = new BetterSqlite3(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    lock.pragma('journal_mode = DELETE');
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock, and EXCLUSIVE mode keeps it after commit.
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    lock.exec('DELETE FROM holder');
    lock.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, new Date().toISOString());
    lock.exec('COMMIT');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DataDirLockedError(dir, readPid(dir));
    }
    throw error;
  }
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`, { mode: 0o600 });
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      lock.close();
    },
  };
}

function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
