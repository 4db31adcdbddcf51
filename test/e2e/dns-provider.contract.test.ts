// The DNS provider contract: the same behaviour rows over every provider Outpost drives, the
// GCore stand-in (test/support/gcore-api.ts, which follows GCore's documented API), a real
// pdns_server, and the stand-ins of the plain-record providers (Cloudflare, DNSPod, Alibaba
// Cloud DNS), whose edge health the control plane checks (EdgeChecks) before each apply, as
// the DNS sync does. Each provider gets the four-edge, nine-country scenario of
// test/support/dns-scenario.ts and must: publish what the plan says, write nothing on a second
// apply, prune only its own obsolete sets, never touch a set it does not own, and answer each
// country with the expected edge with edges up, down or drained, falling back to the origin
// when all are down, never with an empty answer.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDnsPlan,
  createDnsProvider,
  EdgeChecks,
  planDnsChanges,
  planDnsRecords,
} from '../../src/dns/index.js';
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
import { AlidnsProvider } from '../../src/dns/alidns.js';
import { DnspodProvider } from '../../src/dns/dnspod.js';
import { startAlidnsApi } from '../support/alidns-standin.js';
import { startCloudflareApi } from '../support/cloudflare-standin.js';
import { startDnspodApi } from '../support/dnspod-standin.js';
import { startGcoreApi } from '../support/gcore-api.js';
import { eventually } from '../support/http.js';
import { dig, startPowerDns } from '../support/powerdns.js';
import { tempDir } from '../support/processes.js';

const ZONE = 'example.com';
const NAME = 'www.example.com';
/** Someone else's set in the zone (TEST-NET-1 address: it is only ever read, never dialled). */
const FOREIGN = { name: 'other.example.com', address: '192.0.2.55' };

/**
 * How a provider answers: 'geo' (one address per client, chosen per country by the provider:
 * PowerDNS, GCore); 'answer-set' (every healthy edge to everyone: Cloudflare); 'lines' (per
 * ISP line: the scenario's clients are all outside China, on the overseas line, where only tok
 * is (it lists JP); without a healthy edge there they get the default line: DNSPod, Alibaba).
 */
type Steering = 'geo' | 'answer-set' | 'lines';

/** A provider as the suite drives it. */
interface ProviderUnderTest {
  steering: Steering;
  /** The scenario's TTL changed to what the provider allows (Cloudflare ≥ 60). */
  ttl?: number;
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
      steering: 'geo',
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
      steering: 'geo',
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
  'cloudflare (stand-in)': async () => {
    const token = 'cf-token';
    const api = await startCloudflareApi({ token, zones: [ZONE] });
    return {
      steering: 'answer-set',
      ttl: 60,
      dns: { provider: 'cloudflare', api_token: 'env:CF_TOKEN', api_url: api.apiUrl },
      secretVars: { CF_TOKEN: token },
      resolve: (name) => Promise.resolve(api.answer(name, 'A')),
      plantForeign: async (name, address) => {
        // "Create DNS Record", as any other Cloudflare client would (no comment)
        const res = await fetch(`${api.apiUrl}/zones/${api.zoneIds.get(ZONE)}/dns_records`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'A', name, content: address, ttl: 60, proxied: false }),
        });
        if (!res.ok) throw new Error(`cloudflare stand-in refused the foreign set: ${res.status}`);
      },
      stop: () => api.stop(),
    };
  },
  'dnspod (stand-in, TC3 signatures checked)': async () => {
    const keys = { secretId: 'AKIDoutposttest', secretKey: 'dnspod-secret-key' };
    const api = await startDnspodApi({ ...keys, zones: [ZONE] });
    const dns = {
      provider: 'dnspod' as const,
      secret_id: 'env:DP_ID',
      secret_key: 'env:DP_KEY',
      api_url: api.apiUrl,
    };
    const secretVars = { DP_ID: keys.secretId, DP_KEY: keys.secretKey };
    return {
      steering: 'lines',
      ttl: 600,
      dns,
      secretVars,
      resolve: (name, country) => Promise.resolve(api.answer(name, 'A', { country })),
      plantForeign: async (name, address) => {
        // CreateRecord without Outpost's remark, as any other DNSPod client would
        await new DnspodProvider(dns, { secretVars }).call('CreateRecord', {
          Domain: ZONE,
          SubDomain: name.slice(0, -ZONE.length - 1),
          RecordType: 'A',
          RecordLine: '默认',
          Value: address,
          TTL: 600,
        });
      },
      stop: () => api.stop(),
    };
  },
  'alidns (stand-in, v1 signatures checked)': async () => {
    const keys = { accessKeyId: 'LTAIoutposttest', accessKeySecret: 'alidns-secret' };
    const api = await startAlidnsApi({ ...keys, zones: [ZONE] });
    const dns = {
      provider: 'alidns' as const,
      access_key_id: 'env:ALI_ID',
      access_key_secret: 'env:ALI_SECRET',
      api_url: api.apiUrl,
    };
    const secretVars = { ALI_ID: keys.accessKeyId, ALI_SECRET: keys.accessKeySecret };
    return {
      steering: 'lines',
      ttl: 600,
      dns,
      secretVars,
      resolve: (name, country) => Promise.resolve(api.answer(name, 'A', { country })),
      plantForeign: async (name, address) => {
        // AddDomainRecord with no remark, as any other Alibaba Cloud client would
        await new AlidnsProvider(dns, { secretVars }).call('AddDomainRecord', {
          DomainName: ZONE,
          RR: name.slice(0, -ZONE.length - 1),
          Type: 'A',
          Value: address,
          TTL: 600,
          Line: 'default',
        });
      },
      stop: () => api.stop(),
    };
  },
};

