// The lab's GeoIP data: a small GeoIP2-layout MMDB, written with Outpost's own MMDB writer,
// that places each host's /24 (and its IPv6 /112) in the host's country, with the country's
// centre as its location, as `outpost geoip build` does for real data.
import { writeFileSync } from 'node:fs';
import { geoip2Record } from '../../src/dns/geoip/build.js';
import { MmdbWriter } from '../../src/dns/geoip/mmdb.js';
import { HOSTS, V4_PREFIX, V6_PREFIX } from './topology.js';

function v4Net(block: number): Buffer {
  const [a, b] = V4_PREFIX.split('.').map(Number);
  // IPv4 lives under ::/96 in an IPv6 database
  return Buffer.from([...new Array<number>(12).fill(0), a ?? 0, b ?? 0, block, 0]);
}

function v6Net(block: number): Buffer {
  // fd00:200::<block>:0/112
  const buf = Buffer.alloc(16);
  buf.writeUInt16BE(0xfd00, 0);
  buf.writeUInt16BE(0x0200, 2);
  buf.writeUInt16BE(block, 12);
  if (!V6_PREFIX.startsWith('fd00:200::')) throw new Error('update v6Net for the new prefix');
  return buf;
}

/** Writes the database to `file`; returns the country of each /24 block. */
export function writeLabGeoip(file: string): Record<number, string> {
  const writer = new MmdbWriter({
    database_type: 'GeoIP2-Country',
    description: 'Outpost lab: one country per host block',
  });
  const blocks: Record<number, string> = {};
  for (const h of HOSTS) {
    const known = blocks[h.block];
    if (known !== undefined && known !== h.place.country && h.kind === 'client')
      throw new Error(`block ${h.block} holds hosts of ${known} and ${h.place.country}`);
    blocks[h.block] ??= h.place.country;
  }
  for (const [block, country] of Object.entries(blocks)) {
    writer.insert(v4Net(Number(block)), 96 + 24, geoip2Record(country));
    writer.insert(v6Net(Number(block)), 112, geoip2Record(country));
  }
  writeFileSync(file, writer.toBuffer(Math.floor(Date.now() / 1000)), { mode: 0o644 });
  return blocks;
}
