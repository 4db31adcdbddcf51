// Can nginx's worker user reach the agent's --root? The workers (an unprivileged user) read
// the cache and temp files under it: a parent directory they cannot enter makes every
// cacheable request a 500 that only nginx's error log explains. Checked at start instead.
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

interface Account {
  uid: number;
  gids: number[];
}

/** The user's uid and groups (primary and supplementary) from /etc/passwd and /etc/group. */
async function account(user: string, etc = '/etc'): Promise<Account | undefined> {
  const passwd = await readFile(`${etc}/passwd`, 'utf8').catch(() => '');
  const entry = passwd
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
  if (entry === undefined) return undefined;
  const gids = [Number(entry[3])];
  const group = await readFile(`${etc}/group`, 'utf8').catch(() => '');
  for (const f of group.split('\n').map((l) => l.split(':')))
    if ((f[3] ?? '').split(',').includes(user)) gids.push(Number(f[2]));
  return { uid: Number(entry[2]), gids };
}

/**
 * The first existing directory above `root` (root included) that `user` may not enter, with its
 * mode; undefined when every one can be entered (or the user is unknown: nginx will say).
 */
export async function unenterableParent(
  root: string,
  user: string,
): Promise<{ dir: string; mode: number } | undefined> {
  const who = await account(user);
  if (who === undefined || who.uid === 0) return undefined;
  const dirs: string[] = [];
  for (let d = resolve(root); ; d = dirname(d)) {
    dirs.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const dir of dirs) {
    const s = await stat(dir).catch(() => undefined);
    if (s === undefined) return undefined; // the agent creates the rest (mode 0755)
    const bit = s.uid === who.uid ? 0o100 : who.gids.includes(s.gid) ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) return { dir, mode: s.mode & 0o7777 };
  }
  return undefined;
}
