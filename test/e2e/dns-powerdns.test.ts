// GeoDNS end to end with a real pdns_server 4.7: Outpost publishes LUA records through the
// HTTP API; dig with EDNS Client Subnet from different continents gets the nearest edge; a
// stopped edge health endpoint drops out; with every edge down the origin is answered.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { buildGeoipDatabase, defaultGeoipSource } from '../../src/dns/geoip/build.js';
import { EDGE_HEALTH_MATCH, EDGE_HEALTH_PATH, parseSpec, type Spec } from '../../src/spec/index.js';
import { eventually } from '../support/http.js';
import { startPowerDns, type PowerDnsServer } from '../support/powerdns.js';
import { freePort, tempDir } from '../support/processes.js';

const run = promisify(execFile);
const TOKYO = '127.0.0.2';
const FRANKFURT = '127.0.0.3';
const ORIGIN = '127.0.0.4';
// client subnets: JP (APNIC) and GB (RIPE)
const ASIA = '202.12.27.0/24';
const EUROPE = '81.2.69.0/24';

async function dig(
  pdns: PowerDnsServer,
  name: string,
  type: string,
  subnet?: string,
): Promise<string[]> {
  const args = [
    '@127.0.0.1',
    '-p',
    String(pdns.dnsPort),
    '+short',
    '+time=2',
    '+tries=1',
    name,
    type,
  ];
  if (subnet) args.push(`+subnet=${subnet}`);
  const { stdout } = await run('dig', args);
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}

