// Writing a release's files into its (staging) directory, sharing what the kept releases
// already hold (issue 14): a file whose bytes and mode equal the file at the same path of the
// live release (or of another kept one) is hard-linked to it instead of written again, so the
// ~8 MB country/ASN databases and the unchanged site files take their disk space once, not
// once per kept release. Release directories are immutable (written once under a staging name,
// renamed, never modified in place, removed whole by the prune), which is what makes sharing
// an inode between them safe: deleting an old release drops one link, the live one keeps its
// file. A link that cannot be made (EXDEV: another file system; EPERM: a file system without
// hard links, or protected_hardlinks; EMLINK…) falls back to writing the file.
import { link, lstat, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResolvedFile } from '../bundle/index.js';
import { writeFileAtomic } from './files.js';

export interface WrittenRelease {
  /** Files hard-linked to a kept release's file. */
  linked: number;
  /** Files written (no equal file kept, or the link failed). */
  written: number;
}

/** The kept file at `path` in `dir` when it is a regular file with these bytes and mode. */
async function sameFile(dir: string, f: ResolvedFile): Promise<string | undefined> {
  const path = join(dir, f.path);
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined || !st.isFile() || st.size !== f.content.length) return undefined;
  if ((st.mode & 0o7777) !== f.mode) return undefined;
  // Compared byte for byte, not trusted by name: a damaged kept file is not shared.
  const bytes = await readFile(path).catch(() => undefined);
  return bytes !== undefined && bytes.equals(f.content) ? path : undefined;
}

/**
 * Writes `files` under `dir` (a fresh staging directory), hard-linking each to the first of
 * `keptDirs` (the live release first) that holds an equal file at its path.
 */
export async function writeReleaseDir(
  dir: string,
  files: readonly ResolvedFile[],
  keptDirs: readonly string[],
): Promise<WrittenRelease> {
  let linked = 0;
  let written = 0;
  for (const f of files) {
    const target = join(dir, f.path);
    let done = false;
    for (const kept of keptDirs) {
      const source = await sameFile(kept, f);
      if (source === undefined) continue;
      await mkdir(dirname(target), { recursive: true });
      try {
        await link(source, target);
        done = true;
      } catch {
        // EXDEV, EPERM, EMLINK, or the kept file went away: written below instead.
      }
      break;
    }
    if (done) linked++;
    else {
      await writeFileAtomic(target, f.content, f.mode);
      written++;
    }
  }
  return { linked, written };
}
