// A small ASN data set for tests (issue 22): the rows of a few autonomous systems taken from the
// real CSV files of @ip-location-db/asn at test time (the whole package is 65 MB of ranges; a
// generated database is not shipped), for `buildAsnDatabase` and a real pdns_server.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAsnSources } from '../../src/dns/geoip/asn.js';

/** Writes the package's rows of `asns` into `dir` (one CSV per source file); returns the paths. */
export function asnSubset(dir: string, asns: readonly number[]): string[] {
  const want = new Set(asns.map(String));
  return defaultAsnSources().map((source, i) => {
    const rows = readFileSync(source, 'utf8')
      .split('\n')
      .filter((line) => want.has(line.split(',')[2] ?? ''));
    const out = join(dir, `asn-subset-${i}.csv`);
    writeFileSync(out, rows.join('\n') + '\n');
    return out;
  });
}
