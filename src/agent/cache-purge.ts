// Purges nginx's proxy cache by removing the files whose keys (and, for tags, whose stored
// response headers) match. nginx treats a missing file as a miss and fetches the object again.
// A cache file holds a binary header, then `\nKEY: <key>\n`, then the origin's response
// headers, then the body; the key is `$scheme$host$request_uri` (see render/nginx.ts).
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PurgeJob } from '../spec/index.js';

export interface CacheEntry {
  file: string;
  key: string;
  /** Lower-cased response header names → values, as stored with the object. */
  headers: Record<string, string>;
}

/** Splits a cache key into scheme, host and URI, given the hosts it may carry. */
export function parseCacheKey(
  key: string,
  hosts: readonly string[],
): { host: string; uri: string } | undefined {
  for (const scheme of ['https', 'http']) {
    if (!key.startsWith(scheme)) continue;
    const rest = key.slice(scheme.length);
    for (const host of hosts) {
      if (rest.startsWith(`${host}/`)) return { host, uri: rest.slice(host.length) };
    }
  }
  return undefined;
}

/** Whether a cached object falls under a purge job. Pure. */
export function matchesPurge(entry: Pick<CacheEntry, 'key' | 'headers'>, job: PurgeJob): boolean {
  const parsed = parseCacheKey(entry.key, job.hosts);
  if (parsed === undefined) return false;
  const r = job.request;
  switch (r.kind) {
    case 'all':
      return true;
    case 'urls':
      return r.paths.includes(parsed.uri);
    case 'prefix':
      return parsed.uri.startsWith(r.prefix);
    case 'tags': {
      for (const name of job.tag_headers) {
        const value = entry.headers[name.toLowerCase()];
        if (value === undefined) continue;
        const tags = value.split(/[\s,]+/).filter(Boolean);
        return r.tags.some((t) => tags.includes(t));
      }
      return false;
    }
  }
}

/** Reads the key and stored response headers of one cache file (its first 16 KiB). */
export async function readCacheEntry(file: string): Promise<CacheEntry | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(16_384);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('latin1');
    const at = text.indexOf('\nKEY: ');
    if (at < 0) return undefined;
    const keyEnd = text.indexOf('\n', at + 6);
    if (keyEnd < 0) return undefined;
    const key = text.slice(at + 6, keyEnd);
    const headers: Record<string, string> = {};
    const headEnd = text.indexOf('\r\n\r\n', keyEnd);
    const head = text.slice(keyEnd + 1, headEnd < 0 ? undefined : headEnd).split('\r\n');
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { file, key, headers };
  } finally {
    await handle.close();
  }
}

async function* cacheFiles(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* cacheFiles(path);
    else if (e.isFile() && !e.name.includes('.')) yield path; // temp files carry a suffix
  }
}

/** Removes every cached object matching one of `jobs`; counts per job. */
export async function purgeCache(
  cacheDir: string,
  jobs: readonly PurgeJob[],
): Promise<Map<number, number>> {
  const removed = new Map(jobs.map((j) => [j.id, 0]));
  for await (const file of cacheFiles(cacheDir)) {
    const entry = await readCacheEntry(file);
    if (!entry) continue;
    const hit = jobs.filter((j) => matchesPurge(entry, j));
    if (hit.length === 0) continue;
    await rm(file, { force: true });
    for (const j of hit) removed.set(j.id, (removed.get(j.id) ?? 0) + 1);
  }
  return removed;
}
