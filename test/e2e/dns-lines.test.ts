// ISP lines ("线路") end to end through the DNSPod and Alibaba Cloud DNS stand-ins: edges that
// name carrier ASNs get records on that carrier's line, a client on a carrier's network gets
// that carrier's edge, a line without a healthy edge falls back to the default line, and the
// default line always answers (every healthy edge when none is on it, the origin when none is
// up). Client ASNs are the carriers' real ones (data only: nothing leaves loopback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDnsPlan,
  createDnsProvider,
  EdgeChecks,
  planDnsChanges,
  planDnsRecords,
} from '../../src/dns/index.js';
import { AlidnsProvider } from '../../src/dns/alidns.js';
import { DnspodProvider } from '../../src/dns/dnspod.js';
import { parseSpec, type Spec } from '../../src/spec/index.js';
import { EDGES, ORIGIN, startScenario, who, type Scenario } from '../support/dns-scenario.js';
import { startAlidnsApi } from '../support/alidns-standin.js';
import { startDnspodApi, type LineClient } from '../support/dnspod-standin.js';

const ZONE = 'example.com';
const NAME = 'www.example.com';

interface LinesProvider {
  dns: Record<string, unknown>;
  secretVars: Record<string, string>;
  /** The record lines written for NAME A, as the provider names them. */
  lines: () => string[];
  answer: (client: LineClient) => string[];
  /** Credentials that the API refuses, and what it says. */
  wrong: { secretVars: Record<string, string>; error: string }[];
  stop: () => Promise<void>;
}

const PROVIDERS: Record<string, () => Promise<LinesProvider>> = {
  dnspod: async () => {
    const api = await startDnspodApi({
      secretId: 'AKIDlines',
      secretKey: 'dnspod-lines-key',
      zones: [ZONE],
    });
    return {
      dns: { provider: 'dnspod', secret_id: 'env:ID', secret_key: 'env:KEY', api_url: api.apiUrl },
      secretVars: { ID: 'AKIDlines', KEY: 'dnspod-lines-key' },
      lines: () =>
        [...new Set(api.book.records.filter((r) => r.name === NAME).map((r) => r.line))].sort(),
      answer: (client) => api.answer(NAME, 'A', client),
      wrong: [
        {
          secretVars: { ID: 'AKIDlines', KEY: 'not-the-key' },
          error: 'DNSPod API DescribeDomainList answered AuthFailure.SignatureFailure',
        },
        {
          secretVars: { ID: 'AKIDother', KEY: 'dnspod-lines-key' },
          error: 'DNSPod API DescribeDomainList answered AuthFailure.SecretIdNotFound',
        },
      ],
      stop: () => api.stop(),
    };
  },
  alidns: async () => {
    const api = await startAlidnsApi({
      accessKeyId: 'LTAIlines',
      accessKeySecret: 'alidns-lines-secret',
      zones: [ZONE],
    });
    return {
      dns: {
        provider: 'alidns',
        access_key_id: 'env:ID',
        access_key_secret: 'env:KEY',
        api_url: api.apiUrl,
      },
      secretVars: { ID: 'LTAIlines', KEY: 'alidns-lines-secret' },
      lines: () =>
        [...new Set(api.book.records.filter((r) => r.name === NAME).map((r) => r.line))].sort(),
      answer: (client) => api.answer(NAME, 'A', client),
      wrong: [
        {
          secretVars: { ID: 'LTAIlines', KEY: 'not-the-secret' },
          error: 'Alibaba Cloud DNS API DescribeDomains answered SignatureDoesNotMatch',
        },
        {
          secretVars: { ID: 'LTAIother', KEY: 'alidns-lines-secret' },
          error: 'Alibaba Cloud DNS API DescribeDomains answered InvalidAccessKeyId.NotFound',
        },
      ],
      stop: () => api.stop(),
    };
  },
};

/** telecom, unicom and mobile edges, and one edge with no network named (the default line). */
function linesSpec(port: number, dns: Record<string, unknown>): Spec {
  const edge = (name: keyof typeof EDGES, asn?: number[]) => ({
    name,
    host: { v4: EDGES[name].v4 },
    listen: { http: port },
    meta: asn ? { asn } : {},
  });
  return parseSpec({
    edges: [edge('fra', [4134, 4809]), edge('tok', [4837]), edge('iad', [9808]), edge('gru')],
    sites: [
      {
        domain: NAME,
        origins: [{ host: { v4: ORIGIN }, protocol: 'http', port }],
        health_check: { frequency: 10, timeout: 1 },
        dns_ttl: 600,
      },
    ],
    dns,
  });
}

const CLIENTS: Record<string, LineClient> = {
  telecom: { country: 'CN', asn: 4134 },
  unicom: { country: 'CN', asn: 4837 },
  mobile: { country: 'CN', asn: 9808 },
  cernet: { country: 'CN', asn: 4538 }, // no CERNET edge: the default line
  other: { country: 'CN' },
  abroad: { country: 'US', asn: 15169 },
};

