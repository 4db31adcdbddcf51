import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestCa } from '../../test/support/tls.js';
import { checkCertificate, CertificateError, nameCovers, uncoveredNames } from './pem.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-pem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeTestCa(dir);
const shop = ca.issue('shop', ['shop.test', 'www.shop.test']);
const other = ca.issue('other', ['other.test']);
const wild = ca.issue('wild', ['*.cdn.test']);
const now = new Date();

const fails = (input: Parameters<typeof checkCertificate>[0]): CertificateError => {
  try {
    checkCertificate(input);
  } catch (err) {
    if (err instanceof CertificateError) return err;
    throw err;
  }
  throw new Error('accepted');
};

describe('checkCertificate', () => {
  it('accepts a chain (leaf, CA) with its key covering every name, and summarises it', () => {
    const r = checkCertificate({
      chainPem: shop.cert + ca.caCert,
      keyPem: shop.key,
      names: ['shop.test', 'WWW.shop.test'],
      now,
    });
    expect(r.summary.names).toEqual(['shop.test', 'www.shop.test']);
    expect(r.summary.issuer).toBe('Outpost Test CA');
    expect(Date.parse(r.summary.not_after)).toBeGreaterThan(now.getTime());
    expect(r.chainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(r.keyPem).toContain('BEGIN PRIVATE KEY');
  });

  it("refuses another certificate's key, without quoting either key", () => {
    const e = fails({ chainPem: shop.cert, keyPem: other.key, names: ['shop.test'], now });
    expect(e.field).toBe('key');
    expect(e.message).toBe('the key does not belong to the certificate');
    expect(e.message).not.toContain('PRIVATE');
  });

  it('refuses a key that is not a PEM key, and never echoes it', () => {
    const e = fails({
      chainPem: shop.cert,
      keyPem: 'secret-material-xyz',
      names: ['shop.test'],
      now,
    });
    expect(e.field).toBe('key');
    expect(e.message).not.toContain('secret-material-xyz');
  });

  it('refuses names the certificate does not cover', () => {
    const e = fails({
      chainPem: shop.cert,
      keyPem: shop.key,
      names: ['shop.test', 'api.shop.test'],
      now,
    });
    expect(e.message).toBe(
      'the certificate does not cover api.shop.test (it covers shop.test, www.shop.test)',
    );
  });

  it('refuses an expired or not yet valid certificate', () => {
    const later = new Date(now.getTime() + 5 * 86_400_000);
    expect(
      fails({ chainPem: shop.cert, keyPem: shop.key, names: ['shop.test'], now: later }).message,
    ).toMatch(/^the certificate expired on \d{4}-/);
    const earlier = new Date(now.getTime() - 86_400_000);
    expect(
      fails({ chainPem: shop.cert, keyPem: shop.key, names: ['shop.test'], now: earlier }).message,
    ).toMatch(/^the certificate is not valid before /);
  });

  it('refuses a chain out of order and a certificate that is not PEM', () => {
    const e = fails({
      chainPem: ca.caCert + shop.cert,
      keyPem: shop.key,
      names: ['shop.test'],
      now,
    });
    expect(e.field).toBe('key'); // the first certificate is the CA: the key is not its key
    const unrelated = fails({
      chainPem: shop.cert + other.cert,
      keyPem: shop.key,
      names: ['shop.test'],
      now,
    });
    expect(unrelated.message).toMatch(/certificate 2 of the chain did not issue certificate 1/);
    expect(fails({ chainPem: 'hello', keyPem: shop.key, names: [], now }).field).toBe(
      'certificate',
    );
  });

  it('a wildcard certificate covers one label, and only a wildcard covers a wildcard name', () => {
    expect(nameCovers('*.cdn.test', 'a.cdn.test')).toBe(true);
    expect(nameCovers('*.cdn.test', 'a.b.cdn.test')).toBe(false);
    expect(nameCovers('*.cdn.test', 'cdn.test')).toBe(false);
    expect(nameCovers('a.cdn.test', '*.cdn.test')).toBe(false);
    expect(uncoveredNames(['*.cdn.test'], ['*.cdn.test', 'x.cdn.test', 'cdn.test'])).toEqual([
      'cdn.test',
    ]);
    const r = checkCertificate({
      chainPem: wild.cert,
      keyPem: wild.key,
      names: ['img.cdn.test', '*.cdn.test'],
      now,
    });
    expect(r.summary.names).toEqual(['*.cdn.test']);
  });
});
