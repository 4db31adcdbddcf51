// The proxies (nginx, Caddy) write their master's pid to a file; both drivers ask it the same way.
import { readFile } from 'node:fs/promises';

/** The pid in `pidFile` when that process is alive, else undefined (no file, junk, or gone). */
export async function livePid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}
