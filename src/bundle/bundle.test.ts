import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  checkContents,
  contentKey,
  expandManifest,
  fileListBlob,
  fileListChunks,
  LIST_CHUNK_MAX,
  generateSigningKey,
  hashFile,
  keyFingerprint,
  resolveFiles,
  signManifest,
  verifyBundle,
} from './bundle.js';

const key = generateSigningKey();
const other = generateSigningKey();
const sites = hashFile({ path: 'nginx/sites.conf', content: 'server {}\n' });
const secret = hashFile({ path: 'certs/a.key', content: 'KEY', secret: true });
const site = hashFile({ path: 'nginx/sites/a.conf', content: 'upstream a {}\n' });
const list = fileListBlob([site.entry]);
const manifest = buildManifest({
  edge: 'hk1',
  release: 3,
  revision: 7,
  proxy: 'nginx',
  probe: { url: 'http://127.0.0.1:80/' },
  files: [sites.entry, secret.entry],
  lists: [list.entry],
});
const contents = new Map(
  [sites, secret, site, list].map((f) => [f.entry.sha256, f.content] as const),
);

describe('bundle', () => {
  it('sorts files, names each by hash and size, and marks secrets 0600', () => {
    expect(manifest.files.map((f) => [f.path, f.mode.toString(8), f.size])).toEqual([
      ['certs/a.key', '600', 3],
      ['nginx/sites.conf', '644', 10],
    ]);
    expect(manifest.files[1]?.sha256).toBe(
      createHash('sha256').update('server {}\n').digest('hex'),
    );
    // No content in the signed text: signing is proportional to the number of files.
    expect(JSON.stringify(manifest)).not.toContain(Buffer.from('KEY').toString('base64'));
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

  it('resolves every file, lists expanded, each content checked against its signed hash', async () => {
    const files = await resolveFiles(manifest, (hashes) =>
      Promise.resolve(
        new Map(hashes.flatMap((h) => (contents.has(h) ? [[h, contents.get(h)!]] : []))),
      ),
    );
    expect(files.map((f) => [f.path, f.content.toString()])).toEqual([
      ['certs/a.key', 'KEY'],
      ['nginx/sites.conf', 'server {}\n'],
      ['nginx/sites/a.conf', 'upstream a {}\n'],
    ]);
  });

  it('refuses a content or a list that does not match its hash, or is missing', () => {
    const swapped = new Map(contents).set(sites.entry.sha256, Buffer.from('server { x }\n'));
    const entries = expandManifest(manifest, contents);
    expect(() => checkContents(entries, swapped)).toThrow(
      /content of "nginx\/sites.conf" is missing or does not match its hash/,
    );
    const without = new Map(contents);
    without.delete(secret.entry.sha256);
    expect(() => checkContents(entries, without)).toThrow(/"certs\/a.key" is missing/);
    const badList = new Map(contents).set(list.entry.sha256, Buffer.from('[]'));
    expect(() => expandManifest(manifest, badList)).toThrow(/does not match its hash/);
    // A list (authentic, by hash) that names a path the manifest has: refused, not merged.
    const dup = fileListBlob([{ ...site.entry, path: 'nginx/sites.conf' }]);
    const twice = buildManifest({ ...manifest, lists: [dup.entry] });
    expect(() => expandManifest(twice, new Map([[dup.entry.sha256, dup.content]]))).toThrow(
      /names "nginx\/sites.conf" twice/,
    );
    const hostile = fileListBlob([{ ...site.entry, path: '../etc/passwd' }]);
    const escaping = buildManifest({ ...manifest, lists: [hostile.entry] });
    expect(() =>
      expandManifest(escaping, new Map([[hostile.entry.sha256, hostile.content]])),
    ).toThrow(/file list .* is invalid/);
  });

  it('refuses paths that leave the release directory', () => {
    const bad = (path: string) => ({ ...sites.entry, path });
    expect(() => buildManifest({ ...manifest, files: [bad('../etc/passwd')] })).toThrow();
    expect(() => buildManifest({ ...manifest, files: [bad('/etc/passwd')] })).toThrow();
  });

  it('content key ignores order and release, and sees any byte change or list change', () => {
    const files = [
      hashFile({ path: 'b', content: '2' }).entry,
      hashFile({ path: 'a', content: '1' }).entry,
    ];
    const meta = { edge: 'hk1', proxy: 'nginx' as const, probe: { url: 'http://127.0.0.1/' } };
    expect(contentKey({ ...meta, files })).toBe(
      contentKey({ ...meta, files: [...files].reverse() }),
    );
    expect(contentKey({ ...meta, files })).not.toBe(
      contentKey({ ...meta, files: [hashFile({ path: 'a', content: '1 ' }).entry, files[0]!] }),
    );
    expect(contentKey({ ...meta, files, lists: [list.entry] })).not.toBe(
      contentKey({ ...meta, files }),
    );
  });

  it('fingerprints the public key', () => {
    expect(keyFingerprint(key.publicKeyPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keyFingerprint(key.publicKeyPem)).not.toBe(keyFingerprint(other.publicKeyPem));
  });

  it('splits file lists where the paths say, so one changed or added file changes one or two lists', () => {
    const entry = (i: number, content = `server ${i}\n`) =>
      hashFile({ path: `nginx/sites/site${i}.example.com.conf`, content }).entry;
    const all = Array.from({ length: 5000 }, (_, i) => entry(i));
    const chunks = fileListChunks(all);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.length).toBeLessThan(200);
    expect(chunks.flat().map((e) => e.path)).toEqual(all.map((e) => e.path).sort());
    const hashes = (cs: typeof chunks) => new Set(cs.map((c) => fileListBlob(c).entry.sha256));
    const before = hashes(chunks);
    const changed = fileListChunks(all.map((e, i) => (i === 1234 ? entry(i, 'other\n') : e)));
    expect([...hashes(changed)].filter((h) => !before.has(h))).toHaveLength(1);
    const added = fileListChunks([...all, entry(99_999)]);
    const fresh = [...hashes(added)].filter((h) => !before.has(h)).length;
    expect(fresh).toBeGreaterThanOrEqual(1);
    expect(fresh).toBeLessThanOrEqual(2);
    // Same entries in any order: same lists.
    expect(hashes(fileListChunks([...all].reverse()))).toEqual(before);
    expect(fileListChunks([])).toEqual([]);
    // A list never holds more than LIST_CHUNK_MAX entries.
    const same = Array.from({ length: 3000 }, (_, i) => ({
      ...entry(0),
      path: `a/${'x'.repeat(i % 7)}${i}`,
    }));
    expect(Math.max(...fileListChunks(same).map((c) => c.length))).toBeLessThanOrEqual(
      LIST_CHUNK_MAX,
    );
  });
});
