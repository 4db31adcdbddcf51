// Cloudflare through its stand-in (test/support/cloudflare-standin.ts): the DNS sync keeps the
// records to the healthy edges as their health changes, with no change of desired state (the
// control plane checks the edges, Cloudflare does not); pages of zones and records; the v4
// error envelope reaching the user; retries; ACME TXT values kept side by side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { DnsSync } from '../../src/dns/service.js';
import type { Spec } from '../../src/spec/index.js';
import { startCloudflareApi, type CloudflareStandIn } from '../support/cloudflare-standin.js';
import { EDGES, scenarioSpec, startScenario, who, type Scenario } from '../support/dns-scenario.js';
import { eventually } from '../support/http.js';

const TOKEN = 'cf-secret-token-value';
const ZONE = 'example.com';

describe('Cloudflare provider (stand-in)', () => {
  let api: CloudflareStandIn;
  let sc: Scenario;
  const spec = (): Spec => {
    const s = scenarioSpec(sc.port, {
      provider: 'cloudflare',
      api_token: 'env:CF_TOKEN',
      api_url: api.apiUrl,
    });
    return { ...s, sites: s.sites.map((site) => ({ ...site, dns_ttl: 60 })) };
  };
  const provider = () => {
    const s = spec();
    if (s.dns === undefined) throw new Error('no dns');
    return createDnsProvider(s.dns, { secretVars: { CF_TOKEN: TOKEN }, retryBaseMs: 5 });
  };

  beforeAll(async () => {
    api = await startCloudflareApi({ token: TOKEN, zones: [ZONE] });
    sc = await startScenario();
  });
  afterAll(async () => {
    await sc?.stop();
    await api?.stop();
  });

  it('the DNS sync follows edge health: down edges leave the records, the origin when none is up', async () => {
    const sync = new DnsSync({
      readState: () => Promise.resolve({ spec: spec() }),
      secretVars: { CF_TOKEN: TOKEN },
      debounceMs: 20,
      intervalMs: 0,
      warmTickMs: 0,
      healthCheckMs: 100,
      healthHysteresis: { downAfter: 2, upAfter: 2 },
    });
    const served = () => api.answer('www.example.com', 'A').map(who).sort().join('+');
    const until = (what: string, want: string) =>
      eventually(what, () => Promise.resolve(served() === want ? true : undefined), 15_000, 50);
    await sync.start();
    try {
      await until('every edge published', 'fra+gru+iad+tok');
      const written = api.book.writes().length;
      sc.health.set('fra', 'failing');
      await until('fra out', 'gru+iad+tok');
      expect(api.book.writes().length).toBeGreaterThan(written);
      for (const e of Object.keys(EDGES) as (keyof typeof EDGES)[]) sc.health.set(e, 'failing');
      await until('the origin when no edge is up', 'origin');
      // the dns_origin_fallback alert's source
      expect(sync.siteFallbacks()).toContainEqual(
        expect.objectContaining({ site: 'www.example.com', name: 'www.example.com', type: 'A' }),
      );
      for (const e of Object.keys(EDGES) as (keyof typeof EDGES)[]) sc.health.set(e, 'up');
      await until('every edge back', 'fra+gru+iad+tok');
      expect(sync.siteFallbacks()).toEqual([]);
      // TTL and ownership as written
      const records = api.book.records.filter((r) => r.name === 'www.example.com');
      expect(records.map((r) => [r.ttl, r.remark])).toEqual(
        records.map(() => [60, 'managed by Outpost [outpost]']),
      );
      expect(sync.status()).toMatchObject({
        provider: 'cloudflare',
        zones: [{ zone: ZONE, state: 'in_sync' }],
      });
    } finally {
      await sync.stop();
    }
  }, 60_000);

  it('reads every page of zones (50 a page) and records (100 a page)', async () => {
    const many = await startCloudflareApi({
      token: TOKEN,
      zones: [ZONE, ...Array.from({ length: 60 }, (_, i) => `z${i}.test`)],
    });
    try {
      for (let i = 0; i < 230; i++)
        many.book.add({
          zone: ZONE,
          name: `h${i}.example.com`,
          type: 'A',
          line: '',
          value: `192.0.2.${i % 250}`,
          ttl: 60,
          remark: '',
        });
      const s = spec();
      const p = createDnsProvider(
        { provider: 'cloudflare', api_token: 'env:CF_TOKEN', api_url: many.apiUrl },
        { secretVars: { CF_TOKEN: TOKEN } },
      );
      expect(await p.listZones()).toHaveLength(61);
      const sets = await p.listRRsets(ZONE);
      expect(sets).toHaveLength(230);
      expect(sets.every((r) => !r.managed)).toBe(true);
      const plan = await planDnsChanges(p, s);
      expect(plan.zones[0]?.unmanaged).toHaveLength(230);
      const pages = many.book.calls.filter((c) => c.what.includes('/dns_records?'));
      expect(pages.map((c) => new URL(c.what, 'http://x').searchParams.get('page'))).toEqual([
        '1',
        '2',
        '3',
        '1',
        '2',
        '3',
      ]);
    } finally {
      await many.stop();
    }
  });

  it('a wrong token: the v4 error reaches the plan, and the token is in no message', async () => {
    const p = createDnsProvider(
      { provider: 'cloudflare', api_token: 'env:CF_TOKEN', api_url: api.apiUrl },
      { secretVars: { CF_TOKEN: 'wrong-token' }, retryBaseMs: 5 },
    );
    const plan = await planDnsChanges(p, spec());
    expect(plan.zones[0]?.error).toBe(
      'Cloudflare API GET /client/v4/zones answered 403: 10000: Authentication error',
    );
    expect(JSON.stringify(plan)).not.toContain('wrong-token');
  });

  it('a refused record: the API error names the code; 429 is retried after Retry-After', async () => {
    const p = provider();
    api.failNext(429, 1, '/dns_records', '0');
    await p.setTxt('_acme-challenge.example.com', 'value-one');
    expect(api.book.calls.filter((c) => c.what.includes('/dns_records')).length).toBeGreaterThan(1);
    const bad = spec();
    const site = bad.sites[0];
    if (site === undefined) throw new Error('no site');
    site.dns_ttl = 30; // below Cloudflare's 60 outside Enterprise
    const plan = await planDnsChanges(p, bad);
    const [res] = await applyDnsPlan(p, plan);
    expect(res?.error).toContain('9303: TTL must be between 60 and 86400 seconds');
  });

  it('ACME TXT: two values at one name side by side, set twice is one record, removed one by one', async () => {
    const p = provider();
    const name = '_acme-challenge.wild.example.com';
    await p.setTxt(name, 'token-a');
    await p.setTxt(name, 'token-b');
    await p.setTxt(name, 'token-a');
    expect(api.answer(name, 'TXT')).toEqual(['token-a', 'token-b']);
    expect(api.book.records.filter((r) => r.name === name).map((r) => r.value)).toEqual([
      '"token-a"',
      '"token-b"',
    ]);
    await p.removeTxt(name, 'token-a');
    expect(api.answer(name, 'TXT')).toEqual(['token-b']);
    await p.removeTxt(name, 'token-b');
    expect(api.answer(name, 'TXT')).toEqual([]);
    await expect(p.setTxt('_acme-challenge.other.test', 'x')).rejects.toThrow(
      'Cloudflare has no zone that holds _acme-challenge.other.test',
    );
  });
});
