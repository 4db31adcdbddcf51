// The DNS provider contract: the same behaviour rows over every provider Outpost drives, the
// GCore stand-in (test/support/gcore-api.ts, which follows GCore's documented API) and a real
// pdns_server. Each provider gets the four-edge, nine-country scenario of
// test/support/dns-scenario.ts and must: publish what the plan says, write nothing on a second
// apply, prune only its own obsolete sets, never touch a set it does not own, and answer each
// country with the expected edge with edges up, down or drained, falling back to the origin
// when all are down, never with an empty answer.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { buildGeoipDatabase, defaultGeoipSource } from '../../src/dns/geoip/build.js';
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
import { startGcoreApi } from '../support/gcore-api.js';
import { eventually } from '../support/http.js';
import { dig, startPowerDns } from '../support/powerdns.js';
import { tempDir } from '../support/processes.js';

const ZONE = 'example.com';
const NAME = 'www.example.com';
/** Someone else's set in the zone (TEST-NET-1 address: it is only ever read, never dialled). */
const FOREIGN = { name: 'other.example.com', address: '192.0.2.55' };

/** A provider as the suite drives it. */
interface ProviderUnderTest {
  dns: Record<string, unknown>;
  secretVars: Record<string, string>;
  /** The addresses a client in `country` gets for `name` A (empty: nothing published). */
  resolve: (name: string, country: Country) => Promise<string[]>;
  /** Writes a plain A set that Outpost does not own, straight through the provider's API. */
  plantForeign: (name: string, address: string) => Promise<void>;
  stop: () => Promise<void>;
}

