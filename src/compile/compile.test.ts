import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CACHE_RULES,
  parseSpec,
  parseSpecYaml,
  validateSpec,
  type SpecInput,
} from '../spec/index.js';
import { compileEdgePlan, PlanError } from './index.js';

const edges: SpecInput['edges'] = [
  { name: 'hk-1', host: { v4: '198.51.100.1' }, tags: ['asia', 'slow'] },
  { name: 'fra-1', host: { v4: '198.51.100.2' }, tags: ['europe'] },
  { name: 'sgp-1', host: { v4: '198.51.100.3' }, tags: ['asia'], paused: true },
];

const origin = { host: { v4: '203.0.113.10' } };

function spec(sites: SpecInput['sites'], e: SpecInput['edges'] = edges) {
  return parseSpec({ edges: e, sites });
}

describe('compileEdgePlan: sites', () => {
  const s = spec([
    { domain: 'www.example.com', aliases: ['example.com'], origins: [origin] },
    { domain: 'asia.example.net', origins: [origin], edges: ['tag:asia'] },
    { domain: 'a.example.org', origins: [origin], edges: ['fra-1'] },
    { domain: 'b.example.org', origins: [origin], edges: ['hk-1', 'fra-1'] },
  ]);

  it('selects sites by name, tag and *, sorted by domain', () => {
    expect(compileEdgePlan(s, 'hk-1').sites.map((x) => x.domain)).toEqual([
      'asia.example.net',
      'b.example.org',
      'www.example.com',
    ]);
    expect(compileEdgePlan(s, 'fra-1').sites.map((x) => x.domain)).toEqual([
      'a.example.org',
      'b.example.org',
      'www.example.com',
    ]);
  });

  it('gives a paused edge no sites', () => {
    const plan = compileEdgePlan(s, 'sgp-1');
    expect(plan.paused).toBe(true);
    expect(plan.sites).toEqual([]);
    expect(plan.certificates).toEqual([]);
  });

  it('throws a clear error for an unknown edge', () => {
    expect(() => compileEdgePlan(s, 'nope')).toThrow(PlanError);
    expect(() => compileEdgePlan(s, 'nope')).toThrow('no edge named "nope" in the spec');
  });

  it('lists server names and one certificate per site', () => {
    const plan = compileEdgePlan(s, 'fra-1');
    const www = plan.sites.find((x) => x.domain === 'www.example.com');
    expect(www?.serverNames).toEqual(['www.example.com', 'example.com']);
    expect(www?.certificate).toEqual({
      domain: 'www.example.com',
      names: ['www.example.com', 'example.com'],
    });
    expect(plan.certificates.map((c) => c.domain)).toEqual(plan.sites.map((x) => x.domain));
  });

  it('copies edge settings and defaults', () => {
    const plan = compileEdgePlan(s, 'hk-1');
    expect(plan.edge).toBe('hk-1');
    expect(plan.listen).toEqual({ addresses: [], http: 80, https: 443 });
    expect(plan.rawNginx).toBeNull();
    const site = plan.sites[0];
    expect(site?.cache).toEqual({
      rules: DEFAULT_CACHE_RULES,
      mode: 'rules',
      staleIfError: true,
      staleWhileUpdating: false,
      gzip: false,
      brotli: false,
      httpFilters: true,
    });
    expect(site?.timeouts).toEqual({ connect: 5, read: 30, send: 30, upgraded: 3600 });
    expect(plan.realIpFrom).toEqual([]);
    expect(site?.https).toEqual({ redirectHttp: true, hsts: false });
    expect(site?.rawNginx).toBeNull();
  });

  it('cache mode origin: the rules, then a catch-all rule cached by the origin headers', () => {
    const spec =
      parseSpecYaml(`edges: [{name: e, host: {v4: 192.0.2.1}, real_ip_from: [10.0.0.0/8]}]
sites:
  - domain: a.example.com
    origins: [{host: {v4: 192.0.2.2}}]
    timeouts: {read: 7}
    cache: {mode: origin, rules: [{match: {paths: ['/api/*']}, action: bypass}]}
`);
    const plan = compileEdgePlan(spec, 'e');
    expect(plan.realIpFrom).toEqual(['10.0.0.0/8']);
    expect(plan.sites[0]?.cache.rules).toEqual([
      { match: { paths: ['/api/*'] }, action: 'bypass' },
      { match: {}, action: 'cache' },
    ]);
    expect(plan.sites[0]?.timeouts).toEqual({ connect: 5, read: 7, send: 30, upgraded: 3600 });
  });

  it('is deterministic and does not share objects with the spec', () => {
    const a = compileEdgePlan(s, 'hk-1');
    const b = compileEdgePlan(s, 'hk-1');
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    a.sites[0]?.cache.rules.push({ match: {}, action: 'bypass' });
    expect(compileEdgePlan(s, 'hk-1').sites[0]?.cache.rules).toHaveLength(2);
  });
});

