// Steering by network (issue 22) end to end, the same scenario on both providers: a real
// pdns_server 4.7 with the country database and an ASN database built by buildAsnDatabase
// (`outpost geoip build --asn`) from the real @ip-location-db/asn rows of the ASNs below, asked
// with ECS subnets from those networks' real prefixes (data only: `dig +subnet`, to 127.0.0.1);
// and the GCore stand-in, asked as a client of the same ASN and country. Edges on loopback
// answer their own health endpoint; one going down sends its network's clients to the next by
// the stated precedence: network, then country, continent, nearest by coordinates; with every
// edge down the origin; never an empty answer.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { buildGeoipDatabase, defaultGeoipSource } from '../../src/dns/geoip/build.js';
import {
  EDGE_HEALTH_MATCH,
  EDGE_HEALTH_PATH,
  NETWORK_LINES,
  parseSpec,
  type Spec,
} from '../../src/spec/index.js';
import { asnSubset } from '../support/asn-data.js';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import { eventually } from '../support/http.js';
import { dig, startPowerDns, type PowerDnsServer } from '../support/powerdns.js';
import { freePort, runCli, tempDir } from '../support/processes.js';

const NAME = 'www.example.com';
const ORIGIN = '127.0.13.9';

/** The edges: three by network, one by country, one by continent, one far away. */
const EDGES = {
  ct: { v4: '127.0.13.2', latlong: [23.1, 113.3], networks: { lines: ['china-telecom'] } },
  cu: { v4: '127.0.13.3', latlong: [39.9, 116.4], networks: { lines: ['china-unicom'] } },
  cm: {
    v4: '127.0.13.4',
    latlong: [31.2, 121.5],
    networks: { lines: ['china-mobile', 'china-mobile-cmi'] },
  },
  cn: { v4: '127.0.13.5', latlong: [22.3, 114.2], countries: ['CN'] },
  asia: { v4: '127.0.13.6', latlong: [1.35, 103.8], continents: ['AS'] },
  fra: { v4: '127.0.13.7', latlong: [50.1, 8.7], continents: ['EU'] },
} as const;
type EdgeName = keyof typeof EDGES;

/** The clients: a real prefix of each network (checked inside PowerDNS by the first test). */
const CLIENTS = {
  telecom: { subnet: '202.96.128.0/24', asn: 4134, country: 'CN' }, // Guangdong Telecom
  unicom: { subnet: '219.158.1.0/24', asn: 4837, country: 'CN' }, // China169
  mobile: { subnet: '211.136.17.0/24', asn: 9808, country: 'CN' }, // CMNET
  cernet: { subnet: '202.112.0.0/24', asn: 4538, country: 'CN' }, // no edge lists AS4538
  germany: { subnet: '193.99.144.0/24', asn: undefined, country: 'DE' },
} as const;
type Client = keyof typeof CLIENTS;
const CLIENT_NAMES = Object.keys(CLIENTS) as Client[];

/**
 * Who answers, by the precedence (distances from China's centre, 35 N 105 E, as both the
 * GeoIP database and the stand-in place a CN client: cu 1,100 km, cm 1,560 km, fra 7,700 km).
 */
const EXPECTED: Record<string, Record<Client, EdgeName | 'origin'>> = {
  allUp: { telecom: 'ct', unicom: 'cu', mobile: 'cm', cernet: 'cn', germany: 'fra' },
  // network edge down → the country edge
  ctDown: { telecom: 'cn', unicom: 'cu', mobile: 'cm', cernet: 'cn', germany: 'fra' },
  // and the country edge down → the continent edge
  ctCnDown: { telecom: 'asia', unicom: 'cu', mobile: 'cm', cernet: 'asia', germany: 'fra' },
  // and the continent edge down → the nearest by coordinates
  ctCnAsiaDown: { telecom: 'cu', unicom: 'cu', mobile: 'cm', cernet: 'cu', germany: 'fra' },
  cuCmDown: { telecom: 'ct', unicom: 'cn', mobile: 'cn', cernet: 'cn', germany: 'fra' },
  allDown: {
    telecom: 'origin',
    unicom: 'origin',
    mobile: 'origin',
    cernet: 'origin',
    germany: 'origin',
  },
};

const who = (ip: string): string =>
  ip === ORIGIN ? 'origin' : (Object.entries(EDGES).find(([, e]) => e.v4 === ip)?.[0] ?? ip);

interface Fleet {
  port: number;
  up: Map<EdgeName, boolean>;
  stop: () => Promise<void>;
}