const PROVIDERS: Record<string, () => Promise<ProviderUnderTest>> = {
  'gcore (stand-in)': async () => {
    const key = 'gc$key';
    const api = await startGcoreApi({ apiKey: key, zones: [ZONE], pickersField: 'filters' });
    return {
      dns: { provider: 'gcore', api_token: 'env:GCORE_KEY', api_url: api.apiUrl },
      secretVars: { GCORE_KEY: key },
      resolve: (name, country) => api.answer(ZONE, name, 'A', { country }),
      plantForeign: async (name, address) => {
        // POST /v2/zones/{zone}/{name}/{type}, as any other GCore client would create it
        const res = await fetch(`${api.apiUrl}/v2/zones/${ZONE}/${name}/A`, {
          method: 'POST',
          headers: { authorization: `APIKey ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ttl: 60, resource_records: [{ content: [address] }] }),
        });
        if (!res.ok) throw new Error(`gcore stand-in refused the foreign set: ${res.status}`);
      },
      stop: () => api.stop(),
    };
  },
  'powerdns (real pdns_server)': async () => {
    const dir = tempDir('dns-contract');
    const geo = join(dir.path, 'geoip2.mmdb');
    buildGeoipDatabase(defaultGeoipSource(), geo);
    const pdns = await startPowerDns({ geoipDatabase: geo, healthCheckInterval: 1 });
    const api = (path: string, method: string, body: unknown) =>
      fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones${path}`, {
        method,
        headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // The zone exists before Outpost publishes into it (as with GCore).
    const created = await api('', 'POST', { name: `${ZONE}.`, kind: 'Native', nameservers: [] });
    if (created.status !== 201) throw new Error(`pdns zone: ${created.status}`);
    return {
      dns: {
        provider: 'powerdns',
        api_url: pdns.apiUrl,
        api_key: 'env:PDNS_KEY',
        dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
      },
      secretVars: { PDNS_KEY: pdns.apiKey },
      resolve: (name, country) => dig(pdns, name, 'A', SUBNETS[country]),
      plantForeign: async (name, address) => {
        const res = await api(`/${ZONE}.`, 'PATCH', {
          rrsets: [
            {
              name: `${name}.`,
              type: 'A',
              ttl: 60,
              changetype: 'REPLACE',
              records: [{ content: address, disabled: false }],
            },
          ],
        });
        if (res.status !== 204) throw new Error(`pdns refused the foreign set: ${res.status}`);
      },
      stop: async () => {
        await pdns.stop();
        dir.remove();
      },
    };
  },
};

for (const [label, start] of Object.entries(PROVIDERS))
  describe(`DNS provider contract: ${label}`, () => {
    let p: ProviderUnderTest;
    let sc: Scenario;

    beforeAll(async () => {
      p = await start();
      sc = await startScenario();
      await p.plantForeign(FOREIGN.name, FOREIGN.address);
    }, 60_000);
    afterAll(async () => {
      await sc?.stop();
      await p?.stop();
    });

    const spec = (mutate: (s: Spec) => Spec = (s) => s) => mutate(scenarioSpec(sc.port, p.dns));
    const provider = (s: Spec) => {
      if (s.dns === undefined) throw new Error('no dns');
      return createDnsProvider(s.dns, { secretVars: p.secretVars, retryBaseMs: 5 });
    };
    const plan = (s: Spec, prune = false, via = provider(s)) => planDnsChanges(via, s, { prune });
    /** Plans and applies with one provider (GCore's renders its bodies while planning). */
    const apply = async (s: Spec, prune = false) => {
      const via = provider(s);
      const res = await applyDnsPlan(via, await plan(s, prune, via));
      expect(res.map((r) => r.error)).toEqual([null]);
      return res.flatMap((r) => r.applied);
    };
    /** Every country's answer: exactly one address, never an empty answer. */
    const answers = async (name = NAME) => {
      const out: Record<string, string> = {};
      for (const c of COUNTRIES) {
        const got = await p.resolve(name, c);
        if (got.length !== 1) throw new Error(`${c} got ${got.length} addresses: ${got.join()}`);
        out[c] = who(got[0] ?? '');
      }
      return out;
    };
    /** Waits until every country gets `expected` (PowerDNS checks health every second). */
    const settle = (what: string, expected: Record<string, string>, name = NAME) =>
      eventually(
        what,
        async () => {
          const got = await answers(name).catch(() => undefined);
          return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
        },
        20_000,
        200,
      ).catch(async (err: unknown) => {
        throw new Error(
          `${(err as Error).message}; last: ${JSON.stringify(await answers(name).catch((e: Error) => e.message))}`,
        );
      });

    it('plan, apply; a second plan is empty and a second apply writes nothing', async () => {
      // a name of its own, so that the row does not depend on what other rows published
      const fresh = spec((s) => ({
        ...s,
        sites: s.sites.map((site) => ({ ...site, domain: 'fresh.example.com' })),
      }));
      const first = await plan(fresh);
      expect(first.problems).toEqual([]);
      expect(first.zones.map((z) => [z.zone, z.error])).toEqual([[ZONE, null]]);
      expect(first.zones[0]?.changes.map((c) => `${c.action} ${c.name}`)).toContain(
        'create fresh.example.com',
      );
      expect(await apply(fresh)).not.toEqual([]);
      await settle('fresh name published', EXPECTED.allUp, 'fresh.example.com');
      const again = await plan(fresh);
      expect(again.zones[0]?.changes).toEqual([]);
      expect(again.zones[0]?.obsolete).toEqual([]);
      expect(await apply(fresh)).toEqual([]);
    });

    it('ownership: a set Outpost does not own is never in a change, prune or not', async () => {
      const s = spec();
      await apply(s);
      const planned = await plan(s, true);
      const touched = planned.zones.flatMap((z) => z.changes.map((c) => c.name));
      expect(touched).not.toContain(FOREIGN.name);
      expect(await p.resolve(FOREIGN.name, 'DE')).toEqual([FOREIGN.address]);
    });

    it('answers each country with its nearest healthy edge: all up, one down, another down', async () => {
      await apply(spec());
      await settle('all edges up', EXPECTED.allUp);
      sc.health.set('fra', 'failing');
      await settle('fra down', EXPECTED.fraDown);
      sc.health.set('fra', 'up');
      sc.health.set('tok', 'failing');
      await settle('tok down', EXPECTED.tokDown);
      sc.health.set('tok', 'up');
      await settle('all up again', EXPECTED.allUp);
    }, 90_000);

    it('all edges down: the origin answers, never an empty answer; origin down: still the edges', async () => {
      await apply(spec());
      for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'failing');
      await settle('all down', Object.fromEntries(COUNTRIES.map((c) => [c, 'origin'])));
      for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'up');
      await settle('all up', EXPECTED.allUp);
      sc.originUp.value = false;
      try {
        // the edges answer their own health, so users stay on them
        await settle('origin down', EXPECTED.allUp);
      } finally {
        sc.originUp.value = true;
      }
    }, 90_000);

    it('a drained edge leaves the answers and comes back when undrained', async () => {
      const drained = (s: Spec): Spec => ({
        ...s,
        edges: s.edges.map((e) => (e.name === 'fra' ? { ...e, drain: true } : e)),
      });
      await apply(spec(drained));
      await settle('fra drained', { ...EXPECTED.allUp, DE: 'iad', GB: 'iad' });
      expect((await plan(spec(drained))).zones[0]?.changes).toEqual([]);
      await apply(spec());
      await settle('fra undrained', EXPECTED.allUp);
    }, 90_000);

    it('prune: a set no site needs stays without prune, goes with it; foreign sets stay', async () => {
      const renamed = (s: Spec): Spec => ({
        ...s,
        sites: s.sites.map((site) => ({ ...site, domain: 'shop.example.com' })),
      });
      await apply(spec(renamed));
      const kept = await plan(spec(renamed));
      expect(kept.zones[0]?.obsolete).toContainEqual(expect.objectContaining({ name: NAME }));
      expect((await p.resolve(NAME, 'DE')).length).toBe(1);
      const pruned = await apply(spec(renamed), true);
      expect(pruned.map((c) => `${c.action} ${c.name}`)).toContain(`delete ${NAME}`);
      expect(await p.resolve(NAME, 'DE')).toEqual([]);
      expect((await plan(spec(renamed), true)).zones[0]?.changes).toEqual([]);
      await settle('renamed site', EXPECTED.allUp, 'shop.example.com');
      expect(await p.resolve(FOREIGN.name, 'DE')).toEqual([FOREIGN.address]);
    }, 60_000);
  });
