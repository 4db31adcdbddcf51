import { describe, expect, it } from 'vitest';
import { parseMessage, parseSpec, type CodedMessage, type SpecInput } from '../spec/index.js';
import type { StoredCertificate } from '../store/types.js';
import {
  backoffDelay,
  certificateAlerts,
  certificateTargets,
  DEFAULT_BACKOFF,
  dueReason,
  renewalTime,
} from './policy.js';

const origin = [{ host: { v4: '203.0.113.1' } }];
const spec = (extra: Partial<SpecInput> = {}) =>
  parseSpec({
    edges: [
      { name: 'a', host: { v4: '198.51.100.1' } },
      { name: 'p', host: { v4: '198.51.100.2' }, paused: true, tags: ['paused'] },
    ],
    acme: { email: 'ops@example.com' },
    sites: [
      { domain: 'shop.test', aliases: ['www.shop.test'], origins: origin },
      { domain: 'wild.test', aliases: ['*.wild.test'], origins: origin },
      { domain: 'nowhere.test', origins: origin, edges: ['tag:paused'] },
      { domain: 'dns.test', origins: origin, tls: { challenge: 'dns-01' } },
      { domain: 'byo.test', origins: origin, tls: { acme: false } },
    ],
    ...extra,
  });

const cert = (over: Partial<StoredCertificate> = {}): StoredCertificate => ({
  domain: 'shop.test',
  source: 'acme',
  names: ['shop.test', 'www.shop.test'],
  chain_pem: '',
  issuer: 'CA',
  serial: '01',
  not_before: '2030-01-01T00:00:00.000Z',
  not_after: '2030-04-01T00:00:00.000Z', // 90 days
  created_at: '2030-01-01T00:00:00.000Z',
  ...over,
});

describe('certificateTargets', () => {
  it('HTTP-01 when an edge serves the site, DNS-01 for wildcards or when asked', () => {
    const withDns = spec({ dns: { provider: 'gcore', api_token: 'env:T' } });
    const t = Object.fromEntries(certificateTargets(withDns).map((x) => [x.domain, x]));
    expect(t['shop.test']).toMatchObject({
      names: ['shop.test', 'www.shop.test'],
      challenge: 'http-01',
      acme: true,
      edges: ['a'],
      problem: null,
    });
    expect(t['wild.test']?.challenge).toBe('dns-01');
    expect(t['nowhere.test']).toMatchObject({ challenge: 'dns-01', edges: [] }); // paused edge
    expect(t['dns.test']?.challenge).toBe('dns-01');
    expect(t['byo.test']?.acme).toBe(false);
  });

  it('says why no challenge can work', () => {
    const t = Object.fromEntries(certificateTargets(spec()).map((x) => [x.domain, x]));
    expect(t['wild.test']).toMatchObject({
      challenge: null,
      problem: 'wildcard names need dns-01, and the spec has no dns provider',
    });
    expect(t['nowhere.test']?.problem).toBe(
      'no edge serves the site and the spec has no dns provider for dns-01',
    );
    // Both read back into their codes (spec/messages.ts), for the UI's catalogues.
    expect(parseMessage(t['wild.test']?.problem ?? '')?.code).toBe('cert_wildcard_no_dns_provider');
    expect(parseMessage(t['nowhere.test']?.problem ?? '')?.code).toBe(
      'cert_no_edge_no_dns_provider',
    );
    const forced = parseSpec({
      sites: [{ domain: '*.x.test', origins: origin, tls: { challenge: 'http-01' } }],
      edges: [{ name: 'a', host: { v4: '198.51.100.1' } }],
    });
    expect(certificateTargets(forced)[0]).toMatchObject({
      acme: false, // no acme block
      problem: 'wildcard names need the dns-01 challenge',
    });
  });
});

describe('renewal timing', () => {
  const target = certificateTargets(spec())[0]!;
  it('renews at two thirds of the lifetime (day 60 of 90)', () => {
    expect(renewalTime(cert()).toISOString()).toBe('2030-03-02T00:00:00.000Z');
    expect(dueReason(target, cert(), new Date('2030-03-01T23:59:59Z'))).toBeNull();
    expect(dueReason(target, cert(), new Date('2030-03-02T00:00:00Z'))).toBe('renewal');
  });
  it('issues a missing certificate, reissues when names changed, leaves uploads alone', () => {
    const now = new Date('2030-01-02T00:00:00Z');
    expect(dueReason(target, undefined, now)).toBe('missing');
    expect(dueReason(target, cert({ names: ['shop.test'] }), now)).toBe('names-changed');
    expect(dueReason(target, cert({ source: 'upload' }), new Date('2030-03-31T00:00:00Z'))).toBe(
      null,
    );
  });
});

describe('backoffDelay', () => {
  it('doubles from one minute up to six hours', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, undefined))).toEqual([
      60_000, 120_000, 240_000, 480_000,
    ]);
    expect(backoffDelay(30, undefined)).toBe(DEFAULT_BACKOFF.maxMs);
  });
  it("honours the CA's Retry-After when longer, capped at a day", () => {
    expect(backoffDelay(1, 3600)).toBe(3_600_000);
    expect(backoffDelay(4, 10)).toBe(480_000);
    expect(backoffDelay(1, 30 * 86_400)).toBe(86_400_000);
  });
});

describe('certificateAlerts', () => {
  const s = spec();
  it('alerts within seven days of expiry, with the renewal error', () => {
    const c = cert();
    const renewals = [
      {
        domain: 'shop.test',
        failures: 3,
        last_attempt_at: null,
        last_error: 'rate limited',
        next_attempt_at: null,
      },
    ];
    const at = (iso: string) =>
      certificateAlerts({ spec: s, certificates: [c], renewals, now: new Date(iso) });
    expect(at('2030-03-24T00:00:00Z')).toEqual([]);
    expect(at('2030-03-25T00:00:00Z')).toEqual([
      {
        domain: 'shop.test',
        kind: 'expiring',
        not_after: c.not_after,
        days_left: 7,
        last_error: 'rate limited',
        message: 'certificate of shop.test expires in 7 days; renewal keeps failing: rate limited',
      },
    ]);
    expect(at('2030-04-02T00:00:00Z')[0]?.kind).toBe('expired');
    // Each wording reads back into its code (spec/messages.ts), for the UI's catalogues.
    const codes = ['2030-03-25T00:00:00Z', '2030-03-31T00:00:00Z', '2030-04-02T00:00:00Z'].map(
      (iso) => {
        const m = parseMessage(at(iso)[0]?.message ?? '');
        const p = (k: string) => m?.params[k];
        return [m?.code, (p('when') as CodedMessage)?.code, (p('why') as CodedMessage)?.code];
      },
    );
    expect(codes).toEqual([
      ['cert_alert', 'cert_expires_in_days', 'cert_renewal_failing'],
      ['cert_alert', 'cert_expires_in_one_day', 'cert_renewal_failing'],
      ['cert_alert', 'cert_expired_on', 'cert_renewal_failing'],
    ]);
  });
  it('ignores certificates of sites that are gone', () => {
    const gone = cert({ domain: 'gone.test' });
    expect(
      certificateAlerts({
        spec: s,
        certificates: [gone],
        renewals: [],
        now: new Date('2030-03-31T00:00:00Z'),
      }),
    ).toEqual([]);
  });
});
