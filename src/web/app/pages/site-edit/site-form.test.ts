import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSpecYaml, Site, type Site as SiteT } from '../../../../spec/index.js';
import {
  formToSite,
  ipListRows,
  ipListsChanged,
  ipListsOf,
  newSiteForm,
  siteToForm,
  sitePath,
} from './site-form.js';
import { editorReducer, initialEditorState } from './editor.js';

const example = parseSpecYaml(
  readFileSync(new URL('../../../../../examples/outpost.yaml', import.meta.url), 'utf8'),
);

const full: SiteT = Site.parse({
  domain: 'shop.example.com',
  aliases: ['www.shop.example.com'],
  origins: [
    { host: { v4: '192.0.2.1', v6: '2001:db8::1' }, port: 8443, tls_server_name: 'o.example' },
    { host: { v4: '192.0.2.2' }, port: 8443, tls_server_name: 'o.example', backup: true },
  ],
  edges: ['a', 'tag:fast'],
  cache: {
    rules: [
      { match: { paths: ['/static/*'], methods: ['GET', 'HEAD'] }, action: 'cache', ttl: 60 },
      { match: { extensions: ['css'] }, action: 'bypass' },
    ],
    stale_if_error: false,
    stale_while_updating: true,
  },
  modifiers: [
    {
      name: 'big',
      edges: ['tag:slow'],
      match: { paths: ['/dl/*'], extensions: ['zip'] },
      action: { type: 'redirect', status: 301, target: 'https://s.example.com{uri}' },
    },
    { match: { paths: ['/admin/*'] }, action: { type: 'deny', status: 404 } },
    { action: { type: 'set_header', name: 'X-Frame-Options', value: 'DENY' } },
    { action: { type: 'bypass_cache' } },
    { action: { type: 'cache_ttl', ttl: 30 } },
  ],
  health_check: { uri: 'https://shop.example.com/healthz', frequency: 30, timeout: 3 },
  dns_ttl: 120,
  https: { redirect_http: false, hsts: { max_age: 600, include_subdomains: true } },
  raw_nginx: 'add_header X-Test 1;',
  access: {
    default: 'deny',
    status: 451,
    body: 'no {entry}\n',
    rules: [
      { name: 'office', match: { client_ips: ['@office', '10.0.0.0/8'] }, action: 'allow' },
      {
        edges: ['tag:eu'],
        match: { paths: ['/admin/*'], headers: [{ name: 'X-A', prefix: 'b' }] },
        action: 'deny',
        status: 404,
      },
      { match: { user_agents: ['curl'] }, action: 'redirect', target: '/', status: 307 },
    ],
  },
  rate_limits: [
    {
      name: 'api',
      match: { paths: ['/api/*'], client_ips: ['192.0.2.0/24'] },
      rate: '10r/s',
      status: 503,
    },
    {
      name: 'keyed',
      edges: ['a'],
      key: 'header:X-Key',
      status: 503,
      rate: '60r/m',
      burst: 5,
      delay: 2,
    },
  ],
  waf: {
    enabled: true,
    mode: 'block',
    paranoia: 2,
    anomaly_threshold: { inbound: 10 },
    exclusions: [{ ids: [942100], paths: ['/search'] }],
    overrides: [{ edges: ['a'], mode: 'detect' }],
  },
});

