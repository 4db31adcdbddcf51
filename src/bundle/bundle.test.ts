import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  contentKey,
  generateSigningKey,
  keyFingerprint,
  signManifest,
  verifyBundle,
} from './bundle.js';

const key = generateSigningKey();
const other = generateSigningKey();
const manifest = buildManifest({
  edge: 'hk1',
  release: 3,
  revision: 7,
  proxy: 'nginx',
  probe: { url: 'http://127.0.0.1:80/' },
  files: [
    { path: 'nginx/sites.conf', content: 'server {}\n' },
    { path: 'certs/a.key', content: 'KEY', secret: true },
  ],
});

describe('bundle', () => {
  it('sorts files, encodes them and marks secrets 0600', () => {
    expect(manifest.files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['certs/a.key', '600'],
      ['nginx/sites.conf', '644'],
    ]);
    expect(Buffer.from(manifest.files[1]?.content ?? '', 'base64').toString()).toBe('server {}\n');
  });

  it('verifies what it signed, for the right edge', () => {
    const signed = signManifest(manifest, key.privateKeyPem);
    expect(verifyBundle(signed, key.publicKeyPem, 'hk1')).toEqual(manifest);
    expect(() => verifyBundle(signed, key.publicKeyPem, 'fra1')).toThrow(
      /for edge "hk1", not "fra1"/,
    );
  });

  it('rejects a tampered manifest, a forged hash and another key', () => {
    const signed = signManifest(manifest, key.privateKeyPem);
    const tampered = { ...signed, manifest: signed.manifest.replace('"release":3', '"release":4') };
    expect(() => verifyBundle(tampered, key.publicKeyPem, 'hk1')).toThrow(/hash does not match/);
    const rehashed = {
      ...tampered,
      hash: createHash('sha256').update(tampered.manifest).digest('hex'),
    };
    expect(() => verifyBundle(rehashed, key.publicKeyPem, 'hk1')).toThrow(
      /signature does not verify/,
    );
    expect(() => verifyBundle(signed, other.publicKeyPem, 'hk1')).toThrow(
      /signature does not verify/,
    );
    expect(() => verifyBundle({ nope: 1 }, key.publicKeyPem, 'hk1')).toThrow(
      /not in the expected format/,
    );
  });

  it('refuses paths that leave the release directory', () => {
    expect(() =>
      buildManifest({ ...manifest, files: [{ path: '../etc/passwd', content: 'x' }] }),
    ).toThrow();
    expect(() =>
      buildManifest({ ...manifest, files: [{ path: '/etc/passwd', content: 'x' }] }),
    ).toThrow();
  });

  it('content key ignores order and release, and sees any byte change', () => {
    const files = [
      { path: 'b', content: '2' },
      { path: 'a', content: '1' },
    ];
    const meta = { edge: 'hk1', proxy: 'nginx' as const, probe: { url: 'http://127.0.0.1/' } };
    expect(contentKey({ ...meta, files })).toBe(
      contentKey({ ...meta, files: [...files].reverse() }),
    );
    expect(contentKey({ ...meta, files })).not.toBe(
      contentKey({ ...meta, files: [{ path: 'a', content: '1 ' }, files[0]!] }),
    );
  });

  it('fingerprints the public key', () => {
    expect(keyFingerprint(key.publicKeyPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keyFingerprint(key.publicKeyPem)).not.toBe(keyFingerprint(other.publicKeyPem));
  });
});