/** Each edge answers its own health endpoint (as the rendered nginx/Caddy default server does). */
async function startFleet(): Promise<Fleet> {
  const port = await freePort(EDGES.ct.v4);
  const up = new Map<EdgeName, boolean>();
  const servers: Server[] = [];
  for (const [name, e] of Object.entries(EDGES) as [EdgeName, (typeof EDGES)[EdgeName]][]) {
    up.set(name, true);
    const srv = createServer((req, res) => {
      const ok = up.get(name) === true && req.url === EDGE_HEALTH_PATH;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? `${EDGE_HEALTH_MATCH} release 1` : 'failing');
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, e.v4, () => resolve());
    });
    servers.push(srv);
  }
  return {
    port,
    up,
    stop: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

function networkSpec(port: number, dns: unknown): Spec {
  return parseSpec({
    edges: (Object.entries(EDGES) as [EdgeName, (typeof EDGES)[EdgeName]][]).map(([name, e]) => ({
      name,
      host: { v4: e.v4 },
      listen: { http: port },
      ...('networks' in e ? { networks: e.networks } : {}),
      meta: {
        latlong: e.latlong,
        ...('countries' in e ? { countries: e.countries } : {}),
        ...('continents' in e ? { continents: e.continents } : {}),
      },
    })),
    sites: [
      {
        domain: NAME,
        origins: [{ host: { v4: ORIGIN }, protocol: 'http', port }],
        health_check: { frequency: 10, timeout: 1 },
        dns_ttl: 30,
      },
    ],
    dns,
  });
}

async function sync(spec: Spec, secretVars: Record<string, string>): Promise<void> {
  if (spec.dns === undefined) throw new Error('no dns');
  const p = createDnsProvider(spec.dns, { secretVars, retryBaseMs: 5 });
  const res = await applyDnsPlan(p, await planDnsChanges(p, spec));
  expect(res.map((r) => r.error)).toEqual([null]);
}

/** Takes edges down, waits until every client gets `expected`, brings them back up. */
async function walk(
  fleet: Fleet,
  answers: () => Promise<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
  const settle = (what: string, expected: Record<string, string>) =>
    eventually(
      what,
      async () => {
        const got = await answers();
        return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
      },
      timeoutMs,
      200,
    ).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; last: ${JSON.stringify(await answers())}`);
    });
  const down = (...names: EdgeName[]) => {
    for (const n of Object.keys(EDGES) as EdgeName[]) fleet.up.set(n, !names.includes(n));
  };
  down();
  await settle('all edges up', EXPECTED.allUp ?? {});
  down('ct');
  await settle('ct down: the country edge', EXPECTED.ctDown ?? {});
  down('ct', 'cn');
  await settle('ct and cn down: the continent edge', EXPECTED.ctCnDown ?? {});
  down('ct', 'cn', 'asia');
  await settle('ct, cn, asia down: the nearest', EXPECTED.ctCnAsiaDown ?? {});
  down('cu', 'cm');
  await settle('cu and cm down', EXPECTED.cuCmDown ?? {});
  down(...(Object.keys(EDGES) as EdgeName[]));
  await settle('every edge down: the origin', EXPECTED.allDown ?? {});
  down();
  await settle('all back', EXPECTED.allUp ?? {});
}

describe('steering by network on PowerDNS (real pdns_server, ASN database from @ip-location-db/asn)', () => {
  const dir = tempDir('dns-networks-pdns');
  let pdns: PowerDnsServer;
  let fleet: Fleet;

  beforeAll(async () => {
    const geo = join(dir.path, 'geoip2.mmdb');
    buildGeoipDatabase(defaultGeoipSource(), geo);
    // built by the command an operator runs, from the package's real rows of these ASNs
    const asn = join(dir.path, 'asn.mmdb');
    const sources = asnSubset(dir.path, [4134, 4837, 9808, 4538]);
    const cli = await runCli(['geoip', 'build', '--asn', '--source', ...sources, '-o', asn]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(
      new RegExp(
        `^Wrote ${asn}: \\d+ ranges as \\d+ networks, 4 autonomous systems, \\d+ bytes\\.$`,
        'm',
      ),
    );
    expect(cli.stdout).toContain(
      `geoip-database-files=mmdb:/var/lib/outpost/geoip2.mmdb mmdb:${asn}`,
    );
    pdns = await startPowerDns({ geoipDatabase: geo, asnDatabase: asn, healthCheckInterval: 1 });
    fleet = await startFleet();
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await pdns?.stop();
    dir.remove();
  });

  const answers = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const c of CLIENT_NAMES) {
      const got = await dig(pdns, NAME, 'A', CLIENTS[c].subnet);
      // never empty, exactly one address
      if (got.length !== 1) throw new Error(`${c} got ${got.length} addresses: ${got.join(',')}`);
      out[c] = who(got[0] ?? '');
    }
    return out;
  };

  it('outpost geoip build --asn refuses a broken source, naming the file and line, and writes nothing', async () => {
    const bad = join(dir.path, 'bad.csv');
    writeFileSync(bad, '1.0.0.0,1.0.0.255,13335,x\nnot a range\n');
    const out = join(dir.path, 'bad.mmdb');
    const cli = await runCli(['geoip', 'build', '--asn', '--source', bad, '-o', out]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(`cannot build the ASN database from ${bad}: ${bad}:2: not`);
    expect(existsSync(out)).toBe(false);
  });

  it('the client subnets are in the networks and country the test says (asnum(), country() inside PowerDNS)', async () => {
    const h = { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' };
    const zones = `${pdns.apiUrl}/api/v1/servers/localhost/zones`;
    const res = await fetch(zones, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ name: 'example.com.', kind: 'Native', nameservers: [] }),
    });
    expect(res.status).toBe(201);
    const lua =
      "local r={} for _,a in ipairs({'4134','4837','9808','4538'}) do if asnum({a}) then r[#r+1]=a end end return table.concat(r,',')..' '..countryCode()";
    const patch = await fetch(`${zones}/example.com.`, {
      method: 'PATCH',
      headers: h,
      body: JSON.stringify({
        rrsets: [
          {
            name: 'where.example.com.',
            type: 'LUA',
            ttl: 5,
            changetype: 'REPLACE',
            records: [{ content: `TXT ";${lua}"`, disabled: false }],
          },
        ],
      }),
    });
    expect(patch.status).toBe(204);
    const got: Record<string, string> = {};
    for (const c of CLIENT_NAMES)
      got[c] =
        (await dig(pdns, 'where.example.com', 'TXT', CLIENTS[c].subnet))[0]?.replace(/"/g, '') ??
        '';
    expect(got).toEqual({
      telecom: '4134 cn',
      unicom: '4837 cn',
      mobile: '9808 cn',
      cernet: '4538 cn',
      germany: ' de',
    });
  });

  it('a client gets its network edge; one down → country, continent, nearest; all down → the origin; never empty', async () => {
    const spec = networkSpec(fleet.port, {
      provider: 'powerdns',
      api_url: pdns.apiUrl,
      api_key: 'env:PDNS_KEY',
      dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
    });
    await sync(spec, { PDNS_KEY: pdns.apiKey });
    await walk(fleet, answers, 30_000);
  }, 240_000);
});

describe('steering by network on GCore (stand-in: the geodns picker with asn meta)', () => {
  const KEY = 'gc$key';
  let api: GcoreStandIn;
  let fleet: Fleet;

  beforeAll(async () => {
    api = await startGcoreApi({ apiKey: KEY, zones: ['example.com'] });
    fleet = await startFleet();
  });
  afterAll(async () => {
    await fleet?.stop();
    await api?.stop();
  });

  it('the records carry the expanded ASNs, and the answers follow the same precedence', async () => {
    const spec = networkSpec(fleet.port, {
      provider: 'gcore',
      api_token: 'env:GCORE_KEY',
      api_url: api.apiUrl,
    });
    await sync(spec, { GCORE_KEY: KEY });
    // the body as sent (the stand-in refuses what GCore's schema does not allow)
    const stored = [...(api.zones.get('example.com')?.values() ?? [])].find(
      (r) => r.name === NAME && r.type === 'A',
    );
    const asnOf = (edge: EdgeName) =>
      stored?.resource_records.find((r) => r.meta?.notes?.includes(`edge:${edge}`))?.meta?.asn;
    expect(asnOf('ct')).toEqual(NETWORK_LINES['china-telecom']?.asns);
    expect(asnOf('cu')).toEqual(NETWORK_LINES['china-unicom']?.asns);
    expect(asnOf('cm')).toEqual(
      [
        ...new Set([
          ...(NETWORK_LINES['china-mobile']?.asns ?? []),
          ...(NETWORK_LINES['china-mobile-cmi']?.asns ?? []),
        ]),
      ].sort((a, b) => a - b),
    );
    expect(asnOf('cn')).toBeUndefined();
    expect(stored?.pickers?.map((p) => p.type)).toEqual([
      'healthcheck',
      'geodns',
      'weighted_shuffle',
      'geodistance',
      'first_n',
    ]);
    const answers = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const c of CLIENT_NAMES) {
        const { asn, country } = CLIENTS[c];
        const got = await api.answer('example.com', NAME, 'A', {
          country,
          ...(asn !== undefined ? { asn } : {}),
        });
        expect(got, `answer for ${c}`).toHaveLength(1);
        out[c] = who(got[0] ?? '');
      }
      return out;
    };
    await walk(fleet, answers, 10_000);
  }, 120_000);
});
