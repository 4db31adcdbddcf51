// DNS-01 end to end, loopback only: a wildcard certificate from Pebble, validated through
// real PowerDNS (the distribution's pdns_server) that Outpost's PowerDNS provider writes the
// `_acme-challenge` TXT records to. Pebble resolves through that PowerDNS.
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { parseSpec } from '../../src/spec/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { eventually } from '../support/http.js';
import { startPebble, type PebbleServer } from '../support/pebble.js';
import { startPowerDns, type PowerDnsServer } from '../support/powerdns.js';
import { freePort, tempDir } from '../support/processes.js';

interface Attempt {
  id: string;
  done: boolean;
  ok: boolean | null;
  events: { seq: number; step: string; message: string }[];
}

describe('ACME DNS-01 through the PowerDNS provider (Pebble, wildcard)', () => {
  const tmp = tempDir('acme-dns');
  const logs: string[] = [];
  let pdns: PowerDnsServer;
  let pebble: PebbleServer;
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let cpUrl = '';
  let token = '';

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
    pdns = await startPowerDns();
    const zone = await fetch(`${pdns.apiUrl}/api/v1/servers/localhost/zones`, {
      method: 'POST',
      headers: { 'X-API-Key': pdns.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dns.test.', kind: 'Native', nameservers: ['ns1.dns.test.'] }),
    });
    expect(zone.status).toBe(201);
    pebble = await startPebble({
      httpPort: await freePort(), // unused: DNS-01 only
      dnsServer: `127.0.0.1:${pdns.dnsPort}`,
    });
    store = await openStore({ url: `sqlite:${join(tmp.path, 'outpost.db')}` });
    token = (await ensureAdminToken(store)) as string;
    const port = await freePort();
    cpUrl = `http://127.0.0.1:${port}`;
    app = await buildControlPlane({
      store,
      logger: pino(
        { level: 'debug' },
        new Writable({
          write(chunk: Buffer, _enc, done) {
            logs.push(chunk.toString());
            done();
          },
        }),
      ),
      publicUrl: cpUrl,
      version: 'test',
      secretVars: { PDNS_KEY: pdns.apiKey },
      certificates: {
        checkIntervalMs: 3_600_000, // only `cert issue` here
        poll: { minMs: 50, maxMs: 500, attempts: 60 },
        dns01: { timeoutMs: 20_000, intervalMs: 100 },
      },
    });
    await app.listen({ host: '127.0.0.1', port });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await pebble?.stop();
    await pdns?.stop();
    tmp.remove();
  });

  it('issues *.dns.test and dns.test: TXT records through PowerDNS, checked, then removed', async () => {
    await store.writeState(
      parseSpec({
        acme: {
          email: 'ops@dns.test',
          directory_url: pebble.directoryUrl,
          ca_file: pebble.caFile,
        },
        dns: {
          provider: 'powerdns',
          api_url: pdns.apiUrl,
          api_key: 'env:PDNS_KEY',
          dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
        },
        sites: [
          {
            domain: 'dns.test',
            aliases: ['*.dns.test'],
            origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
          },
        ],
      }),
      { actor: 'test', action: 'spec.apply', subject: '', detail: {} },
    );
    const { certificates } = await api<{ certificates: { domain: string; challenge: string }[] }>(
      'GET',
      'v1/certificates',
    );
    expect(certificates).toEqual([
      expect.objectContaining({ domain: 'dns.test', challenge: 'dns-01' }),
    ]);

    let { attempt } = await api<{ attempt: Attempt }>('POST', 'v1/certificates/dns.test/issue');
    while (!attempt.done)
      ({ attempt } = await api<{ attempt: Attempt }>(
        'GET',
        `v1/certificates/dns.test/attempts/${attempt.id}?after=${attempt.events.length}&wait=10`,
      ));
    const messages = attempt.events.map((e) => `${e.step}: ${e.message}`);
    expect(attempt.ok, `${messages.join('\n')}\n${pebble.output()}`).toBe(true);
    expect(messages).toContain('challenge: dns-01 challenge published for 2 names');

    const { certificate } = await api<{
      certificate: { chain_pem: string; names: string[]; source: string };
    }>('GET', 'v1/certificates/dns.test');
    expect(certificate.source).toBe('acme');
    const [leaf, intermediate] = (
      certificate.chain_pem.match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
      ) ?? []
    ).map((b) => new X509Certificate(b));
    const root = new X509Certificate(await pebble.root());
    expect(leaf?.subjectAltName).toBe('DNS:dns.test, DNS:*.dns.test');
    expect(leaf!.verify(intermediate!.publicKey) && intermediate!.verify(root.publicKey)).toBe(
      true,
    );

    // The challenge records are gone from the authoritative server.
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${pdns.dnsPort}`]);
    await eventually('the TXT records to be removed', async () => {
      try {
        await resolver.resolveTxt('_acme-challenge.dns.test');
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code === 'ENODATA' ? true : undefined;
      }
    });
    const key = (await store.certificateKey('dns.test')) ?? '';
    const body = key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    expect(body.length).toBeGreaterThan(100);
    expect(logs.join('')).not.toContain(body.slice(0, 64));
    expect(logs.join('')).not.toContain(pdns.apiKey);
  }, 60_000);
});