describe('the site form', () => {
  it('edits every field of a site and gives back the same site', () => {
    for (const site of [full, ...example.sites]) {
      expect(Site.parse(formToSite(siteToForm(site)))).toEqual(site);
    }
  });

  it('keeps the fields it does not edit (new cache options, tls) when a site is saved', () => {
    const rich: SiteT = Site.parse({
      domain: 'media.example.com',
      origins: [{ host: { v4: '192.0.2.9' } }],
      tls: { challenge: 'dns-01' },
      cache: {
        gzip: true,
        rules: [
          {
            match: { extensions: ['mp4'], content_types: ['video/*'] },
            action: 'cache',
            ttl: 3600,
            force: true,
            browser_ttl: 60,
            key: { query: ['v'] },
            ignore_cookies: true,
            slice: true,
          },
          { match: { paths: ['/api/*'], statuses: [200] }, action: 'cache', ttl: 5 },
        ],
      },
    });
    const form = siteToForm(rich);
    form.dns_ttl = '30'; // an edit in the form
    expect(Site.parse(formToSite(form))).toEqual({ ...rich, dns_ttl: 30 });
  });

  it('maps the protection sections: access rules, rate limits and the WAF, to the API and back', () => {
    const form = newSiteForm();
    form.domain = 'p.example.com';
    form.origins[0] = { ...form.origins[0]!, v4: '192.0.2.9' };
    form.access = { enabled: true, default: 'allow', status: '', body: '' };
    form.access_rules = [
      {
        name: '',
        edges: '',
        match: { paths: '/admin/*', extensions: '', methods: '', client_ips: '10.0.0.0/8, ::1' },
        action: 'deny',
        status: '403',
        target: '',
      },
    ];
    form.rate_limits = [
      {
        name: 'api',
        edges: '',
        match: { paths: '', extensions: '', methods: '', client_ips: '' },
        key: '',
        rate: '10r/s',
        burst: '20',
        delay: '',
        status: '',
      },
    ];
    expect(formToSite(form)).toMatchObject({
      access: {
        default: 'allow',
        rules: [
          {
            match: { paths: ['/admin/*'], client_ips: ['10.0.0.0/8', '::1'] },
            action: 'deny',
            status: 403,
          },
        ],
      },
      rate_limits: [{ name: 'api', rate: '10r/s', burst: 20 }],
    });
    const site = formToSite(form);
    expect('waf' in site).toBe(false);
    expect((site.rate_limits as Record<string, unknown>[])[0]).not.toHaveProperty('match');
    // Turned off: the section leaves nothing behind.
    form.access = { ...form.access, enabled: false };
    form.rate_limits = [];
    form.waf = { ...form.waf, enabled: true, mode: 'block' };
    const off = formToSite(form);
    expect(off).not.toHaveProperty('access');
    expect(off).not.toHaveProperty('rate_limits');
    expect(off.waf).toEqual({ enabled: true, mode: 'block', anomaly_threshold: {} });
    expect(Site.parse(off).waf?.mode).toBe('block');
  });

  it('edits the named IP lists as rows and knows when they changed', () => {
    const lists = { office: ['192.0.2.0/24', '2001:db8::/32'], bots: ['198.51.100.7'] };
    expect(ipListsOf(ipListRows(lists))).toEqual(lists);
    let state = initialEditorState(newSiteForm());
    expect(ipListsChanged(state.form!)).toBe(false); // not loaded: never saved with the state
    state = editorReducer(state, { type: 'lists-loaded', lists });
    expect(ipListsChanged(state.form!)).toBe(false);
    expect(formToSite(state.form!)).not.toHaveProperty('ip_lists');
    state = editorReducer(state, {
      type: 'edit-row',
      list: 'ip_lists',
      index: 1,
      patch: { networks: '198.51.100.7, 198.51.100.8' },
    });
    expect(ipListsChanged(state.form!)).toBe(true);
    expect(ipListsOf(state.form!.ip_lists).bots).toEqual(['198.51.100.7', '198.51.100.8']);
    state = editorReducer(state, { type: 'remove-row', list: 'ip_lists', index: 0 });
    expect(Object.keys(ipListsOf(state.form!.ip_lists))).toEqual(['bots']);
  });

  it('starts a new site with the defaults the spec would fill in', () => {
    const form = newSiteForm();
    form.domain = 'new.example.com';
    form.origins[0] = { ...form.origins[0]!, v4: '192.0.2.9' };
    const parsed = Site.parse(formToSite(form));
    expect(parsed).toEqual(
      Site.parse({ domain: 'new.example.com', origins: [{ host: { v4: '192.0.2.9' } }] }),
    );
  });

  it('passes text that is not a number through, so the API names the mistake', () => {
    const form = siteToForm(full);
    form.dns_ttl = 'soon';
    const r = Site.safeParse(formToSite(form));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['dns_ttl']);
  });

  it('maps a whole-document problem path to the site', () => {
    expect(sitePath('sites[2].origins[0].host.v4', 2)).toBe('origins[0].host.v4');
    expect(sitePath('sites[2]', 2)).toBe('(site)');
    expect(sitePath('sites[1].domain', 2)).toBeNull();
    expect(sitePath('edges[0].name', 2)).toBeNull();
  });

  // ---- issue 22: the site's networks entries ----
  it('maps the site networks entries to rows and back; a word that is no ASN is sent as typed', () => {
    const site = Site.parse({
      domain: 'net.example.com',
      origins: [{ host: { v4: '192.0.2.9' } }],
      networks: [
        { edges: ['hk-cmi'], lines: ['china-telecom-cn2', 'china-mobile'] },
        { edges: ['tag:cn', 'bj-9929'], asns: [4808, 4837] },
      ],
    });
    const form = siteToForm(site);
    expect(form.networks).toEqual([
      { edges: 'hk-cmi', networks: { asns: '', lines: ['china-telecom-cn2', 'china-mobile'] } },
      { edges: 'tag:cn, bj-9929', networks: { asns: '4808, 4837', lines: [] } },
    ]);
    expect(form.extra?.site).not.toHaveProperty('networks');
    expect(Site.parse(formToSite(form))).toEqual(site);

    let state = initialEditorState(form);
    state = editorReducer(state, { type: 'add-row', list: 'networks' });
    state = editorReducer(state, {
      type: 'edit-row',
      list: 'networks',
      index: 2,
      patch: { edges: '*', networks: { asns: 'AS4134, 12x', lines: ['china-unicom'] } },
    });
    // `AS4134` as 4134, `12x` as typed for the API to name.
    expect((formToSite(state.form!).networks as unknown[])[2]).toEqual({
      edges: ['*'],
      asns: [4134, '12x'],
      lines: ['china-unicom'],
    });
    const r = Site.safeParse(formToSite(state.form!));
    expect(r.error?.issues[0]?.path).toEqual(['networks', 2, 'asns', 1]);
    state = editorReducer(state, { type: 'remove-row', list: 'networks', index: 0 });
    state = editorReducer(state, { type: 'remove-row', list: 'networks', index: 0 });
    state = editorReducer(state, { type: 'remove-row', list: 'networks', index: 0 });
    expect(formToSite(state.form!)).not.toHaveProperty('networks');
  });
  // ---- end issue 22 ----
});
