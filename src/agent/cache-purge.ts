// Purges nginx's proxy cache by removing the files whose keys (and, for tags, whose stored
// response headers) match. nginx treats a missing file as a miss and fetches the object again.
// A cache file holds a binary header, then `\nKEY: <key>\n`, then the origin's response
// headers, then the body. The key is `$scheme$host$request_uri`, or for rules that change it
// (render/nginx.ts profileCacheKey) `$scheme$host<raw path> q:<kept query>` and/or
// ` r:<slice range>`: the URI ends at the first space, which a request URI never holds.
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PurgeJob } from '../spec/index.js';

export interface CacheEntry {
  file: string;
  key: string;
  /** Lower-cased response header names → values, as stored with the object. */
  headers: Record<string, string>;
}

/** A cache key split into its parts. */
export interface ParsedCacheKey {
  host: string;
  /** The path and query as requested, or only the raw path when `query` is set. */
  uri: string;
  /**
   * Set when the key keeps only some query parameters (`name=value` pairs, in the rule's
   * order) or none (empty list): the object serves every query that agrees on those.
   */
  query?: [string, string][];
  /** The `Range` of one slice of a sliced object. */
  range?: string;
}

/** Splits a cache key into scheme, host, URI and the optional parts, given its possible hosts. */
export function parseCacheKey(key: string, hosts: readonly string[]): ParsedCacheKey | undefined {
  const [base = '', ...parts] = key.split(' ');
  for (const scheme of ['https', 'http']) {
    if (!base.startsWith(scheme)) continue;
    const rest = base.slice(scheme.length);
    for (const host of hosts) {
      if (!rest.startsWith(`${host}/`)) continue;
      const parsed: ParsedCacheKey = { host, uri: rest.slice(host.length) };
      for (const part of parts) {
        if (part.startsWith('q:')) parsed.query = parseQuery(part.slice(2));
        else if (part.startsWith('r:')) parsed.range = part.slice(2);
      }
      return parsed;
    }
  }
  return undefined;
}

function parseQuery(query: string): [string, string][] {
  return query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const at = p.indexOf('=');
      return at < 0 ? [p, ''] : [p.slice(0, at), p.slice(at + 1)];
    });
}

/** nginx's `$arg_NAME`: the raw value of the first parameter so named (case-insensitive). */
function argValue(query: string, name: string): string {
  for (const [k, v] of parseQuery(query)) if (k.toLowerCase() === name.toLowerCase()) return v;
  return '';
}

/** Whether a purged path (with its query) names the object a key was made from. */
function sameObject(key: ParsedCacheKey, path: string): boolean {
  if (key.query === undefined) return key.uri === path;
  const at = path.indexOf('?');
  const rawPath = at < 0 ? path : path.slice(0, at);
  const query = at < 0 ? '' : path.slice(at + 1);
  return rawPath === key.uri && key.query.every(([name, value]) => argValue(query, name) === value);
}

/** The URI a prefix is compared with: as requested, or the path and the kept query. */
function prefixSubject(key: ParsedCacheKey, prefix: string): string {
  if (key.query === undefined || !prefix.includes('?')) return key.uri;
  return `${key.uri}?${key.query.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** Whether a cached object (every slice and variant of it) falls under a purge job. Pure. */
export function matchesPurge(entry: Pick<CacheEntry, 'key' | 'headers'>, job: PurgeJob): boolean {
  const parsed = parseCacheKey(entry.key, job.hosts);
  if (parsed === undefined) return false;
  const r = job.request;
  switch (r.kind) {
    case 'all':
      return true;
    case 'urls':
      return r.paths.some((p) => sameObject(parsed, p));
    case 'prefix':
      return prefixSubject(parsed, r.prefix).startsWith(r.prefix);
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
