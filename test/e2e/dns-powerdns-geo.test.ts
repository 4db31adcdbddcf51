// PowerDNS GeoDNS end to end with a real pdns_server 4.7 and the four-edge scenario: clients
// from nine countries (dig +subnet, to 127.0.0.1 only) get the same edges as on GCore, with one
// edge down, all down (the origin) and the origin down (still edges, the end-to-end check
// notwithstanding); never an empty answer. Also: failover and recovery times (median of
// several, printed), a plain record conflict in plan and status, drain/undrain, and keeping
// records warm across a pdns restart, with the origin-fallback signal.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { buildGeoipDatabase, defaultGeoipSource } from '../../src/dns/geoip/build.js';
import { DnsSync } from '../../src/dns/service.js';
import type { Spec } from '../../src/spec/index.js';
import {
  COUNTRIES,
  EDGES,
  EXPECTED,
  scenarioSpec,
  startScenario,
  SUBNETS,
  who,
  type Country,
  type EdgeName,
  type Scenario,
} from '../support/dns-scenario.js';
import { eventually } from '../support/http.js';
import { dig, startPowerDns, type PowerDnsServer } from '../support/powerdns.js';
import { tempDir } from '../support/processes.js';

const NAME = 'www.example.com';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

describe('PowerDNS GeoDNS, four edges, nine countries (real pdns_server)', () => {
  const dir = tempDir('dns-pdns-geo');
  let pdns: PowerDnsServer;
  let sc: Scenario;
  const vars: Record<string, string> = {};
  let dnsSettings: Record<string, unknown>;

  const answerFor = async (c: Country): Promise<string> => {
    const got = await dig(pdns, NAME, 'A', SUBNETS[c]);
    if (got.length !== 1) throw new Error(`${c} got ${got.length} addresses: ${got.join(',')}`);
    return who(got[0] ?? '');
  };
  const answers = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const c of COUNTRIES) out[c] = await answerFor(c);
    return out;
  };
  /** Waits until every country gets `expected` (checks run every second). */
  const settle = async (what: string, expected: Record<string, string>, timeoutMs = 20_000) =>
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
  const sync = async (spec: Spec) => {
    if (spec.dns === undefined) throw new Error('no dns');
    const p = createDnsProvider(spec.dns, { secretVars: vars });
    const res = await applyDnsPlan(p, await planDnsChanges(p, spec));
    expect(res.map((r) => r.error)).toEqual([null]);
  };

  beforeAll(async () => {
    const geo = join(dir.path, 'geoip2.mmdb');
    buildGeoipDatabase(defaultGeoipSource(), geo);
    pdns = await startPowerDns({ geoipDatabase: geo, healthCheckInterval: 1 });
    vars.PDNS_KEY = pdns.apiKey;
    sc = await startScenario();
    dnsSettings = {
      provider: 'powerdns',
      api_url: pdns.apiUrl,
      api_key: 'env:PDNS_KEY',
      dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
    };
  }, 60_000);

  afterAll(async () => {
    await sc?.stop();
    await pdns?.stop();
    dir.remove();
  });

  it('the client subnets are where the test says (GeoIP inside PowerDNS)', async () => {
    const res = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones`, {
      method: 'POST',
      headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'example.com.', kind: 'Native', nameservers: [] }),
    });
    expect(res.status).toBe(201);
    const patch = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.com.`, {
      method: 'PATCH',
      headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        rrsets: [
          {
            name: 'where.example.com.',
            type: 'LUA',
            ttl: 5,
            changetype: 'REPLACE',
            records: [{ content: 'TXT "countryCode()"', disabled: false }],
          },
        ],
      }),
    });
    expect(patch.status).toBe(204);
    const got: Record<string, string> = {};
    for (const c of COUNTRIES)
      got[c] =
        (await dig(pdns, 'where.example.com', 'TXT', SUBNETS[c]))[0]?.replace(/"/g, '') ?? '';
    expect(got).toEqual(Object.fromEntries(COUNTRIES.map((c) => [c, c.toLowerCase()])));
  });

  it('nearest edge per country; one down → next nearest; all down → origin; origin down → still edges', async () => {
    await sync(scenarioSpec(sc.port, dnsSettings, { endToEnd: true }));
    await settle('all edges up', EXPECTED.allUp);

    sc.health.set('fra', 'failing');
    await settle('fra down', EXPECTED.fraDown);
    sc.health.set('fra', 'up');
    await settle('fra back', EXPECTED.allUp);

    sc.health.set('tok', 'failing');
    await settle('tok down', EXPECTED.tokDown);
    sc.health.set('tok', 'up');
    await settle('tok back', EXPECTED.allUp);

    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'failing');
    await settle('every edge down', Object.fromEntries(COUNTRIES.map((c) => [c, 'origin'])));
    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'up');
    await settle('edges back', EXPECTED.allUp);

    // every edge now fails the end-to-end check (the origin answers 503 through them), but
    // their own health is fine: the answers stay on the edges for a few check rounds
    // (never the origin; a single edge check timing out on a loaded machine may move one
    // country to its next nearest edge for a round, which is still an edge)
    sc.originUp.value = false;
    for (let i = 0; i < 5; i++) {
      const got = await answers();
      expect(Object.values(got).filter((a) => a === 'origin' || a === '')).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await settle('origin down, edges healthy', EXPECTED.allUp);
    sc.originUp.value = true;
  }, 180_000);

  it('measures failover and recovery (median of five, check interval 1 s, timeout 1 s)', async () => {
    await sync(scenarioSpec(sc.port, dnsSettings));
    await settle('all up', EXPECTED.allUp);
    const failover: number[] = [];
    const recovery: number[] = [];
    for (let i = 0; i < 5; i++) {
      sc.health.set('fra', 'failing');
      let t = Date.now();
      await eventually(
        'DE moves to iad',
        async () => ((await answerFor('DE')) === 'iad' ? true : undefined),
        20_000,
        50,
      );
      failover.push(Date.now() - t);
      sc.health.set('fra', 'up');
      t = Date.now();
      await eventually(
        'DE back on fra',
        async () => ((await answerFor('DE')) === 'fra' ? true : undefined),
        20_000,
        50,
      );
      recovery.push(Date.now() - t);
    }
    process.stdout.write(
      [
        '',
        'PowerDNS failover (fra health 503 → DE answered iad), lua-health-checks-interval=1, timeout 1 s',
        '| what     | median ms | min ms | max ms | runs |',
        '|----------|-----------|--------|--------|------|',
        `| failover | ${median(failover)} | ${Math.min(...failover)} | ${Math.max(...failover)} | ${failover.length} |`,
        `| recovery | ${median(recovery)} | ${Math.min(...recovery)} | ${Math.max(...recovery)} | ${recovery.length} |`,
        '',
      ].join('\n'),
    );
    expect(failover).toHaveLength(5);
  }, 240_000);

  it('drain takes an edge out of the answers, undrain puts it back', async () => {
    const base = scenarioSpec(sc.port, dnsSettings);
    await sync({
      ...base,
      edges: base.edges.map((e) => (e.name === 'fra' ? { ...e, drain: true } : e)),
    });
    await settle('fra drained', EXPECTED.fraDown);
    await sync(base);
    await settle('fra undrained', EXPECTED.allUp);
  }, 60_000);

  it('shows a plain A record at a managed name as a conflict in plan and status; deletes its own leftover', async () => {
    const spec = scenarioSpec(sc.port, dnsSettings);
    const put = (account: string) =>
      fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones/example.com.`, {
        method: 'PATCH',
        headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({
          rrsets: [
            {
              name: `${NAME}.`,
              type: 'A',
              ttl: 60,
              changetype: 'REPLACE',
              records: [{ content: '192.0.2.77', disabled: false }],
              comments: [{ content: 'left here', account }],
            },
          ],
        }),
      });
    expect((await put('someone')).status).toBe(204);
    // the plain record is served together with the LUA answer: the harm the conflict names
    expect(await dig(pdns, NAME, 'A', SUBNETS.DE)).toContain('192.0.2.77');
    const sync2 = new DnsSync({
      readState: () => Promise.resolve({ spec }),
      secretVars: vars,
      warmTickMs: 0,
    });
    const plan = await sync2.plan({ prune: false });
    expect(plan.zones[0]?.unmanaged).toContainEqual({ name: NAME, type: 'A', conflict: true });
    expect(plan.zones[0]?.changes).toEqual([]);
    expect(sync2.status().zones[0]?.conflicts).toEqual([`${NAME} A`]);

    // an earlier Outpost's own plain set at the name: deleted by the next apply, prune or not
    expect((await put('outpost')).status).toBe(204);
    const res = await sync2.apply({ prune: false });
    expect(res.results[0]?.applied).toEqual([{ action: 'delete', name: NAME, type: 'A' }]);
    expect(sync2.status().zones[0]?.conflicts).toEqual([]);
    expect(await dig(pdns, NAME, 'A', SUBNETS.DE)).toEqual([EDGES.fra.v4]);
  }, 60_000);

  it('warms every record after a pdns restart and reports a fallback to the origin', async () => {
    const spec = scenarioSpec(sc.port, dnsSettings);
    const sync3 = new DnsSync({
      readState: () => Promise.resolve({ spec }),
      secretVars: vars,
      warmTickMs: 0,
    });
    const warm = sync3.keepWarm;
    await warm.tick();
    expect(warm.queries).toBe(1);
    // within the interval: nothing is queried again
    await warm.tick();
    expect(warm.queries).toBe(1);

    // uptime is counted in seconds: let it pass one before the restart shows a lower one
    await new Promise((r) => setTimeout(r, 2100));
    await warm.tick();
    await pdns.restart();
    const t = Date.now();
    await warm.tick();
    expect(warm.queries).toBe(2);
    await eventually(
      'DE on fra after the restart',
      async () => ((await answerFor('DE')) === 'fra' ? true : undefined),
      20_000,
      50,
    );
    process.stdout.write(
      `after a pdns restart, warmed at once: DE answered fra after ${Date.now() - t} ms\n`,
    );

    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'failing');
    await settle('every edge down', Object.fromEntries(COUNTRIES.map((c) => [c, 'origin'])));
    // the next due query sees the origin
    const due = new DnsSync({
      readState: () => Promise.resolve({ spec }),
      secretVars: vars,
      warmTickMs: 0,
    });
    await due.keepWarm.tick();
    expect(due.siteFallbacks().map((f) => [f.site, f.name, f.type])).toEqual([[NAME, NAME, 'A']]);
    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'up');
    await settle('edges back', EXPECTED.allUp);
  }, 90_000);
});
