// Atomic file-system steps: a reader sees the old or the new, never half of either.
import { randomBytes } from 'node:crypto';
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

function tmpName(path: string): string {
  return join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes through a temporary file in the same directory, then renames over `path`. */
export async function writeFileAtomic(
  path: string,
  content: string | Buffer,
  mode = 0o644,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  try {
    await writeFile(tmp, content, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Points the symlink `path` at `target` in one rename. */
export async function replaceSymlink(path: string, target: string): Promise<void> {
  const tmp = tmpName(path);
  await symlink(target, tmp);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readSymlink(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}
