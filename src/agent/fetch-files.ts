// The files of a verified release, fetched only where the agent lacks them (issue 14): a
// content the bundle carries inline (`blobs`), a file of the live release with the same path
// and hash (read back and re-hashed, so a damaged local file is fetched again), or else the
// edge API's file route, in batches. Every content is checked against the hash the signature
// covers (bundle/bundle.ts) before anything is written.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkContents,
  expandManifest,
  sha256Hex,
  type BundleFile,
  type BundleManifest,
  type ResolvedFile,
} from '../bundle/index.js';

/** Hashes per request to the file route (the server's MAX_FILES_PER_REQUEST). */
export const FETCH_BATCH = 2000;
const READ_PARALLEL = 32;

export interface FileSources {
  /** Contents the bundle carried (unchecked yet). */
  inline: ReadonlyMap<string, Buffer>;
  /** The live release's directory, if there is one. */
  liveDir: string | undefined;
  /** The control plane's file route: contents by hash. */
  fetch: (hashes: string[]) => Promise<Map<string, Buffer>>;
}

export interface FetchedRelease {
  /** Every entry of the release, lists expanded, in path order. */
  entries: BundleFile[];
  files: ResolvedFile[];
  /** How many contents came from the control plane, and how many were already here. */
  fetched: number;
  reused: number;
}

async function fetchAll(
  hashes: readonly string[],
  fetch: FileSources['fetch'],
  into: Map<string, Buffer>,
): Promise<void> {
  for (let i = 0; i < hashes.length; i += FETCH_BATCH)
    for (const [h, c] of await fetch(hashes.slice(i, i + FETCH_BATCH))) into.set(h, c);
}

export async function fetchReleaseFiles(
  manifest: BundleManifest,
  sources: FileSources,
): Promise<FetchedRelease> {
  const contents = new Map<string, Buffer>();
  let fetched = 0;
  let reused = 0;
  const lists = manifest.lists.map((l) => l.sha256);
  const listContents = new Map<string, Buffer>();
  const missingLists = lists.filter((h) => {
    const c = sources.inline.get(h);
    if (c !== undefined) listContents.set(h, c);
    return c === undefined;
  });
  await fetchAll(missingLists, sources.fetch, listContents);
  fetched += missingLists.length;
  const entries = expandManifest(manifest, listContents);

  const wanted = new Map<string, BundleFile>();
  for (const e of entries) {
    if (contents.has(e.sha256) || wanted.has(e.sha256)) continue;
    const c = sources.inline.get(e.sha256);
    if (c !== undefined) contents.set(e.sha256, c);
    else wanted.set(e.sha256, e);
  }
  if (sources.liveDir !== undefined) {
    const liveDir = sources.liveDir;
    const candidates = [...wanted.values()];
    for (let i = 0; i < candidates.length; i += READ_PARALLEL)
      await Promise.all(
        candidates.slice(i, i + READ_PARALLEL).map(async (e) => {
          const local = await readFile(join(liveDir, e.path)).catch(() => undefined);
          if (local === undefined || local.length !== e.size || sha256Hex(local) !== e.sha256)
            return;
          contents.set(e.sha256, local);
          wanted.delete(e.sha256);
          reused++;
        }),
      );
  }
  const missing = [...wanted.keys()];
  await fetchAll(missing, sources.fetch, contents);
  fetched += missing.length;
  return { entries, files: checkContents(entries, contents), fetched, reused };
}
