// The ACME account: External Account Binding against Pebble with EAB required, the account
// stored once per control plane and reused. Validation is skipped here (PEBBLE_VA_ALWAYS_VALID):
// challenges are covered by acme.test.ts and acme-dns.test.ts.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeError, AcmeIssuer, type ChallengeSolver } from '../../src/certs/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { startPebble, type PebbleServer } from '../support/pebble.js';
import { freePort } from '../support/processes.js';

const HMAC = 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W';
const presented: string[] = [];
const solver: ChallengeSolver = {
  type: 'http-01',
  present: async (t) => void presented.push(t.identifier),
  waitUntilVisible: async () => undefined,
  cleanup: async () => undefined,
};

describe('ACME account with External Account Binding (Pebble)', () => {
  let pebble: PebbleServer;
  let store: Store;

  beforeAll(async () => {
    pebble = await startPebble({
      httpPort: await freePort(),
      dnsServer: '127.0.0.1:1',
      eabKeys: { 'kid-1': HMAC },
      alwaysValid: true,
    });
    store = await openSqliteStore(':memory:');
  }, 30_000);
  afterAll(async () => {
    await store?.close();
    await pebble?.stop();
  });

  const issuer = (eab?: { kid: string; hmac_key: string }) =>
    new AcmeIssuer({
      store,
      settings: {
        email: 'ops@outpost.test',
        directory_url: pebble.directoryUrl,
        ca_file: pebble.caFile,
        ...(eab ? { eab } : {}),
      },
      secretVars: { EAB_HMAC: HMAC, WRONG_HMAC: HMAC.replace(/^z/, 'y') },
      poll: { minMs: 20, maxMs: 200, attempts: 50 },
    });
  const issue = (i: AcmeIssuer) =>
    i.issue({ domain: 'eab.test', names: ['eab.test', 'www.eab.test'] }, solver, () => undefined);

  it('without EAB, or with a wrong key, the CA refuses the account', async () => {
    const none = (await issue(issuer()).catch((e: unknown) => e)) as AcmeError;
    expect(none).toBeInstanceOf(AcmeError);
    expect(none.problemType).toBe('urn:ietf:params:acme:error:externalAccountRequired');
    const wrong = (await issue(issuer({ kid: 'kid-1', hmac_key: 'env:WRONG_HMAC' })).catch(
      (e: unknown) => e,
    )) as AcmeError;
    expect([wrong.status, wrong.problemType]).toEqual([
      403,
      'urn:ietf:params:acme:error:unauthorized',
    ]);
    expect(wrong.message).not.toContain(HMAC);
    expect(await store.getSetting('acme.account')).toBeUndefined();
  });

  it('with EAB it creates the account once, stores its key, and reuses it', async () => {
    const first = await issue(issuer({ kid: 'kid-1', hmac_key: 'env:EAB_HMAC' }));
    const leaf = new X509Certificate(first.chainPem);
    expect(leaf.subjectAltName).toBe('DNS:eab.test, DNS:www.eab.test');
    expect(leaf.checkPrivateKey(createPrivateKey(first.keyPem))).toBe(true);
    expect(presented.sort()).toEqual(['eab.test', 'www.eab.test']);
    const account = JSON.parse((await store.getSetting('acme.account')) ?? '{}') as {
      account_url: string;
      key_pem: string;
    };
    expect(account.account_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
    expect(account.key_pem).toContain('PRIVATE KEY');
    // The stored account is used as is: no EAB needed any more, no new account.
    const second = await issue(issuer());
    expect(new X509Certificate(second.chainPem).serialNumber).not.toBe(leaf.serialNumber);
    expect(JSON.parse((await store.getSetting('acme.account')) ?? '{}')).toEqual(account);
  });
});