/** Who every country gets, by steering, with `up` the edges whose health answers. */
function expectedFor(
  steering: Steering,
  geo: Record<string, string>,
  up: readonly EdgeName[],
): Record<string, string> {
  if (steering === 'geo') return geo;
  const all = up.length === 0 ? 'origin' : [...up].sort().join('+');
  const one = steering === 'answer-set' ? all : up.includes('tok') ? 'tok' : all; // lines: overseas first
  return Object.fromEntries(COUNTRIES.map((c) => [c, one]));
}
const ALL_EDGES = Object.keys(EDGES) as EdgeName[];
const without = (...gone: EdgeName[]) => ALL_EDGES.filter((e) => !gone.includes(e));

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

    /** The control plane's edge checks, for providers that make none (one result counts). */
    const checks = new EdgeChecks({ downAfter: 1, upAfter: 1 });
    const spec = (mutate: (s: Spec) => Spec = (s) => s) => {
      const s = mutate(scenarioSpec(sc.port, p.dns));
      const ttl = p.ttl;
      return ttl === undefined
        ? s
        : { ...s, sites: s.sites.map((site) => ({ ...site, dns_ttl: ttl })) };
    };
    const provider = (s: Spec) => {
      if (s.dns === undefined) throw new Error('no dns');
      return createDnsProvider(s.dns, { secretVars: p.secretVars, retryBaseMs: 5 });
    };
    const plan = async (s: Spec, prune = false, via = provider(s)) =>
      planDnsChanges(via, s, {
        prune,
        ...(via.healthChecks === 'outpost'
          ? { drainedEdges: await checks.run(planDnsRecords(s).rrsets) }
          : {}),
      });
    /** Plans and applies with one provider (GCore's renders its bodies while planning). */
    const apply = async (s: Spec, prune = false) => {
      const via = provider(s);
      const res = await applyDnsPlan(via, await plan(s, prune, via));
      expect(res.map((r) => r.error)).toEqual([null]);
      return res.flatMap((r) => r.applied);
    };
    /** Every country's answer: never empty; exactly one address where the provider picks one. */
    const answers = async (name = NAME) => {
      const out: Record<string, string> = {};
      for (const c of COUNTRIES) {
        const got = await p.resolve(name, c);
        if (got.length === 0 || (p.steering === 'geo' && got.length !== 1))
          throw new Error(`${c} got ${got.length} addresses: ${got.join()}`);
        out[c] = got.map(who).sort().join('+');
      }
      return out;
    };
    /**
     * Waits until every country gets what `geo` says (geo providers) or the edges in `up`
     * (the others). PowerDNS and GCore check health themselves; for the others each try is
     * a DNS sync: the edges checked, then an apply.
     */
    const settle = (
      what: string,
      geo: Record<string, string>,
      o: { name?: string; up?: readonly EdgeName[]; state?: Spec } = {},
    ) => {
      const name = o.name ?? NAME;
      const expected = expectedFor(p.steering, geo, o.up ?? ALL_EDGES);
      return eventually(
        what,
        async () => {
          if (p.steering !== 'geo') await apply(o.state ?? spec());
          const got = await answers(name).catch(() => undefined);
          return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
        },
        20_000,
        200,
      ).catch(async (err: unknown) => {
        throw new Error(
          `${(err as Error).message}; want ${JSON.stringify(expected)}; last: ${JSON.stringify(await answers(name).catch((e: Error) => e.message))}`,
        );
      });
    };

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
      await settle('fresh name published', EXPECTED.allUp, {
        name: 'fresh.example.com',
        state: fresh,
      });
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
      await settle('fra down', EXPECTED.fraDown, { up: without('fra') });
      sc.health.set('fra', 'up');
      sc.health.set('tok', 'failing');
      await settle('tok down', EXPECTED.tokDown, { up: without('tok') });
      sc.health.set('tok', 'up');
      await settle('all up again', EXPECTED.allUp);
    }, 90_000);

    it('all edges down: the origin answers, never an empty answer; origin down: still the edges', async () => {
      await apply(spec());
      for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'failing');
      await settle('all down', Object.fromEntries(COUNTRIES.map((c) => [c, 'origin'])), {
        up: [],
      });
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
      await settle(
        'fra drained',
        { ...EXPECTED.allUp, DE: 'iad', GB: 'iad' },
        { up: without('fra'), state: spec(drained) },
      );
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
      expect(await p.resolve(NAME, 'DE')).not.toEqual([]);
      const pruned = await apply(spec(renamed), true);
      expect(pruned.map((c) => `${c.action} ${c.name}`)).toContain(`delete ${NAME}`);
      expect(await p.resolve(NAME, 'DE')).toEqual([]);
      expect((await plan(spec(renamed), true)).zones[0]?.changes).toEqual([]);
      await settle('renamed site', EXPECTED.allUp, {
        name: 'shop.example.com',
        state: spec(renamed),
      });
      expect(await p.resolve(FOREIGN.name, 'DE')).toEqual([FOREIGN.address]);
    }, 60_000);
  });
