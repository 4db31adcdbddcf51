// Issue 16, country data on the edge, through a real nginx edge driven by a real agent: the
// control plane delivers a test country database (built with the MMDB writer and records of
// `outpost geoip build`, mapping loopback addresses to countries) in the release; a country
// deny answers the rule's status while a client of another country passes; a continent allow;
// the client address from a trusted proxy's X-Forwarded-For (real_ip_from), as client_ips; an
// ASN rule without an ASN database is refused naming the setting while the edge keeps serving;
// hostile values refused with their field path.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestGeoipDatabase } from '../support/geoip.js';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { TestCdn } from '../support/cdn.js';

const EDGES = { a: '127.0.0.47' } as const;
const HOST = 'country.test';
const PROXY = '127.0.0.130';
const CLIENT = {
  DE: '127.0.0.131',
  CN: '127.0.0.132',
  FR: '127.0.0.133',
  JP: '127.0.0.134',
  /** Not in a country of its own: 127.0.0.0/8 is US (North America). */
  US: '127.0.0.135',
} as const;

describe('country, continent and ASN matchers on a real nginx edge', () => {
  const dbDir = mkdtempSync(join(tmpdir(), 'outpost-geoip-'));
  const database = writeTestGeoipDatabase(join(dbDir, 'country.mmdb'), [
    { network: '127.0.0.0/8', country: 'US' },
    { network: `${CLIENT.DE}/32`, country: 'DE' },
    { network: `${CLIENT.CN}/32`, country: 'CN' },
    { network: `${CLIENT.FR}/32`, country: 'FR' },
    { network: `${CLIENT.JP}/32`, country: 'JP' },
  ]);
  const cdn = new TestCdn({
    edges: EDGES,
    serveArgs: ['--probe-interval', '1', '--geoip-database', database],
  });
  let origin: TestOrigin;

  const specYaml = (extraRule = '') => `
edges:
${cdn.edgeYaml('a')}    real_ip_from: [${PROXY}/32]
sites:
  - domain: ${HOST}
    origins:
      - host: {v4: 127.0.0.1}
        port: ${origin.port}
        protocol: http
    access:
      body: "not in your country\\n"
      rules:
        - {match: {countries: [CN]}, action: deny, status: 451}
        - {match: {paths: ["/eu/*"], continents: [EU]}, action: allow}
        - {match: {paths: ["/eu/*"]}, action: deny}
${extraRule}`;

  const get = (path: string, from: string, headers: Record<string, string> = {}) =>
    httpGet(`http://${EDGES.a}:${cdn.edgePort}${path}`, {
      host: HOST,
      headers,
      localAddress: from,
    });

  const appliedRelease = async () => (await cdn.status())[0]?.applied_release ?? 0;

  beforeAll(async () => {
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(specYaml());
    await cdn.startAgents().catch(async (e: unknown) => {
      throw new Error(`${String(e)}: ${cdn.cp.output().slice(-3000)}`);
    });
  }, 120_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('delivers the database in the release, and loads geoip2', async () => {
    const release = join(cdn.root('a'), 'releases', String(await appliedRelease()));
    expect(
      readFileSync(join(release, 'geoip', 'country.mmdb')).equals(readFileSync(database)),
    ).toBe(true);
    expect(readFileSync(join(release, 'nginx', 'main', 'modules.conf'), 'utf8')).toContain(
      'ngx_http_geoip2_module.so',
    );
  });

  // ---- issue 14: kept releases share their equal files (agent/release-files.ts) ----
  it('a new release with the same database hard-links it; removing the old release keeps the live one', async () => {
    const first = await appliedRelease();
    await cdn.apply(specYaml().replace('not in your country', 'not from here'));
    const second = await eventually('the next release applied', async () => {
      const r = await appliedRelease();
      return r > first ? r : undefined;
    });
    const dbOf = (r: number) => join(cdn.root('a'), 'releases', String(r), 'geoip', 'country.mmdb');
    const [old, live] = [statSync(dbOf(first)), statSync(dbOf(second))];
    expect(live.ino).toBe(old.ino);
    expect(live.nlink).toBeGreaterThanOrEqual(2);
    // The changed site file is a file of its own.
    const siteOf = (r: number) =>
      join(cdn.root('a'), 'releases', String(r), 'nginx', 'sites', `${HOST}.conf`);
    expect(statSync(siteOf(second)).ino).not.toBe(statSync(siteOf(first)).ino);
    // What the prune does to an old release: the live release's database stays whole.
    rmSync(join(cdn.root('a'), 'releases', String(first)), { recursive: true, force: true });
    expect(readFileSync(dbOf(second)).equals(readFileSync(database))).toBe(true);
    const cn = await get('/from-where-2', CLIENT.CN);
    expect(cn.status).toBe(451);
    expect(cn.body).toBe('not from here\n');
    await cdn.apply(specYaml());
    await eventually('the first rendering back', async () =>
      (await appliedRelease()) > second ? true : undefined,
    );
  });

  it("denies a country with the rule's status and body; a client of another country passes", async () => {
    const cn = await get('/from-where', CLIENT.CN);
    expect(cn.status).toBe(451);
    expect(cn.body).toBe('not in your country\n');
    const de = await get('/from-where', CLIENT.DE);
    expect(de.status).toBe(200);
    expect(de.body).toBe('origin says /from-where');
    expect((await get('/from-where', CLIENT.US)).status).toBe(200);
    // The denied request never reached the origin.
    expect(origin.seen.filter((r) => r.path === '/from-where')).toHaveLength(2);
  });

  it('allows a continent, and the rule behind it denies the others', async () => {
    expect((await get('/eu/page', CLIENT.DE)).status).toBe(200);
    expect((await get('/eu/page', CLIENT.FR)).status).toBe(200);
    expect((await get('/eu/page', CLIENT.JP)).status).toBe(403);
    expect((await get('/eu/page', CLIENT.US)).status).toBe(403);
    // The country deny comes first.
    expect((await get('/eu/page', CLIENT.CN)).status).toBe(451);
  });

  it("looks up the client a trusted proxy names in X-Forwarded-For, and nobody else's header", async () => {
    expect((await get('/', PROXY, { 'x-forwarded-for': CLIENT.CN })).status).toBe(451);
    expect((await get('/eu/x', PROXY, { 'x-forwarded-for': CLIENT.FR })).status).toBe(200);
    // The proxy itself is in 127.0.0.0/8 (US): not in Europe.
    expect((await get('/eu/x', PROXY)).status).toBe(403);
    // A client that is not a trusted proxy cannot claim to be elsewhere.
    expect((await get('/', CLIENT.DE, { 'x-forwarded-for': CLIENT.CN })).status).toBe(200);
    expect((await get('/', CLIENT.CN, { 'x-forwarded-for': CLIENT.DE })).status).toBe(451);
  });

  it('refuses an ASN rule without an ASN database, naming the setting; the edge keeps serving', async () => {
    const before = await appliedRelease();
    await cdn.apply(specYaml('        - {match: {asns: [64500]}, action: deny}\n'));
    const row = await eventually('the refused build in the status', async () => {
      const r = (await cdn.status())[0];
      return r?.error?.includes('--geoip-asn-database') === true ? r : undefined;
    });
    expect(row.error).toContain('has no autonomous_system_number');
    expect(await appliedRelease()).toBe(before);
    expect((await get('/', CLIENT.CN)).status).toBe(451);
    expect((await get('/', CLIENT.DE)).status).toBe(200);
    // Back to what the edge can serve.
    await cdn.apply(specYaml());
    await eventually('no refusal', async () =>
      ((await cdn.status())[0]?.error ?? null) === null ? true : undefined,
    );
  });

  it('refuses hostile geography values with their field path, and applies nothing', async () => {
    const revisionBefore = await appliedRelease();
    for (const [value, words] of [
      ['cn', 'two capital letters'],
      ['DEU', 'two capital letters'],
      ['ZZ', '"ZZ" is not an assigned ISO 3166 alpha-2 country code'],
      ['"D\\"E"', 'two capital letters'],
    ] as const) {
      const file = join(cdn.tmp.path, 'hostile.yaml');
      const yaml = specYaml().replace('countries: [CN]', `countries: [${value}]`);
      writeFileSync(file, yaml);
      const r = await cdn.cli(['apply', '-f', file]);
      expect(r.code).not.toBe(0);
      expect(`${r.stderr}${r.stdout}`).toContain('sites[0].access.rules[0].match.countries[0]');
      expect(`${r.stderr}${r.stdout}`).toContain(words);
    }
    const continent = join(cdn.tmp.path, 'hostile-continent.yaml');
    writeFileSync(continent, specYaml().replace('continents: [EU]', 'continents: [eu]'));
    const r = await cdn.cli(['apply', '-f', continent]);
    expect(r.code).not.toBe(0);
    expect(`${r.stderr}${r.stdout}`).toContain('sites[0].access.rules[1].match.continents[0]');
    expect(await appliedRelease()).toBe(revisionBefore);
  }, 180_000);
});
