// The client-geography databases the control plane delivers to nginx edges (issue 16): a file
// named by a setting (`--geoip-database`, `--geoip-asn-database`), read when it changed (its
// size, modification time and inode), checked to be a MaxMind DB with the fields the edge
// looks up, and hashed once per version. Errors name the setting and say what is wrong.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { MmdbReader } from './mmdb.js';

export interface EdgeGeoipDatabase {
  content: Buffer;
  sha256: string;
  /** Its records carry `autonomous_system_number`. */
  hasAsn: boolean;
}

/** What the edge looks up in a database of each kind (GeoIP2 layout, GeoLite2-ASN layout). */
export type EdgeGeoipKind = 'country' | 'asn';

/** At most this many records are decoded to tell what a database holds. */
const SAMPLE = 64;

/**
 * What a MaxMind DB holds, from its first records: a country database needs `country.iso_code`,
 * an ASN database `autonomous_system_number`. Returns the problem, or what it has.
 */
export function inspectGeoipDatabase(
  content: Buffer,
  kind: EdgeGeoipKind,
): { problem: string } | { hasAsn: boolean } {
  let reader: MmdbReader;
  try {
    reader = new MmdbReader(content);
  } catch (err) {
    return { problem: `is not a MaxMind DB file (${(err as Error).message})` };
  }
  let country = false;
  let asn = false;
  let seen = 0;
  const decoded = new Set<number>();
  try {
    for (const net of reader.networks()) {
      if (decoded.has(net.data)) continue;
      decoded.add(net.data);
      const v = reader.decoder.decode(net.data).value as Record<string, unknown>;
      const c = v.country as Record<string, unknown> | undefined;
      if (typeof c?.iso_code === 'string') country = true;
      if (typeof v.autonomous_system_number === 'number') asn = true;
      if (++seen >= SAMPLE || (country && asn)) break;
    }
  } catch (err) {
    return { problem: `cannot be read as a MaxMind DB (${(err as Error).message})` };
  }
  if (seen === 0) return { problem: 'holds no network' };
  if (kind === 'country' && !country)
    return {
      problem:
        'has no country.iso_code in its records (the GeoIP2 layout: convert a flat database with outpost geoip build)',
    };
  if (kind === 'asn' && !asn) return { problem: 'has no autonomous_system_number in its records' };
  return { hasAsn: asn };
}

/**
 * A reader of the database at `path` for the bundle builder: the file is read again only when
 * it changed on disk, so a rebuilt database reaches the edges with the next build.
 */
export function edgeGeoipDatabase(
  path: string,
  kind: EdgeGeoipKind,
  /** How the setting is named in messages, e.g. `--geoip-database`. */
  setting: string,
): () => Promise<EdgeGeoipDatabase> {
  let known: { key: string; db: EdgeGeoipDatabase } | undefined;
  return async () => {
    let key: string;
    try {
      const s = await stat(path);
      key = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      throw new Error(
        `${setting} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        { cause: err },
      );
    }
    if (known?.key === key) return known.db;
    const content = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${setting} ${path} cannot be read (${err.code ?? String(err)})`, {
        cause: err,
      });
    });
    const what = inspectGeoipDatabase(content, kind);
    if ('problem' in what) throw new Error(`${setting} ${path} ${what.problem}`);
    const db = {
      content,
      sha256: createHash('sha256').update(content).digest('hex'),
      hasAsn: what.hasAsn,
    };
    known = { key, db };
    return db;
  };
}