describe('compileEdgePlan: origins', () => {
  it('resolves ports, TLS names and address lists', () => {
    const s = spec([
      {
        domain: 'www.example.com',
        origins: [
          { host: { v4: '203.0.113.10', v6: '2001:db8::10' }, weight: 3 },
          { host: 'origin.example.com', port: 8443, backup: true },
        ],
      },
      {
        domain: 'plain.example.com',
        origins: [{ host: { v6: '2001:db8::20' }, protocol: 'http' }],
      },
      {
        domain: 'named.example.com',
        origins: [
          {
            host: { v4: '203.0.113.30' },
            tls_server_name: 'origin.test',
            verify_tls: false,
          },
        ],
      },
    ]);
    const plan = compileEdgePlan(s, 'hk-1');
    const [named, plain, www] = plan.sites;
    expect(www?.origins).toEqual([
      {
        hosts: ['203.0.113.10', '2001:db8::10'],
        hostKind: 'addresses',
        port: 443,
        protocol: 'https',
        tlsServerName: 'www.example.com',
        verifyTls: true,
        tlsCa: null,
        weight: 3,
        backup: false,
      },
      {
        hosts: ['origin.example.com'],
        hostKind: 'hostname',
        port: 8443,
        protocol: 'https',
        tlsServerName: 'www.example.com',
        verifyTls: true,
        tlsCa: null,
        weight: 1,
        backup: true,
      },
    ]);
    expect(www?.upstream).toEqual({
      protocol: 'https',
      tlsServerName: 'www.example.com',
      verifyTls: true,
      tlsCas: [],
    });
    expect(plain?.origins[0]?.port).toBe(80);
    expect(plain?.upstream.protocol).toBe('http');
    expect(named?.upstream).toMatchObject({ tlsServerName: 'origin.test', verifyTls: false });
  });

  it('collects distinct origin CAs', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const s = spec([
      {
        domain: 'www.example.com',
        origins: [
          { host: { v4: '203.0.113.10' }, tls_ca: ca },
          { host: { v4: '203.0.113.11' }, tls_ca: ca },
        ],
      },
    ]);
    expect(compileEdgePlan(s, 'hk-1').sites[0]?.upstream.tlsCas).toEqual([ca]);
  });

  it('the spec rejects origins that cannot share one upstream group', () => {
    const v = validateSpec({
      edges,
      sites: [
        {
          domain: 'www.example.com',
          origins: [origin, { host: { v4: '203.0.113.11' }, protocol: 'http' }],
        },
      ],
    });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problems[0]?.path).toBe('sites[0].origins[1].protocol');
    const v2 = validateSpec({
      edges,
      sites: [
        {
          domain: 'www.example.com',
          origins: [origin, { host: { v4: '203.0.113.11' }, tls_server_name: 'other.test' }],
        },
      ],
    });
    expect(v2.ok).toBe(false);
    if (!v2.ok) expect(v2.problems[0]?.path).toBe('sites[0].origins[1].tls_server_name');
  });
});

describe('compileEdgePlan: modifier precedence', () => {
  const redirect = (target: string) => ({ type: 'redirect' as const, target });
  const s = spec([
    {
      domain: 'www.example.com',
      origins: [origin],
      modifiers: [
        { name: 'site-a', action: redirect('/site-a') },
        { name: 'tag-asia', edges: ['tag:asia'], action: redirect('/tag-asia') },
        { name: 'all', edges: ['*'], action: redirect('/all') },
        { name: 'edge-hk', edges: ['hk-1'], action: redirect('/edge-hk') },
        { name: 'site-b', action: redirect('/site-b') },
        { name: 'edge-fra', edges: ['fra-1'], action: redirect('/edge-fra') },
        { name: 'hk-or-europe', edges: ['tag:europe', 'hk-1'], action: redirect('/x') },
        { name: 'europe', edges: ['tag:europe'], action: redirect('/europe') },
      ],
    },
  ]);

  it('orders edge-name rules, then tag and * rules, then site rules; declaration order within', () => {
    const hk = compileEdgePlan(s, 'hk-1').sites[0]?.modifiers ?? [];
    expect(hk.map((m) => [m.name, m.level, m.selector, m.index])).toEqual([
      ['edge-hk', 'edge', 'hk-1', 3],
      ['hk-or-europe', 'edge', 'hk-1', 6],
      ['tag-asia', 'tag', 'tag:asia', 1],
      ['all', 'tag', '*', 2],
      ['site-a', 'site', null, 0],
      ['site-b', 'site', null, 4],
    ]);
    const fra = compileEdgePlan(s, 'fra-1').sites[0]?.modifiers ?? [];
    expect(fra.map((m) => [m.name, m.level, m.selector])).toEqual([
      ['edge-fra', 'edge', 'fra-1'],
      ['all', 'tag', '*'],
      ['hk-or-europe', 'tag', 'tag:europe'],
      ['europe', 'tag', 'tag:europe'],
      ['site-a', 'site', null],
      ['site-b', 'site', null],
    ]);
  });

  it('keeps the matcher and action with defaults applied', () => {
    const hk = compileEdgePlan(s, 'hk-1').sites[0]?.modifiers ?? [];
    expect(hk[0]?.match).toEqual({});
    expect(hk[0]?.action).toEqual({ type: 'redirect', status: 302, target: '/edge-hk' });
  });
});
