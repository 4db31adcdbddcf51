import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSpecYaml, Site, type Site as SiteT } from '../../../../spec/index.js';
import { formToSite, newSiteForm, siteToForm, sitePath } from './site-form.js';

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
});
