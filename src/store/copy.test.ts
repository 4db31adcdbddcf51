// `outpost store migrate`'s copy: a SQLite store with state, token hashes, sealed secrets,
// releases, reports, events and API tokens copied into a real PostgreSQL (test/support) reads
// back the same through the Store, numbers new events after the copied ones, and a second copy
// into the now full database is refused without writing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { Edge, Site } from '../spec/index.js';
import { copyStore, STORE_TABLES } from './copy.js';
import { openStore, SecretBox, type NewAuditEvent } from './index.js';

const apply: NewAuditEvent = { actor: 'cli', action: 'spec.apply', subject: '', detail: {} };

describe('copying a SQLite store into PostgreSQL', () => {
  let pg: TestPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'outpost-copy-'));
  const sqliteUrl = `sqlite:${join(dir, 'outpost.db')}`;
  const box = new SecretBox(Buffer.alloc(32, 3));

  beforeAll(async () => {
    pg = await startPostgres();
    const store = await openStore({ url: sqliteUrl, secrets: box });
    await store.writeState(
      {
        edges: [
          Edge.parse({ name: 'hk1', host: { v4: '203.0.113.10' } }),
          Edge.parse({ name: 'fra1', host: { v4: '198.51.100.2' } }),
        ],
        sites: [Site.parse({ domain: 'a.example', origins: [{ host: { v4: '192.0.2.1' } }] })],
      },
      apply,
      { edgeTokenHashes: { hk1: 'a'.repeat(64), fra1: 'b'.repeat(64) } },
    );
    await store.setSetting('bundle_signing_key', 'SIGNING KEY');
    await store.setSetting('admin_token_hash', 'c'.repeat(64));
    for (const release of [1, 2])
      await store.saveBundle({
        edge: 'hk1',
        release,
        revision: 1,
        content_key: `k${release}`,
        hash: `${release}`.repeat(64),
        body: '{"signed":true}',
      });
    await store.saveEdgeReport('hk1', { status: 'ok', applied_release: 2 });
    await store.createApiToken(
      {
        name: 'ci',
        hash: 'd'.repeat(64),
        kind: 'token',
        user: null,
        grant: { scopes: ['purge'], sites: [], tags: [] },
        created_at: '2026-12-01T00:00:00.000Z',
        expires_at: null,
        last_used_at: null,
      },
      { actor: 'admin', action: 'token.create', subject: 'ci', detail: {} },
    );
    await store.close();
  }, 120_000);

  afterAll(async () => {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every table, verified, and the PostgreSQL store reads back the same', async () => {
    const url = await pg.createDatabase('copy_target');
    const checks = await copyStore(sqliteUrl, url);
    expect(checks.map((c) => c.table)).toEqual([...STORE_TABLES]);
    const count = Object.fromEntries(checks.map((c) => [c.table, c.rows]));
    expect(count).toMatchObject({ edges: 2, sites: 1, bundles: 2, api_tokens: 1, state: 1 });
    expect(count.events).toBe(2);

    const copy = await openStore({ url, secrets: box });
    const original = await openStore({ url: sqliteUrl, secrets: box });
    try {
      expect(await copy.readState()).toEqual(await original.readState());
      expect(await copy.getSetting('bundle_signing_key')).toBe('SIGNING KEY');
      expect(await copy.findEdgeByTokenHash('b'.repeat(64))).toBe('fra1');
      expect((await copy.latestBundle('hk1'))?.release).toBe(2);
      expect(await copy.findApiToken('d'.repeat(64))).toMatchObject({ name: 'ci' });
      expect(await copy.listEvents()).toEqual(await original.listEvents());
      // New rows are numbered after the copied ones.
      await copy.appendEvent({ actor: 'admin', action: 'x', subject: '', detail: {} });
      expect((await copy.listEvents({ limit: 1 }))[0]?.id).toBe(3);
    } finally {
      await copy.close();
      await original.close();
    }

    // The target is no longer empty: refused, nothing written.
    await expect(copyStore(sqliteUrl, url)).rejects.toThrow(
      'the target store is not empty (table state has rows): migrate into a new database',
    );
    const rows = await pg.query<{ n: number }>(
      'copy_target',
      'SELECT count(*)::int AS n FROM events',
    );
    expect(rows[0]?.n).toBe(3);
  });
});
