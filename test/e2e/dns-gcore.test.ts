// GCore: plan / apply / prune / idempotency against a local stand-in that follows GCore's
// documented DNS API v2 strictly (auth header, field names and types, picker types).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { parseSpec, type SpecInput } from '../../src/spec/index.js';
import { RRsetInput, startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';

// the key contains `$`, as GCore keys do: it travels by reference, never through a shell
const KEY = '4242$abc$DEF';

function spec(api: GcoreStandIn, sites: SpecInput['sites']) {
  return parseSpec({
    edges: [
      {
        name: 'hk',
        host: { v4: '198.51.100.10', v6: '2001:db8::10' },
        meta: { countries: ['HK'], continents: ['AS'] },
      },
      { name: 'fra', host: { v4: '198.51.100.20' }, meta: { continents: ['EU'], weight: 5 } },
    ],
    sites,
    dns: { provider: 'gcore', api_token: 'env:GCORE_KEY', api_url: api.apiUrl },
  });
}

const site = (domain: string, extra: Partial<NonNullable<SpecInput['sites']>[number]> = {}) => ({
  domain,
  origins: [{ host: { v4: '203.0.113.1' } }],
  health_check: { uri: `https://${domain}/healthz` },
  ...extra,
});

describe('GCore provider against the documented API', () => {
  let api: GcoreStandIn;
  beforeEach(async () => {
    api = await startGcoreApi({ apiKey: KEY, zones: ['example.com', 'example.org'] });
  });
  afterEach(async () => api.stop());
  const provider = () => {
    const s = spec(api, []);
    if (s.dns === undefined) throw new Error('no dns');
    return createDnsProvider(s.dns, { secretVars: { GCORE_KEY: KEY }, retryBaseMs: 5 });
  };

  it('the stand-in accepts the request bodies of the documentation and refuses unknown fields', () => {
    // from "Update RRset" (PUT /dns/v2/zones/{zoneName}/{rrsetName}/{rrsetType})
    expect(
      RRsetInput.safeParse({
        resource_records: [
          {
            content: ['192.0.2.1'],
            enabled: true,
            meta: {
              // the geodns picker's documented codes ("Dynamic response")
              continents: ['eu', 'as'],
              countries: ['us', 'gb', 'lu'],
              ip: ['192.168.15.150/25', '2003:de:2016::/48'],
            },
          },
        ],
        pickers: [{ type: 'geodns', limit: 123, strict: true }],
        ttl: 123,
        meta: {},
      }).success,
    ).toBe(true);
    // from "Create RRset": sort by proximity, shuffle by weight, at most 3
    expect(
      RRsetInput.safeParse({
        resource_records: [{ content: ['192.0.2.1'] }],
        pickers: [
          { type: 'geodistance' },
          { type: 'weighted_shuffle' },
          { type: 'first_n', limit: 3 },
        ],
      }).success,
    ).toBe(true);
    // "What Healthcheck are and how to configure them": a healthcheck picker turns checks on
    expect(
      RRsetInput.safeParse({
        resource_records: [{ content: ['192.0.2.1'] }],
        pickers: [{ type: 'healthcheck' }],
      }).success,
    ).toBe(true);
    expect(
      RRsetInput.safeParse({
        resource_records: [{ content: ['192.0.2.1'], meta: { notes: ['a'] } }],
      }).success,
    ).toBe(true);
    expect(
      RRsetInput.safeParse({
        resource_records: [{ content: ['192.0.2.1'], meta: { continents: ['europe'] } }],
      }).success,
    ).toBe(false);
    expect(
      RRsetInput.safeParse({
        resource_records: [{ content: ['192.0.2.1'] }],
        pickers: [{ type: 'nearest' }],
      }).success,
    ).toBe(false);
    expect(
      RRsetInput.safeParse({ resource_records: [{ content: ['192.0.2.1'] }], extra: 1 }).success,
    ).toBe(false);
  });

  it('plans, applies, is idempotent (no write calls the second time), prunes only what it owns', async () => {
    const p = provider();
    const s1 = spec(api, [
      site('www.example.com', { aliases: ['example.com'] }),
      site('shop.example.org'),
    ]);
    const plan = await planDnsChanges(p, s1);
    expect(
      plan.zones.map((z) => [
        z.zone,
        z.error,
        z.changes.map((c) => `${c.action} ${c.name} ${c.type}`),
      ]),
    ).toEqual([
      [
        'example.com',
        null,
        [
          'create example.com A',
          'create example.com AAAA',
          'create www.example.com A',
          'create www.example.com AAAA',
        ],
      ],
      ['example.org', null, ['create shop.example.org A', 'create shop.example.org AAAA']],
    ]);
    const res = await applyDnsPlan(p, plan);
    expect(res.every((r) => r.error === null)).toBe(true);

    const www = api.zones.get('example.com')?.get('www.example.com A');
    expect(www?.pickers).toEqual([
      { type: 'healthcheck' },
      { type: 'geodns' },
      { type: 'weighted_shuffle' },
      { type: 'geodistance' },
      { type: 'first_n', limit: 1 },
    ]);
    // the edge's own health, not the site through the edge to its origin
    expect(www?.meta).toEqual({
      failover: {
        protocol: 'HTTP',
        port: 80,
        frequency: 60,
        timeout: 5,
        method: 'GET',
        url: '/.well-known/outpost/health',
        tls: false,
        host: 'health.outpost.invalid',
        http_status_code: 200,
        regexp: 'outpost edge ok',
      },
    });
    expect(www?.ttl).toBe(60);
    expect(www?.resource_records).toEqual([
      {
        content: ['203.0.113.1'],
        enabled: true,
        meta: { backup: true, notes: ['origin', '[outpost]'] },
      },
      {
        content: ['198.51.100.10'],
        enabled: true,
        meta: { continents: ['as'], countries: ['hk'], notes: ['edge:hk', '[outpost]'] },
      },
      {
        content: ['198.51.100.20'],
        enabled: true,
        meta: { continents: ['eu'], notes: ['edge:fra', '[outpost]'], weight: 5 },
      },
    ]);

    // a record set somebody made by hand, in a managed type
    api.zones.get('example.com')?.set('legacy.example.com A', {
      name: 'legacy.example.com',
      type: 'A',
      ttl: 300,
      resource_records: [{ content: ['192.0.2.99'] }],
    });

    const writes = api.writes().length;
    const again = await planDnsChanges(p, s1);
    expect(again.zones.flatMap((z) => z.changes)).toEqual([]);
    expect(again.zones[0]?.unmanaged).toEqual([
      { name: 'legacy.example.com', type: 'A', conflict: false },
    ]);
    await applyDnsPlan(p, again);
    expect(api.writes().length).toBe(writes);

    // the alias goes away: obsolete without prune, deleted with it; the hand-made set stays
    const s2 = spec(api, [site('www.example.com'), site('shop.example.org')]);
    const noPrune = await planDnsChanges(p, s2);
    expect(noPrune.zones[0]?.changes).toEqual([]);
    expect(noPrune.zones[0]?.obsolete).toEqual([
      { name: 'example.com', type: 'A' },
      { name: 'example.com', type: 'AAAA' },
    ]);
    const prune = await planDnsChanges(p, s2, { prune: true });
    expect(prune.zones[0]?.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual([
      'delete example.com A',
      'delete example.com AAAA',
    ]);
    await applyDnsPlan(p, prune);
    expect([...(api.zones.get('example.com')?.keys() ?? [])].sort()).toEqual([
      'legacy.example.com A',
      'www.example.com A',
      'www.example.com AAAA',
    ]);

    // drain an edge: the record stays, disabled; a replace, old → new
    const drained = await planDnsChanges(p, s2, { drainedEdges: new Set(['fra']) });
    const change = drained.zones[0]?.changes[0];
    expect(change?.action).toBe('replace');
    await applyDnsPlan(p, drained);
    const rec = api.zones
      .get('example.com')
      ?.get('www.example.com A')
      ?.resource_records.find((r) => r.content[0] === '198.51.100.20');
    expect(rec?.enabled).toBe(false);
  });

  it('never replaces a set it does not own that sits where a site needs one: reports the conflict', async () => {
    api.zones.get('example.com')?.set('www.example.com A', {
      name: 'www.example.com',
      type: 'A',
      ttl: 60,
      resource_records: [{ content: ['192.0.2.7'] }],
    });
    const plan = await planDnsChanges(provider(), spec(api, [site('www.example.com')]));
    expect(plan.zones[0]?.unmanaged).toEqual([
      { name: 'www.example.com', type: 'A', conflict: true },
    ]);
    expect(plan.zones[0]?.changes.map((c) => c.name + ' ' + c.type)).toEqual([
      'www.example.com AAAA',
    ]);
  });

  it('retries 429 with Retry-After and 5xx with backoff; one failing zone does not stop the others', async () => {
    const p = provider();
    api.failNext(429, 1, '/www.example.com/A', '1');
    api.failNext(503, 2, '/shop.example.org/A');
    const t0 = Date.now();
    const res = await applyDnsPlan(
      p,
      await planDnsChanges(p, spec(api, [site('www.example.com'), site('shop.example.org')])),
    );
    expect(res.map((r) => r.error)).toEqual([null, null]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);

    api.failNext(500, 10, '/zones/example.org/');
    const s = spec(api, [
      site('www.example.com', { dns_ttl: 120 }),
      site('shop.example.org', { dns_ttl: 120 }),
    ]);
    const res2 = await applyDnsPlan(p, await planDnsChanges(p, s));
    expect(res2[0]).toMatchObject({ zone: 'example.com', error: null });
    expect(res2[1]?.zone).toBe('example.org');
    expect(res2[1]?.error).toMatch(/answered 500/);
    expect(api.zones.get('example.com')?.get('www.example.com A')?.ttl).toBe(120);
  });

  it('refuses a wrong key with a clear message, and sets/removes ACME TXT values', async () => {
    const s = spec(api, []);
    if (s.dns === undefined) throw new Error('no dns');
    const wrong = createDnsProvider(s.dns, { secretVars: { GCORE_KEY: 'nope' }, retryBaseMs: 5 });
    await expect(wrong.listZones()).rejects.toThrow(/answered 401/);

    const p = provider();
    await p.setTxt('_acme-challenge.www.example.com', 'token-1');
    await p.setTxt('_acme-challenge.www.example.com', 'token-2');
    expect(
      api.zones
        .get('example.com')
        ?.get('_acme-challenge.www.example.com TXT')
        ?.resource_records.map((r) => r.content),
    ).toEqual([['token-1'], ['token-2']]);
    await p.removeTxt('_acme-challenge.www.example.com', 'token-1');
    await p.removeTxt('_acme-challenge.www.example.com', 'token-2');
    expect(api.zones.get('example.com')?.has('_acme-challenge.www.example.com TXT')).toBe(false);
    await expect(p.setTxt('_acme-challenge.elsewhere.test', 'token-3')).rejects.toThrow(
      'GCore has no zone that holds _acme-challenge.elsewhere.test',
    );
  });
});
