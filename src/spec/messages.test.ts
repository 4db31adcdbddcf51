import { describe, expect, it } from 'vitest';
import {
  CodedMessageSchema,
  MESSAGE_CODES,
  MESSAGE_TEMPLATES,
  codeOf,
  coded,
  englishOf,
  parseMessage,
  type CodedMessage,
} from './messages.js';

/** A value of each kind a template names, as the control plane would fill it in. */
const SAMPLE: Record<string, string> = {
  status: '502',
  header: 'x-cdn-node',
  ms: '5000',
  error: 'ECONNREFUSED',
  reason: 'probes are odd today',
  at: '2026-12-01T18:00:00.000Z',
  output: 'nginx: [emerg] unknown directive "proxy_passs" in /tmp/x/sites/a.conf:3\nfailed',
  seconds: '30',
  edge: 'fra-1',
  site: 'shop.example.com',
  percent: '90',
  capacity: '1000',
  minutes: '5',
  mean: '951.3',
  zone: 'example.com.',
  count: '3',
  record: 'www.example.com. A',
  name: 'www.example.com.',
  type: 'A',
  answers: '(address), (address)',
  when: 'at some point',
  why: 'for reasons',
  date: '2026-12-08T00:00:00.000Z',
  days: '3',
};

const paramsOf = (code: keyof typeof MESSAGE_TEMPLATES) =>
  Object.fromEntries(
    [...MESSAGE_TEMPLATES[code].matchAll(/\{\{(\w+)\}\}/g)].map((m) => [
      m[1] ?? '',
      SAMPLE[m[1] ?? ''] ?? 'missing sample',
    ]),
  );

describe('the messages table', () => {
  it('reads every English sentence it words back into the same code and values', () => {
    for (const code of MESSAGE_CODES) {
      const m = coded(code, paramsOf(code));
      expect(Object.values(m.params), code).not.toContain('missing sample');
      expect(parseMessage(englishOf(m)), code).toEqual(m);
    }
  });

  it('reads nested sentences: a site down because its origins refuse connections', () => {
    const text = 'site s.test is down: origins: connection failed: ECONNREFUSED';
    const m = parseMessage(text);
    expect(m).toEqual({
      code: 'alert_site_down',
      params: {
        site: 's.test',
        reason: {
          code: 'site_origins_down',
          params: {
            reason: { code: 'probe_connection_failed', params: { error: 'ECONNREFUSED' } },
          },
        },
      },
    });
    expect(englishOf(m as CodedMessage)).toBe(text);
    // The answer's schema holds it (three levels).
    expect(CodedMessageSchema.parse(m)).toEqual(m);
  });

  it('reads the builder’s nginx -t refusal inside an edge’s error and its config_error alert', () => {
    // Worded by edges/builder.ts; the edge status prefixes "control plane: ".
    const refusal =
      'nginx rejected the rendered configuration: nginx: [emerg] invalid port in "0" of the "listen" directive';
    expect(codeOf(`edge fra1: control plane: ${refusal}`)).toEqual({
      code: 'alert_config_error',
      params: {
        edge: 'fra1',
        error: {
          code: 'edge_control_plane_error',
          params: {
            error: {
              code: 'build_nginx_rejected',
              params: {
                output: 'nginx: [emerg] invalid port in "0" of the "listen" directive',
              },
            },
          },
        },
      },
    });
  });

  it('reads a certificate alert as certs/policy.ts words it', () => {
    expect(
      parseMessage(
        'certificate of shop.test expires in 3 days; renewal keeps failing: urn:ietf:params:acme:error:dns',
      ),
    ).toEqual({
      code: 'cert_alert',
      params: {
        site: 'shop.test',
        when: { code: 'cert_expires_in_days', params: { days: '3' } },
        why: {
          code: 'cert_renewal_failing',
          params: { error: 'urn:ietf:params:acme:error:dns' },
        },
      },
    });
    expect(
      parseMessage('certificate of a.test expires in 1 day; it was uploaded: upload a new one'),
    ).toEqual({
      code: 'cert_alert',
      params: {
        site: 'a.test',
        when: { code: 'cert_expires_in_one_day', params: {} },
        why: { code: 'cert_uploaded', params: {} },
      },
    });
  });

  it('tells similar sentences apart (an offline edge, a down edge, an edge error; DNS)', () => {
    expect(parseMessage('edge a has not reported for 100 s')?.code).toBe('alert_edge_offline');
    expect(parseMessage('edge a has not reported for ? s')?.code).toBe('alert_edge_offline');
    expect(parseMessage('edge a is down: timeout after 5000 ms')).toEqual({
      code: 'alert_edge_down',
      params: { edge: 'a', reason: { code: 'probe_timeout', params: { ms: '5000' } } },
    });
    expect(parseMessage('edge a: proxy is not running')).toEqual({
      code: 'alert_config_error',
      params: { edge: 'a', error: 'proxy is not running' },
    });
    expect(parseMessage('DNS zone z.: 2 change(s) not applied')?.code).toBe('dns_zone_pending');
    expect(parseMessage('DNS zone z.: provider said 500')?.code).toBe('dns_zone_error');
  });

  it('gives no code to a text it does not word (it is shown in English), null to no text', () => {
    expect(parseMessage('the agent could not write /etc/nginx/outpost')).toBeNull();
    expect(parseMessage('status five hundred')).toBeNull();
    expect(codeOf('something else')).toBeUndefined();
    expect(codeOf(null)).toBeNull();
  });

  it('refuses to word an unknown code or a missing value', () => {
    expect(() => englishOf({ code: 'no_such', params: {} })).toThrow(/unknown message code/);
    expect(() => englishOf({ code: 'probe_status', params: {} })).toThrow(/lacks its value status/);
  });
});
