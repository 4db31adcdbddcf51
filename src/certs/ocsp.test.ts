// OCSP requests and answers against the real `openssl ocsp` (a CA on loopback, test/support/ocsp.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOcspCa, type OcspCa } from '../../test/support/ocsp.js';
import { makeTestCa } from '../../test/support/tls.js';
import {
  checkOcspResponse,
  fetchOcsp,
  leafAndIssuer,
  ocspRefreshAt,
  ocspRequest,
  ocspUrl,
} from './ocsp.js';

describe('OCSP for stapling', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-ocsp-'));
  let ca: OcspCa;
  beforeAll(async () => {
    ca = await startOcspCa(dir);
  });
  afterAll(async () => {
    await ca.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the AIA responder and checks a good, signed, current answer', async () => {
    const leaf = ca.issue('good', ['good.test']);
    const url = ocspUrl(leaf.cert);
    expect(url).toBe(ca.url);
    const pair = leafAndIssuer(leaf.cert + ca.caCert);
    expect(pair).toBeDefined();
    const der = await fetchOcsp(url ?? '', ocspRequest(leaf.cert, ca.caCert));
    const now = new Date();
    const staple = checkOcspResponse(der, leaf.cert, ca.caCert, now);
    expect(staple.serial).toBe(leaf.serial);
    expect(staple.nextUpdate!.getTime() - staple.thisUpdate.getTime()).toBe(60 * 60_000);
    expect(ocspRefreshAt(staple).getTime()).toBe(staple.thisUpdate.getTime() + 30 * 60_000);
    // The same answer, an hour and a minute later, is expired.
    expect(() =>
      checkOcspResponse(der, leaf.cert, ca.caCert, new Date(now.getTime() + 61 * 60_000)),
    ).toThrow('the response has expired');
  });

  it('refuses a revoked certificate, another certificate, another signer', async () => {
    const leaf = ca.issue('revoked', ['revoked.test']);
    ca.revoke(leaf.serial);
    const der = await fetchOcsp(ca.url, ocspRequest(leaf.cert, ca.caCert));
    expect(() => checkOcspResponse(der, leaf.cert, ca.caCert, new Date())).toThrow(
      'the certificate is revoked',
    );
    const other = ca.issue('other', ['other.test']);
    const good = await fetchOcsp(ca.url, ocspRequest(other.cert, ca.caCert));
    const third = ca.issue('third', ['third.test']);
    expect(() => checkOcspResponse(good, third.cert, ca.caCert, new Date())).toThrow(
      'the response is not about this certificate',
    );
    // A CA that did not sign the answer (same names, another key).
    const stranger = makeTestCa(mkdtempSync(join(tmpdir(), 'outpost-ocsp-stranger-')));
    expect(() => checkOcspResponse(good, other.cert, stranger.caCert, new Date())).toThrow();
    expect(() =>
      checkOcspResponse(Buffer.from('garbage'), other.cert, ca.caCert, new Date()),
    ).toThrow();
  });

  it('says why a responder that is down gave nothing', async () => {
    const leaf = ca.issue('down', ['down.test']);
    ca.setDown(true);
    try {
      await expect(fetchOcsp(ca.url, ocspRequest(leaf.cert, ca.caCert))).rejects.toThrow(
        'answered HTTP 503',
      );
    } finally {
      ca.setDown(false);
    }
    const plain = makeTestCa(mkdtempSync(join(tmpdir(), 'outpost-ocsp-plain-')));
    expect(ocspUrl(plain.issue('x', ['x.test']).cert)).toBeUndefined();
  });
});