function healthServer(address: string, port: number): Promise<Server> {
  // the edge's own health endpoint (what DNS decides by) and a site path (end to end)
  const srv = createServer((req, res) => {
    if (req.url === EDGE_HEALTH_PATH) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${EDGE_HEALTH_MATCH} release 1`);
      return;
    }
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/health' ? `OK ${address}\n` : 'no\n');
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, address, () => resolve(srv));
  });
}

/** Waits until `name` answers exactly `expected` for clients in `subnet`. */
async function answers(
  pdns: PowerDnsServer,
  name: string,
  subnet: string,
  expected: string[],
  timeoutMs: number,
) {
  await eventually(
    `${name} A from ${subnet} → ${expected.join(',')}`,
    async () => {
      const got = await dig(pdns, name, 'A', subnet);
      if (JSON.stringify(got) !== JSON.stringify(expected))
        throw new Error(`answered ${got.join(',')}`);
      return got;
    },
    timeoutMs,
    100,
  );
}

const close = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

describe('PowerDNS GeoDNS (real pdns_server)', () => {
  const dir = tempDir('dns-pdns');
  let pdns: PowerDnsServer;
  let port: number;
  const servers = new Map<string, Server>();
  let spec: Spec;
  const vars: Record<string, string> = {};

  beforeAll(async () => {
    const geo = join(dir.path, 'geoip2.mmdb');
    const t = Date.now();
    const built = buildGeoipDatabase(defaultGeoipSource(), geo);
    process.stdout.write(
      `geoip build: ${built.networks} networks, ${built.countries} countries, ${Date.now() - t} ms\n`,
    );
    pdns = await startPowerDns({ geoipDatabase: geo, healthCheckInterval: 1 });
    vars.PDNS_KEY = pdns.apiKey;
    port = await freePort(TOKYO);
    for (const a of [TOKYO, FRANKFURT, ORIGIN]) servers.set(a, await healthServer(a, port));
    spec = parseSpec({
      edges: [
        {
          name: 'tokyo',
          host: { v4: TOKYO },
          listen: { http: port },
          meta: { latlong: [35.7, 139.7], countries: ['JP'] },
        },
        {
          name: 'frankfurt',
          host: { v4: FRANKFURT },
          listen: { http: port },
          meta: { latlong: [50.1, 8.7] },
        },
      ],
      sites: [
        {
          domain: 'www.example.com',
          aliases: ['example.com'],
          origins: [{ host: { v4: ORIGIN } }],
          health_check: { uri: `http://www.example.com:${port}/health`, timeout: 1 },
          dns_ttl: 30,
        },
      ],
      dns: {
        provider: 'powerdns',
        api_url: pdns.apiUrl,
        api_key: 'env:PDNS_KEY',
        health_match: 'OK',
        dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
      },
    });
  }, 60_000);

  afterAll(async () => {
    for (const s of servers.values()) await close(s);
    await pdns?.stop();
    dir.remove();
  });

  it('publishes through the API, idempotently (a second plan has nothing to do)', async () => {
    if (spec.dns === undefined) throw new Error('no dns settings');
    const provider = createDnsProvider(spec.dns, { secretVars: vars });
    const plan = await planDnsChanges(provider, spec);
    expect(
      plan.zones.map((z) => [
        z.zone,
        z.error,
        z.changes.map((c) => `${c.action} ${c.name} ${c.type}`),
      ]),
    ).toEqual([['example.com', null, ['create example.com LUA', 'create www.example.com LUA']]]);
    const applied = await applyDnsPlan(provider, plan);
    expect(applied).toEqual([
      {
        zone: 'example.com',
        applied: [
          { action: 'create', name: 'example.com', type: 'LUA' },
          { action: 'create', name: 'www.example.com', type: 'LUA' },
        ],
        error: null,
      },
    ]);
    const again = await planDnsChanges(provider, spec);
    expect(again.zones[0]?.changes).toEqual([]);
    expect(again.zones[0]?.unmanaged).toEqual([]);
  });

  it('answers the nearest healthy edge per client subnet, then the origin when all are down', async () => {
    // checks run every second once a record was queried (the apply warmed it up)
    await answers(pdns, 'www.example.com', ASIA, [TOKYO], 15_000);
    await answers(pdns, 'www.example.com', EUROPE, [FRANKFURT], 15_000);
    await answers(pdns, 'example.com', ASIA, [TOKYO], 15_000);

    const tokyo = servers.get(TOKYO);
    if (!tokyo) throw new Error('no tokyo server');
    await close(tokyo);
    const t0 = Date.now();
    await answers(pdns, 'www.example.com', ASIA, [FRANKFURT], 20_000);
    const failover = Date.now() - t0;
    process.stdout.write(
      `failover (tokyo health endpoint stopped → asia answered frankfurt): ${failover} ms\n`,
    );

    const fra = servers.get(FRANKFURT);
    if (!fra) throw new Error('no frankfurt server');
    await close(fra);
    const t1 = Date.now();
    await answers(pdns, 'www.example.com', EUROPE, [ORIGIN], 20_000);
    process.stdout.write(`all edges down → origin after ${Date.now() - t1} ms\n`);
    expect(await dig(pdns, 'www.example.com', 'A', ASIA)).toEqual([ORIGIN]);
  }, 90_000);

  it('reads the converted GeoIP database (country, continent) inside PowerDNS', async () => {
    const h = { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' };
    const code =
      ";if country('JP') and continent('AS') then return '192.0.2.1' elseif country('GB') and continent('EU') then return '192.0.2.2' elseif continent('NA') then return '192.0.2.3' end return '192.0.2.9'";
    const res = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.com.`, {
      method: 'PATCH',
      headers: h,
      body: JSON.stringify({
        rrsets: [
          {
            name: 'geo.example.com.',
            type: 'LUA',
            ttl: 5,
            changetype: 'REPLACE',
            records: [{ content: `A "${code}"`, disabled: false }],
          },
        ],
      }),
    });
    expect(res.status).toBe(204);
    expect(await dig(pdns, 'geo.example.com', 'A', ASIA)).toEqual(['192.0.2.1']);
    expect(await dig(pdns, 'geo.example.com', 'A', EUROPE)).toEqual(['192.0.2.2']);
    expect(await dig(pdns, 'geo.example.com', 'A', '8.8.8.0/24')).toEqual(['192.0.2.3']);
  });
});
