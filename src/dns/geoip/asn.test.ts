import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asnSubset } from '../../../test/support/asn-data.js';
import { tempDir } from '../../../test/support/processes.js';
import { addressBits, buildAsnDatabase, parseAsnLine, rangeToCidrs, rangeToCidrs4 } from './asn.js';
import { MmdbReader } from './mmdb.js';

const dir = tempDir('asn-build');
afterAll(() => dir.remove());

const cidrs = (start: string, end: string, bits: 32 | 128) =>
  rangeToCidrs(addressBits(start), addressBits(end), bits).map((c) => c.prefix);

const v16 = (ip: string): Buffer => {
  const b = Buffer.alloc(16);
  let n = addressBits(ip);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
};

describe('ASN ranges to CIDR blocks', () => {
  it('covers each range exactly, largest blocks first', () => {
    expect(cidrs('1.0.0.0', '1.0.0.255', 32)).toEqual([24]);
    // a real AS4134 range of the package: 202.96.96.0/19 + 202.96.128.0/21 + 202.96.136.0/23
    const r = rangeToCidrs(addressBits('202.96.96.0'), addressBits('202.96.137.255'), 32);
    expect(r.map((c) => c.prefix)).toEqual([19, 21, 23]);
    expect(r[1]?.address).toBe(addressBits('202.96.128.0'));
    expect(cidrs('10.0.0.1', '10.0.0.6', 32)).toEqual([32, 31, 31, 32]);
    expect(cidrs('0.0.0.0', '255.255.255.255', 32)).toEqual([0]);
    // 0x1ba /48s = 256 + 128 + 32 + 16 + 8 + 2
    expect(cidrs('2001:200::', '2001:200:1b9:ffff:ffff:ffff:ffff:ffff', 128)).toEqual([
      40, 41, 43, 44, 45, 47,
    ]);
    expect(() => cidrs('1.0.0.2', '1.0.0.1', 32)).toThrow(/before it starts/);
    // the IPv4 fast path gives the same blocks as the general one
    for (const [a, b] of [
      ['1.0.0.0', '1.0.0.255'],
      ['202.96.96.0', '202.96.137.255'],
      ['10.0.0.1', '10.0.0.6'],
      ['0.0.0.0', '255.255.255.255'],
      ['255.255.255.255', '255.255.255.255'],
      ['128.0.0.0', '255.255.255.254'],
    ] as const)
      expect(
        rangeToCidrs4(Number(addressBits(a)), Number(addressBits(b))).map((c) => [
          BigInt(c.address),
          c.prefix,
        ]),
      ).toEqual(rangeToCidrs(addressBits(a), addressBits(b), 32).map((c) => [c.address, c.prefix]));
    expect(() => rangeToCidrs4(2, 1)).toThrow(/before it starts/);
  });

  it('reads addresses of both families and CSV lines with quoted organisations', () => {
    expect(addressBits('1.2.3.4')).toBe(0x01020304n);
    expect(addressBits('::')).toBe(0n);
    expect(addressBits('2001:db8::1')).toBe((0x20010db8n << 96n) | 1n);
    expect(addressBits('::ffff:1.2.3.4')).toBe((0xffffn << 32n) | 0x01020304n);
    expect(() => addressBits('1.2.3')).toThrow(/not an IP address/);
    expect(parseAsnLine('1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."')).toEqual({
      start: '1.0.0.0',
      end: '1.0.0.255',
      asn: 13335,
      org: 'Cloudflare, Inc.',
    });
    expect(parseAsnLine('1.0.0.0,1.0.0.255,7,"A ""B"", C"')?.org).toBe('A "B", C');
    expect(parseAsnLine('1.0.0.0,1.0.0.255,0,x')).toBeUndefined();
    expect(parseAsnLine('garbage')).toBeUndefined();
  });
});

describe('buildAsnDatabase', () => {
  it('writes a GeoLite2-ASN-layout MMDB of the real package rows: telecom, unicom, mobile prefixes', () => {
    const sources = asnSubset(dir.path, [4134, 4837, 9808]);
    const out = join(dir.path, 'asn.mmdb');
    const r = buildAsnDatabase(sources, out, 1_700_000_000);
    expect(r.asns).toBe(3);
    expect(r.ranges).toBeGreaterThan(1000);
    expect(r.networks).toBeGreaterThanOrEqual(r.ranges);
    const db = new MmdbReader(readFileSync(out));
    expect(db.metadata.database_type).toBe('GeoLite2-ASN');
    expect(db.metadata.build_epoch).toBe(1_700_000_000n);
    const asn = (ip: string) =>
      (db.lookup(v16(ip)) as { autonomous_system_number?: number } | undefined)
        ?.autonomous_system_number;
    expect(asn('202.96.128.86')).toBe(4134); // Guangdong Telecom's resolver
    expect(asn('219.158.1.1')).toBe(4837);
    expect(asn('211.136.17.107')).toBe(9808);
    expect(asn('8.8.8.8')).toBeUndefined(); // not in the subset
    expect(asn('202.112.0.36')).toBeUndefined(); // CERNET, not in the subset
    expect(db.lookup(v16('202.96.128.86'))).toEqual({
      autonomous_system_number: 4134,
      autonomous_system_organization: 'Chinanet',
    });
    // IPv6: the first AS4134 range of the package's IPv6 file
    const v6 = readFileSync(sources[1] ?? '', 'utf8')
      .split('\n')
      .find((l) => l.split(',')[2] === '4134');
    expect(v6).toBeDefined();
    expect(asn(v6?.split(',')[0] ?? '')).toBe(4134);
  });

  it('refuses a line that is not a range of one family, naming file and line', () => {
    const bad = join(dir.path, 'bad.csv');
    writeFileSync(bad, '1.0.0.0,1.0.0.255,13335,x\n1.0.0.0,2001:db8::,5,y\n');
    expect(() => buildAsnDatabase([bad], join(dir.path, 'bad.mmdb'))).toThrow(
      `${bad}:2: not "start,end,asn,organisation" with two addresses of one family`,
    );
  });
});
