// `outpost geoip build`: converts a flat country MMDB (the CC BY 4.0 / CC0 ip-location-db
// `geo-whois-asn-country` database: `country_code` only) into the GeoIP2 layout PowerDNS's
// geoip backend reads: country.iso_code, continent.code, location.latitude/longitude (doubles,
// the country's centre) and location.accuracy_radius. A real GeoIP2/GeoLite2 City file needs
// no conversion.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { COUNTRY_CENTRES } from './centroids.js';
import { MmdbDouble, MmdbReader, MmdbUint, MmdbWriter, type MmdbInput } from './mmdb.js';

/** The default source: the npm package's combined IPv4+IPv6 file. */
export function defaultGeoipSource(): string {
  const require = createRequire(import.meta.url);
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

export interface GeoipBuildResult {
  networks: number;
  countries: number;
  /** Country codes the centre table does not know (written without location/continent). */
  unknownCountries: string[];
  bytes: number;
}

export function geoip2Record(country: string): MmdbInput {
  const c = COUNTRY_CENTRES.get(country);
  if (c === undefined) return { country: { iso_code: country } };
  return {
    continent: { code: c.continent },
    country: { iso_code: country },
    location: {
      accuracy_radius: new MmdbUint(16, 1000),
      latitude: new MmdbDouble(c.latitude),
      longitude: new MmdbDouble(c.longitude),
    },
  };
}

/** Converts `source` into a GeoIP2-layout MMDB at `output` (written atomically). */
export function buildGeoipDatabase(
  source: string,
  output: string,
  /** Must not be 0: PowerDNS 4.7 fails to open a database whose build_epoch is 0. */
  buildEpoch = Math.floor(Date.now() / 1000),
): GeoipBuildResult {
  const reader = new MmdbReader(readFileSync(source));
  const writer = new MmdbWriter({
    database_type: 'GeoIP2-Country',
    description: 'Outpost: ip-location-db geo-whois-asn-country with country centres',
  });
  const cache = new Map<number, string | undefined>();
  const records = new Map<string, MmdbInput>();
  const countries = new Set<string>();
  const unknown = new Set<string>();
  let networks = 0;
  for (const net of reader.networks()) {
    let code = cache.get(net.data);
    if (!cache.has(net.data)) {
      const v = reader.decoder.decode(net.data).value as Record<string, unknown>;
      const raw =
        typeof v.country_code === 'string'
          ? v.country_code
          : typeof (v.country as Record<string, unknown> | undefined)?.iso_code === 'string'
            ? ((v.country as Record<string, unknown>).iso_code as string)
            : undefined;
      code = raw?.toUpperCase();
      cache.set(net.data, code);
    }
    if (code === undefined) continue;
    countries.add(code);
    if (!COUNTRY_CENTRES.has(code)) unknown.add(code);
    let record = records.get(code);
    if (record === undefined) {
      record = geoip2Record(code);
      records.set(code, record);
    }
    writer.insert(net.address, net.prefix, record);
    networks++;
  }
  const buf = writer.toBuffer(buildEpoch);
  const tmp = `${output}.tmp-${process.pid}`;
  writeFileSync(tmp, buf, { mode: 0o644 });
  renameSync(tmp, output);
  return {
    networks,
    countries: countries.size,
    unknownCountries: [...unknown].sort(),
    bytes: buf.length,
  };
}