for (const [label, start] of Object.entries(PROVIDERS))
  describe(`ISP lines: ${label} (stand-in)`, () => {
    let p: LinesProvider;
    let sc: Scenario;
    const checks = new EdgeChecks({ downAfter: 1, upAfter: 1 });
    beforeAll(async () => {
      p = await start();
      sc = await startScenario();
    });
    afterAll(async () => {
      await sc?.stop();
      await p?.stop();
    });

    /** One DNS sync: the edges checked, then plan and apply with the down ones left out. */
    const sync = async () => {
      const spec = linesSpec(sc.port, p.dns);
      if (spec.dns === undefined) throw new Error('no dns');
      const provider = createDnsProvider(spec.dns, { secretVars: p.secretVars, retryBaseMs: 5 });
      const down = await checks.run(planDnsRecords(spec).rrsets);
      const plan = await planDnsChanges(provider, spec, { drainedEdges: down });
      const res = await applyDnsPlan(provider, plan);
      expect(res.map((r) => r.error)).toEqual([null]);
      return plan;
    };
    const answers = () =>
      Object.fromEntries(
        Object.entries(CLIENTS).map(([k, c]) => [k, p.answer(c).map(who).sort().join('+')]),
      );

    it('records per line; each carrier network gets its edge, the rest the default line', async () => {
      await sync();
      expect(answers()).toEqual({
        telecom: 'fra',
        unicom: 'tok',
        mobile: 'iad',
        cernet: 'gru',
        other: 'gru',
        abroad: 'gru',
      });
      expect((await sync()).zones[0]?.changes).toEqual([]);
    });

    it("a carrier's edge down: its clients get the default line; back up: their edge again", async () => {
      sc.health.set('fra', 'failing');
      await sync();
      expect(answers()).toMatchObject({ telecom: 'gru', unicom: 'tok' });
      sc.health.set('fra', 'up');
      await sync();
      expect(answers()).toMatchObject({ telecom: 'fra' });
    });

    it('the default edge down: the default line gets every healthy edge; all down: the origin', async () => {
      sc.health.set('gru', 'failing');
      await sync();
      expect(answers()).toEqual({
        telecom: 'fra',
        unicom: 'tok',
        mobile: 'iad',
        cernet: 'fra+iad+tok',
        other: 'fra+iad+tok',
        abroad: 'fra+iad+tok',
      });
      for (const e of ['fra', 'tok', 'iad'] as const) sc.health.set(e, 'failing');
      await sync();
      expect(p.lines()).toHaveLength(1);
      expect(Object.values(answers())).toEqual(Object.values(CLIENTS).map(() => 'origin'));
      for (const e of ['fra', 'tok', 'iad', 'gru'] as const) sc.health.set(e, 'up');
      await sync();
      expect(p.lines()).toHaveLength(4);
    });

    it('credentials the API refuses: its code reaches the plan, the secret does not', async () => {
      for (const w of p.wrong) {
        const spec = linesSpec(sc.port, p.dns);
        if (spec.dns === undefined) throw new Error('no dns');
        const provider = createDnsProvider(spec.dns, { secretVars: w.secretVars, retryBaseMs: 5 });
        const plan = await planDnsChanges(provider, spec);
        expect(plan.zones[0]?.error).toContain(w.error);
        for (const v of Object.values(w.secretVars)) expect(JSON.stringify(plan)).not.toContain(v);
      }
    });
  });

describe('DNSPod signatures', () => {
  it('a clock more than 5 minutes off: AuthFailure.SignatureExpire, as the API answers', async () => {
    const api = await startDnspodApi({ secretId: 'AKIDc', secretKey: 'k', zones: [ZONE] });
    try {
      const skewed = new DnspodProvider(
        { provider: 'dnspod', secret_id: 'env:I', secret_key: 'env:K', api_url: api.apiUrl },
        { secretVars: { I: 'AKIDc', K: 'k' }, now: () => Math.floor(Date.now() / 1000) - 400 },
      );
      await expect(skewed.listZones()).rejects.toThrow(
        'DNSPod API DescribeDomainList answered AuthFailure.SignatureExpire',
      );
      const right = new DnspodProvider(
        { provider: 'dnspod', secret_id: 'env:I', secret_key: 'env:K', api_url: api.apiUrl },
        { secretVars: { I: 'AKIDc', K: 'k' } },
      );
      expect(await right.listZones()).toEqual([ZONE]);
      // throttling is retried
      api.failNext(429, 2, 'DescribeDomainList');
      expect(await right.listZones()).toEqual([ZONE]);
    } finally {
      await api.stop();
    }
  });
});

describe('Alibaba Cloud DNS signatures', () => {
  it('a throttled call is retried signed anew (a reused nonce would be refused)', async () => {
    const api = await startAlidnsApi({ accessKeyId: 'LTAIr', accessKeySecret: 's', zones: [ZONE] });
    try {
      const p = new AlidnsProvider(
        {
          provider: 'alidns',
          access_key_id: 'env:I',
          access_key_secret: 'env:S',
          api_url: api.apiUrl,
        },
        { secretVars: { I: 'LTAIr', S: 's' }, retryBaseMs: 5 },
      );
      api.failNext(429, 2, 'DescribeDomains');
      expect(await p.listZones()).toEqual([ZONE]);
      const nonces = api.book.calls.map((c) => (c.params as Record<string, string>).SignatureNonce);
      expect(nonces).toHaveLength(3);
      expect(new Set(nonces).size).toBe(3);
      const skewed = new AlidnsProvider(
        {
          provider: 'alidns',
          access_key_id: 'env:I',
          access_key_secret: 'env:S',
          api_url: api.apiUrl,
        },
        { secretVars: { I: 'LTAIr', S: 's' }, now: () => new Date(Date.now() - 20 * 60_000) },
      );
      await expect(skewed.listZones()).rejects.toThrow(
        'Alibaba Cloud DNS API DescribeDomains answered InvalidTimeStamp.Expired',
      );
    } finally {
      await api.stop();
    }
  });
});
