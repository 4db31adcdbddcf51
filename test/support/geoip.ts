// Test client-geography databases, built the way `outpost geoip build` builds its output (the
// same MMDB writer, the same GeoIP2 records: geoip2Record), mapping loopback addresses to
// countries, so real nginx edges can be tested with country, continent and ASN matchers.
import { writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { geoip2Record } from '../../src/dns/geoip/build.js';
import { MmdbUint, MmdbWriter, type MmdbInput } from '../../src/dns/geoip/mmdb.js';

/** An address or network (`127.0.0.66`, `127.0.0.0/8`, IPv6 too) and what it maps to. */
export interface TestGeoipEntry {
  network: string;
  country?: string;
  asn?: number;
}

function network(n: string): { address: Buffer; prefix: number } {
  const [addr = '', len] = n.split('/');
  const address = Buffer.alloc(16);
  if (isIPv4(addr)) {
    addr.split('.').forEach((x, i) => (address[12 + i] = Number(x)));
    return { address, prefix: 96 + (len === undefined ? 32 : Number(len)) };
  }
  const [head = '', tail = ''] = addr.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  all.forEach((g, i) => address.writeUInt16BE(parseInt(g, 16), i * 2));
  return { address, prefix: len === undefined ? 128 : Number(len) };
}

/**
 * An MMDB in the GeoIP2 layout (country.iso_code, continent.code, location…), with
 * `autonomous_system_number` on entries that give an ASN. Later entries override earlier,
 * shorter networks.
 */
export function testGeoipDatabase(
  entries: readonly TestGeoipEntry[],
  buildEpoch = 1_700_000_000,
): Buffer {
  const writer = new MmdbWriter({
    database_type: 'GeoIP2-Country',
    description: 'Outpost test database: loopback addresses mapped to countries',
  });
  for (const e of entries) {
    const record: Record<string, MmdbInput> = {
      ...(e.country !== undefined ? (geoip2Record(e.country) as Record<string, MmdbInput>) : {}),
      ...(e.asn !== undefined ? { autonomous_system_number: new MmdbUint(32, e.asn) } : {}),
    };
    const { address, prefix } = network(e.network);
    writer.insert(address, prefix, record);
  }
  return writer.toBuffer(buildEpoch);
}

/** Writes testGeoipDatabase(entries) to `path`. */
export function writeTestGeoipDatabase(path: string, entries: readonly TestGeoipEntry[]): string {
  writeFileSync(path, testGeoipDatabase(entries), { mode: 0o644 });
  return path;
}
