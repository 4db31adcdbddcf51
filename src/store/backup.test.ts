// Backups of the SQLite store: round trip with a passphrase and with a key file, taken while a
// connection keeps writing; refusals (wrong passphrase, altered file, a short passphrase, a
// data dir that holds a store, another secret key) leave nothing behind.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Edge, Site } from '../spec/index.js';
import { openBackup, restoreBackup, writeBackup } from './backup.js';
import { loadSecretBox, openStore, type NewAuditEvent, type Store } from './index.js';
import { migrations } from './migrations/index.js';

const apply: NewAuditEvent = { actor: 'cli', action: 'spec.apply', subject: '', detail: {} };
const PASSPHRASE = 'correct horse battery staple';

let dir: string;
let store: Store;
const dbPath = () => join(dir, 'a', 'outpost.db');
const keyPath = () => join(dir, 'a.key');

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-backup-test-'));
  const { box } = loadSecretBox(keyPath());
  store = await openStore({ url: `sqlite:${dbPath()}`, secrets: box });
  await store.writeState(
    {
      edges: [Edge.parse({ name: 'hk1', host: { v4: '203.0.113.10' } })],
      sites: [Site.parse({ domain: 'a.example', origins: [{ host: { v4: '192.0.2.1' } }] })],
    },
    apply,
    { edgeTokenHashes: { hk1: 'a'.repeat(64) } },
  );
  await store.setSetting('bundle_signing_key', 'PRIVATE KEY MATERIAL');
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('round-trips the store and the secret key with a passphrase, online', async () => {
    const file = join(dir, 'b.backup');
    const summary = await writeBackup({
      dbPath: dbPath(),
      secretKeyFile: keyPath(),
      file,
      protection: { passphrase: PASSPHRASE },
    });
    expect(summary).toMatchObject({ revision: 1, edges: 1, sites: 1, certificates: 0 });
    expect(summary.migrations.at(-1)).toBe(Object.keys(migrations('sqlite')).sort().at(-1));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Nothing in the clear: not the signing key, not the secret key, not a domain.
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('a.example');
    expect(text).not.toContain(readFileSync(keyPath(), 'utf8').trim());

    // The original keeps working after the backup and its later writes are not in it.
    await store.setSetting('after', 'yes');

    const restored = await restoreBackup({
      file,
      dataDir: join(dir, 'b'),
      secretKeyFile: join(dir, 'b.key'),
      protection: { passphrase: PASSPHRASE },
    });
    expect(restored).toMatchObject({ revision: 1, edges: 1, sites: 1 });
    expect(readFileSync(join(dir, 'b.key'), 'utf8')).toBe(readFileSync(keyPath(), 'utf8'));
    expect(statSync(join(dir, 'b.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'b', 'outpost.db')).mode & 0o777).toBe(0o600);
    const copy = await openStore({
      url: `sqlite:${join(dir, 'b', 'outpost.db')}`,
      secrets: loadSecretBox(join(dir, 'b.key')).box,
    });
    try {
      expect(await copy.getSetting('bundle_signing_key')).toBe('PRIVATE KEY MATERIAL');
      expect(await copy.findEdgeByTokenHash('a'.repeat(64))).toBe('hk1');
      expect(await copy.getSetting('after')).toBeUndefined();
      expect((await copy.readState()).spec.sites.map((s) => s.domain)).toEqual(['a.example']);
    } finally {
      await copy.close();
    }
  });

  it('refuses a wrong passphrase, an altered file and the wrong kind of key, writing nothing', async () => {
    const file = join(dir, 'b.backup');
    await writeBackup({
      dbPath: dbPath(),
      secretKeyFile: keyPath(),
      file,
      protection: { passphrase: PASSPHRASE },
    });
    const target = { dataDir: join(dir, 'b'), secretKeyFile: join(dir, 'b.key') };
    await expect(
      restoreBackup({ file, ...target, protection: { passphrase: 'not the passphrase' } }),
    ).rejects.toThrow(`${file} does not decrypt: a wrong passphrase, or the file was altered`);
    expect(existsSync(target.dataDir)).toBe(false);
    expect(existsSync(target.secretKeyFile)).toBe(false);

    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { header: { created_at: string } };
    parsed.header.created_at = '2000-01-01T00:00:00.000Z';
    const altered = join(dir, 'altered.backup');
    writeFileSync(altered, JSON.stringify(parsed));
    await expect(openBackup(altered, { passphrase: PASSPHRASE })).rejects.toThrow(
      /does not decrypt/,
    );

    writeFileSync(join(dir, 'k'), `${Buffer.alloc(32, 7).toString('base64url')}\n`);
    await expect(openBackup(file, { keyFile: join(dir, 'k') })).rejects.toThrow(
      'this backup is protected by a passphrase, not a key file',
    );
    writeFileSync(join(dir, 'junk'), '{"hello": 1}');
    await expect(openBackup(join(dir, 'junk'), { passphrase: PASSPHRASE })).rejects.toThrow(
      /is not an Outpost backup \(version 1\): header: Required/,
    );
  });

  it('encrypts with a key file; refuses a short passphrase, a used data dir, another secret key', async () => {
    await expect(
      writeBackup({
        dbPath: dbPath(),
        secretKeyFile: keyPath(),
        file: join(dir, 'x'),
        protection: { passphrase: 'short' },
      }),
    ).rejects.toThrow('the passphrase must be at least 12 characters long');
    expect(existsSync(join(dir, 'x'))).toBe(false);

    const keyFile = join(dir, 'backup.key');
    writeFileSync(keyFile, `${Buffer.alloc(32, 9).toString('base64url')}\n`, { mode: 0o600 });
    const file = join(dir, 'k.backup');
    await writeBackup({
      dbPath: dbPath(),
      secretKeyFile: keyPath(),
      file,
      protection: { keyFile },
    });

    await expect(
      restoreBackup({
        file,
        dataDir: join(dir, 'a'),
        secretKeyFile: keyPath(),
        protection: { keyFile },
      }),
    ).rejects.toThrow(`${dbPath()} exists: restore into a new data directory`);

    writeFileSync(join(dir, 'other.key'), `${Buffer.alloc(32, 1).toString('base64url')}\n`);
    await expect(
      restoreBackup({
        file,
        dataDir: join(dir, 'c'),
        secretKeyFile: join(dir, 'other.key'),
        protection: { keyFile },
      }),
    ).rejects.toThrow(/exists and holds another key than the backup's/);
    expect(existsSync(join(dir, 'c'))).toBe(false);

    const ok = await restoreBackup({
      file,
      dataDir: join(dir, 'c'),
      secretKeyFile: join(dir, 'c.key'),
      protection: { keyFile },
    });
    expect(ok.edges).toBe(1);
  });
});
