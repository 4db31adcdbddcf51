// The control plane's reader of the databases it delivers to edges (issue 16): what a file must
// hold, errors naming the setting, and a changed file read again.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testGeoipDatabase } from '../../../test/support/geoip.js';
import { defaultGeoipSource } from './build.js';
import { edgeGeoipDatabase, inspectGeoipDatabase } from './edge-database.js';

describe('edge geoip databases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-edge-geoip-'));
  afterEach(() => rmSync(join(dir, 'db.mmdb'), { force: true }));

  it('tells a country database from an ASN one and refuses what the edge cannot use', () => {
    const country = testGeoipDatabase([{ network: '127.0.0.0/8', country: 'DE' }]);
    expect(inspectGeoipDatabase(country, 'country')).toEqual({ hasAsn: false });
    expect(inspectGeoipDatabase(country, 'asn')).toEqual({
      problem: 'has no autonomous_system_number in its records',
    });
    const both = testGeoipDatabase([{ network: '127.0.0.0/8', country: 'DE', asn: 64500 }]);
    expect(inspectGeoipDatabase(both, 'country')).toEqual({ hasAsn: true });
    expect(inspectGeoipDatabase(Buffer.from('not a database'), 'country')).toMatchObject({
      problem: expect.stringContaining('is not a MaxMind DB file') as string,
    });
    // The flat source database (country_code only) must be converted first.
    expect(inspectGeoipDatabase(readSource(), 'country')).toEqual({
      problem: expect.stringContaining('outpost geoip build') as string,
    });
  });

  it('names the setting when the file is missing or wrong, and reads a replaced file again', async () => {
    const path = join(dir, 'db.mmdb');
    const read = edgeGeoipDatabase(path, 'country', '--geoip-database');
    await expect(read()).rejects.toThrow(`--geoip-database ${path} cannot be read (ENOENT)`);
    writeFileSync(path, 'garbage');
    await expect(read()).rejects.toThrow(`--geoip-database ${path} is not a MaxMind DB file`);
    writeFileSync(path, testGeoipDatabase([{ network: '127.0.0.0/8', country: 'DE' }]));
    const first = await read();
    expect(await read()).toBe(first); // unchanged: not read again
    const next = testGeoipDatabase([{ network: '127.0.0.0/8', country: 'FR' }]);
    writeFileSync(`${path}.new`, next);
    renameSync(`${path}.new`, path);
    const second = await read();
    expect(second.content.equals(next)).toBe(true);
    expect(second.sha256).not.toBe(first.sha256);
  });
});

function readSource(): Buffer {
  return readFileSync(defaultGeoipSource());
}
