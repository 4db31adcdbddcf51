// DNS-01 for a wildcard certificate through each plain-record provider (Cloudflare, DNSPod,
// Alibaba Cloud DNS), loopback only: the control plane writes the `_acme-challenge` TXT records
// through the provider's stand-in API (signatures checked), and the stand-in mirrors what it
// holds into pebble-challtestsrv, the DNS server Pebble resolves with, as a real provider's
// nameservers serve what its API holds. Pebble then validates and issues.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { parseSpec } from '../../src/spec/index.js';
import { openStore } from '../../src/store/index.js';
import { startAlidnsApi } from '../support/alidns-standin.js';
import { startCloudflareApi } from '../support/cloudflare-standin.js';
import { startDnspodApi } from '../support/dnspod-standin.js';
import { startChallTestSrv, startPebble, type ChallTestSrv } from '../support/pebble.js';
import { freePort, tempDir } from '../support/processes.js';
import type { RecordBook } from '../support/record-standin.js';

interface Attempt {
  id: string;
  done: boolean;
  ok: boolean | null;
  events: { step: string; message: string }[];
}

interface StandIn {
  dns: Record<string, unknown>;
  secretVars: Record<string, string>;
  book: RecordBook;
  stop: () => Promise<void>;
}

const ZONE = 'wild.test';

const STAND_INS: Record<string, () => Promise<StandIn>> = {
  cloudflare: async () => {
    const api = await startCloudflareApi({ token: 'cf-acme', zones: [ZONE] });
    return {
      dns: { provider: 'cloudflare', api_token: 'env:CF', api_url: api.apiUrl },
      secretVars: { CF: 'cf-acme' },
      book: api.book,
      stop: api.stop,
    };
  },
  dnspod: async () => {
    const api = await startDnspodApi({ secretId: 'AKIDacme', secretKey: 'dp-acme', zones: [ZONE] });
    return {
      dns: { provider: 'dnspod', secret_id: 'env:ID', secret_key: 'env:KEY', api_url: api.apiUrl },
      secretVars: { ID: 'AKIDacme', KEY: 'dp-acme' },
      book: api.book,
      stop: api.stop,
    };
  },
  alidns: async () => {
    const api = await startAlidnsApi({
      accessKeyId: 'LTAIacme',
      accessKeySecret: 'ali-acme',
      zones: [ZONE],
    });
    return {
      dns: {
        provider: 'alidns',
        access_key_id: 'env:ID',
        access_key_secret: 'env:KEY',
        api_url: api.apiUrl,
      },
      secretVars: { ID: 'LTAIacme', KEY: 'ali-acme' },
      book: api.book,
      stop: api.stop,
    };
  },
};

for (const [label, startStandIn] of Object.entries(STAND_INS))
  describe(`ACME DNS-01 through ${label} (Pebble, wildcard)`, () => {
    const tmp = tempDir(`acme-${label}`);
    let standIn: StandIn;
    let chall: ChallTestSrv;
    let pebble: Awaited<ReturnType<typeof startPebble>>;
    let app: Awaited<ReturnType<typeof buildControlPlane>>;
    let store: Awaited<ReturnType<typeof openStore>>;
    let cpUrl = '';
    let token = '';
    const mirrored: string[][] = [];

    const api = async <T>(method: string, path: string): Promise<T> => {
      const res = await fetch(`${cpUrl}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };

    beforeAll(async () => {
      standIn = await startStandIn();
      chall = await startChallTestSrv('127.0.0.1');
      // the provider's nameservers: serve the TXT values its API holds, as they change
      standIn.book.onTxt = async (name, values) => {
        mirrored.push(values);
        await chall.clearTxt(name);
        for (const v of values) await chall.addTxt(name, v);
      };
      pebble = await startPebble({ httpPort: await freePort(), dnsServer: chall.dnsServer });
      store = await openStore({ url: `sqlite:${join(tmp.path, 'outpost.db')}` });
      token = (await ensureAdminToken(store)) as string;
      const port = await freePort();
      cpUrl = `http://127.0.0.1:${port}`;
      app = await buildControlPlane({
        store,
        logger: pino({ level: 'silent' }),
        publicUrl: cpUrl,
        version: 'test',
        secretVars: standIn.secretVars,
        certificates: {
          checkIntervalMs: 3_600_000,
          poll: { minMs: 50, maxMs: 500, attempts: 60 },
          // no authoritative servers to ask: the solver waits this long for propagation
          dns01: { timeoutMs: 1000, intervalMs: 100 },
        },
      });
      await app.listen({ host: '127.0.0.1', port });
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await store?.close();
      await pebble?.stop();
      await chall?.stop();
      await standIn?.stop();
      tmp.remove();
    });

    it(`issues *.${ZONE} and ${ZONE}: two TXT values at one name, validated, then removed`, async () => {
      await store.writeState(
        parseSpec({
          acme: {
            email: `ops@${ZONE}`,
            directory_url: pebble.directoryUrl,
            ca_file: pebble.caFile,
          },
          dns: standIn.dns,
          sites: [
            {
              domain: ZONE,
              aliases: [`*.${ZONE}`],
              origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
              dns_ttl: 600,
            },
          ],
        }),
        { actor: 'test', action: 'spec.apply', subject: '', detail: {} },
      );
      let { attempt } = await api<{ attempt: Attempt }>('POST', `v1/certificates/${ZONE}/issue`);
      while (!attempt.done)
        ({ attempt } = await api<{ attempt: Attempt }>(
          'GET',
          `v1/certificates/${ZONE}/attempts/${attempt.id}?after=${attempt.events.length}&wait=10`,
        ));
      const messages = attempt.events.map((e) => `${e.step}: ${e.message}`);
      expect(attempt.ok, `${messages.join('\n')}\n${pebble.output()}`).toBe(true);
      expect(messages).toContain('challenge: dns-01 challenge published for 2 names');
      // both challenges' values were served side by side at _acme-challenge.wild.test
      expect(Math.max(...mirrored.map((v) => v.length))).toBe(2);

      const { certificate } = await api<{ certificate: { chain_pem: string } }>(
        'GET',
        `v1/certificates/${ZONE}`,
      );
      const [leaf, intermediate] = (
        certificate.chain_pem.match(
          /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
        ) ?? []
      ).map((b) => new X509Certificate(b));
      const root = new X509Certificate(await pebble.root());
      expect(leaf?.subjectAltName).toBe(`DNS:${ZONE}, DNS:*.${ZONE}`);
      expect(leaf!.verify(intermediate!.publicKey) && intermediate!.verify(root.publicKey)).toBe(
        true,
      );
      // the challenge records are gone from the provider
      expect(standIn.book.records.filter((r) => r.type === 'TXT')).toEqual([]);
      expect(mirrored.at(-1)).toEqual([]);
    }, 90_000);
  });
