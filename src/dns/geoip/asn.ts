// `outpost geoip build --asn`: the ASN database PowerDNS's `asnum()` reads (issue 22). Source:
// the CSV files of the npm package @ip-location-db/asn (RouteViews, the RIRs' delegations and
// DB-IP's IP-to-ASN Lite, CC BY 4.0): `ip_range_start,ip_range_end,autonomous_system_number,
// autonomous_system_organization`, inclusive ranges of IPv4 or IPv6 addresses. Written in the
// GeoLite2-ASN layout (top-level `autonomous_system_number` as uint32, which pdns's geoip
// backend reads for `asnum()`, and `autonomous_system_organization`), each range as the CIDR
// blocks that cover it exactly. PowerDNS takes it beside the country database:
// `geoip-database-files=mmdb:/…/geoip2.mmdb mmdb:/…/asn.mmdb` (each lookup asks the files in
// turn until one answers; measured with pdns 4.7.3).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { createRequire } from 'node:module';
import { MmdbUint, MmdbWriter, type MmdbInput } from './mmdb.js';

/** The default sources: the npm package's IPv4 and IPv6 range files. */
export function defaultAsnSources(): string[] {
  const require = createRequire(import.meta.url);
  return [
    require.resolve('@ip-location-db/asn/asn-ipv4.csv'),
    require.resolve('@ip-location-db/asn/asn-ipv6.csv'),
  ];
}

export interface AsnBuildResult {
  /** Ranges read (CSV rows). */
  ranges: number;
  /** CIDR blocks written. */
  networks: number;
  /** Distinct autonomous systems. */
  asns: number;
  bytes: number;
}

/** An IPv4 or IPv6 address as 128 bits (IPv4 under ::/96, as the MMDB tree holds it). */
export function addressBits(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
  if (!isIPv6(ip)) throw new Error(`${ip} is not an IP address`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined) {
    const n = addressBits(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * The CIDR blocks covering exactly [start, end] (inclusive), largest first, as (address bits,
 * prefix length within `bits`).
 */
export function rangeToCidrs(
  start: bigint,
  end: bigint,
  bits: 32 | 128,
): { address: bigint; prefix: number }[] {
  if (end < start) throw new Error('range ends before it starts');
  const out: { address: bigint; prefix: number }[] = [];
  let at = start;
  const max = (1n << BigInt(bits)) - 1n;
  if (end > max) throw new Error('range beyond the address space');
  while (at <= end) {
    // the largest block aligned at `at` that stays inside the range
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const mask = (1n << BigInt(next)) - 1n;
      if ((at & mask) !== 0n || at + mask > end) break;
      size = next;
    }
    out.push({ address: at, prefix: bits - size });
    at += 1n << BigInt(size);
    if (at > max) break;
  }
  return out;
}

/** rangeToCidrs for IPv4 in plain numbers (most of the data set; BigInt is slow). */
export function rangeToCidrs4(start: number, end: number): { address: number; prefix: number }[] {
  if (end < start) throw new Error('range ends before it starts');
  const out: { address: number; prefix: number }[] = [];
  let at = start;
  while (at <= end) {
    let size = 0;
    while (size < 32) {
      const block = 2 ** (size + 1);
      if (at % block !== 0 || at + block - 1 > end) break;
      size++;
    }
    out.push({ address: at, prefix: 32 - size });
    at += 2 ** size;
  }
  return out;
}

const ipv4Number = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

function v4Buffer(n: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(n, 12);
  return b;
}

function toBuffer(bits128: bigint): Buffer {
  const b = Buffer.alloc(16);
  let n = bits128;
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
}

/** One CSV line: three plain fields, then the organisation (quoted when it holds a comma). */
export function parseAsnLine(
  line: string,
): { start: string; end: string; asn: number; org: string } | undefined {
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  const c = line.indexOf(',', b + 1);
  if (a < 0 || b < 0) return undefined;
  const start = line.slice(0, a).trim();
  const end = line.slice(a + 1, b).trim();
  const asn = Number(line.slice(b + 1, c < 0 ? undefined : c).trim());
  let org = c < 0 ? '' : line.slice(c + 1).trim();
  if (org.startsWith('"') && org.endsWith('"') && org.length >= 2)
    org = org.slice(1, -1).replace(/""/g, '"');
  if (!Number.isInteger(asn) || asn < 1 || asn > 4_294_967_294) return undefined;
  return { start, end, asn, org };
}

/**
 * Converts the CSV files `sources` (IPv4 and/or IPv6 ranges) into a GeoLite2-ASN-layout MMDB at
 * `output` (written atomically). A line that is not a range of one family with an ASN is an
 * error naming the file and line.
 */
export function buildAsnDatabase(
  sources: readonly string[],
  output: string,
  /** Must not be 0: PowerDNS 4.7 fails to open a database whose build_epoch is 0. */
  buildEpoch = Math.floor(Date.now() / 1000),
): AsnBuildResult {
  const writer = new MmdbWriter({
    database_type: 'GeoLite2-ASN',
    description: 'Outpost: ip-location-db asn (RouteViews, RIRs, DB-IP ASN Lite; CC BY 4.0)',
  });
  const records = new Map<number, MmdbInput>();
  let ranges = 0;
  let networks = 0;
  for (const source of sources) {
    const lines = readFileSync(source, 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const row = parseAsnLine(line);
      const v4 = row !== undefined && isIPv4(row.start) && isIPv4(row.end);
      const v6 = row !== undefined && isIPv6(row.start) && isIPv6(row.end);
      if (row === undefined || (!v4 && !v6))
        throw new Error(
          `${source}:${i + 1}: not "start,end,asn,organisation" with two addresses of one family`,
        );
      let record = records.get(row.asn);
      if (record === undefined) {
        record = {
          autonomous_system_number: new MmdbUint(32, row.asn),
          ...(row.org !== '' ? { autonomous_system_organization: row.org } : {}),
        };
        records.set(row.asn, record);
      }
      if (v4) {
        for (const c of rangeToCidrs4(ipv4Number(row.start), ipv4Number(row.end))) {
          writer.insert(v4Buffer(c.address), 96 + c.prefix, record);
          networks++;
        }
      } else {
        for (const c of rangeToCidrs(addressBits(row.start), addressBits(row.end), 128)) {
          writer.insert(toBuffer(c.address), c.prefix, record);
          networks++;
        }
      }
      ranges++;
    });
  }
  const buf = writer.toBuffer(buildEpoch);
  const tmp = `${output}.tmp-${process.pid}`;
  writeFileSync(tmp, buf, { mode: 0o644 });
  renameSync(tmp, output);
  return { ranges, networks, asns: records.size, bytes: buf.length };
}
