// SQLite-specific behaviour of the store: the file and its modes, the WAL, reopening, two
// connections to one file, rows damaged behind its back. What every store must do is in
// store.contract.test.ts.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Edge, parseSpecYaml, Site, type Spec } from '../spec/index.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';
import {
  RevisionConflictError,
  StoreFileError,
  UnsupportedStoreError,
  openStore,
  parseStoreUrl,
  type NewAuditEvent,
  type Store,
} from './index.js';

const EXAMPLE = readFileSync(new URL('../../examples/outpost.yaml', import.meta.url), 'utf8');
const apply: NewAuditEvent = { actor: 'cli', action: 'spec.apply', subject: '', detail: {} };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const edge = (name: string, v4: string, extra: Partial<Edge> = {}): Edge =>
  Edge.parse({ name, host: { v4 }, ...extra });
const site = (domain: string, extra: Record<string, unknown> = {}): Site =>
  Site.parse({ domain, origins: [{ host: { v4: '192.0.2.1' } }], ...extra });
const spec = (edges: Edge[], sites: Site[] = []): Spec => ({ edges, sites });

let dir: string;
let file: string;
const open: Store[] = [];

async function openAt(path = file): Promise<Store> {
  const store = await openStore({ url: `sqlite:${path}` });
  open.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-store-'));
  file = join(dir, 'data', 'outpost.db');
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('opening', () => {
  it('creates the directory and runs the migrations once', async () => {
    const store = await openAt();
    await store.close();
    const raw = new Database(file, { readonly: true });
    try {
      const names = raw.prepare('select name from outpost_migration order by name').all() as {
        name: string;
      }[];
      expect(names.map((n) => n.name)).toEqual([
        '001_initial',
        '002_bundles_and_edge_status',
        '003_certificates',
        '004_purges',
        '005_access',
        '006_history',
        '007_notifications',
        '008_release_files',
        '009_probe_observations',
      ]);
      const tables = raw
        .prepare("select name from sqlite_master where type = 'table' order by name")
        .all() as { name: string }[];
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          'acme_challenges',
          'blocks',
          'bundles',
          'certificate_renewals',
          'certificates',
          'edge_history',
          'edge_status',
          'edges',
          'incidents',
          'site_history',
          'events',
          'purge_edges',
          'purges',
          'settings',
          'sites',
          'state',
        ]),
      );
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }

    // Reopening keeps the data and does not run a migration again.
    const again = await openAt();
    await again.writeState(spec([edge('hk1', '203.0.113.10')]), apply);
    await again.close();
    const raw2 = new Database(file, { readonly: true });
    try {
      const rows = raw2.prepare('select name, timestamp from outpost_migration').all();
      expect(rows).toHaveLength(9);
      expect(raw2.prepare('select revision from state').get()).toEqual({ revision: 1 });
    } finally {
      raw2.close();
    }
  });

  it('keeps the database and its WAL readable only by the owner', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), apply);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-shm`).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
  });

  it('refuses a zero-length database file with its path, and leaves it as it was', async () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(file, '');
    await expect(openAt()).rejects.toThrow(StoreFileError);
    await expect(openAt()).rejects.toThrow(`the database file ${file} is empty (0 bytes)`);
    expect(statSync(file).size).toBe(0);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a file that is not a database, a damaged one, and a foreign SQLite file', async () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(file, 'this is not a database, it only sits where one should '.repeat(100));
    await expect(openAt()).rejects.toThrow(
      `the database file ${file} is damaged or not a database (SQLITE_NOTADB)`,
    );

    // A real store whose pages were overwritten in the middle (a disk error, a bad copy).
    rmSync(file);
    const store = await openAt();
    const many = Array.from({ length: 60 }, (_, i) => edge(`e${i}`, `203.0.113.${i + 1}`));
    await store.writeState(spec(many), apply);
    await store.close();
    open.splice(0);
    const checkpoint = new Database(file);
    checkpoint.pragma('wal_checkpoint(TRUNCATE)');
    checkpoint.close();
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(4 * 4096);
    bytes.fill(0x5a, 2 * 4096 + 100, 4 * 4096 - 100);
    writeFileSync(file, bytes);
    const damaged = openAt();
    await expect(damaged).rejects.toThrow(StoreFileError);
    await expect(openAt()).rejects.toThrow(new RegExp(`^the database file ${file} is damaged`));

    rmSync(file);
    const foreign = new Database(file);
    foreign.exec('create table photos (id integer primary key, name text)');
    foreign.close();
    await expect(openAt()).rejects.toThrow('is a SQLite database, but not an Outpost store');
  });

  it('locks a data directory: a second holder is refused naming it and the pid, until release', () => {
    mkdirSync(join(dir, 'data'));
    const first = lockDataDir(join(dir, 'data'));
    let refusal: unknown;
    try {
      lockDataDir(join(dir, 'data'));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as Error).message).toBe(
      `the data directory ${join(dir, 'data')} is in use by another control plane (pid ${process.pid}); stop it first, or give this one another --data-dir`,
    );
    first.release();
    const second = lockDataDir(join(dir, 'data'));
    second.release();
  });

  it('opens an in-memory store', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    open.push(store);
    expect(await store.readState()).toEqual({ spec: { edges: [], sites: [] }, revision: 0 });
  });

  it('reads PostgreSQL URLs and refuses other schemes with a typed error that hides the URL', () => {
    const url = 'postgres://outpost:s3cret@db.example.com/outpost';
    expect(parseStoreUrl(url)).toEqual({ kind: 'postgres', url });
    expect(() => parseStoreUrl('postgres://u:s3cret@db.example.com/')).toThrow(
      /^the PostgreSQL store URL needs a host and a database name/,
    );
    expect(() => parseStoreUrl('postgres://u:s3cret@db.example.com/')).not.toThrow(/s3cret/);
    expect(() => parseStoreUrl('mysql://u:p@h/db')).toThrow(/"mysql:" are not supported/);
    expect(() => parseStoreUrl('mysql://u:s3cret@h/db')).not.toThrow(/s3cret/);
    expect(() => parseStoreUrl('/var/lib/outpost.db')).toThrow(UnsupportedStoreError);
    expect(parseStoreUrl('sqlite:///var/lib/outpost/outpost.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/outpost/outpost.db',
    });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });
});

describe('desired state', () => {
  it('round-trips a full spec in order through a reopen', async () => {
    const full = parseSpecYaml(EXAMPLE);
    full.dns = {
      provider: 'powerdns',
      api_url: 'http://127.0.0.1:8081',
      api_key: 'env:PDNS_KEY',
      server_id: 'localhost',
      nameservers: ['ns1.example.com'],
    };
    full.acme = { email: 'ops@example.com', directory_url: 'https://127.0.0.1:14000/dir' };
    expect(full.edges.map((e) => e.name)).toEqual(['hk1', 'fra1']);

    const store = await openAt();
    await store.writeState(full, apply);
    await store.close();
    const reopened = await openAt();
    const state = await reopened.readState();
    expect(state.revision).toBe(1);
    expect(state.spec).toEqual(full);
    expect(state.spec.edges.map((e) => e.name)).toEqual(['hk1', 'fra1']);
    expect(state.spec.sites[0]?.modifiers[0]?.name).toBe('large-files');
  });

  it('applies schema defaults to stored entries on read', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), apply);
    // An entry stored before a field had a default (simulated by removing it from the JSON).
    const raw = new Database(file);
    const row = raw.prepare("select spec from edges where name = 'hk1'").get() as { spec: string };
    const json = JSON.parse(row.spec) as Record<string, unknown>;
    delete json.proxy;
    raw.prepare("update edges set spec = ? where name = 'hk1'").run(JSON.stringify(json));
    raw.close();
    expect((await store.readState()).spec.edges[0]?.proxy).toBe('nginx');
  });

  it('keeps created_at and the token hash of an edge that changes', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), apply, {
      edgeTokenHashes: { hk1: sha256('t1') },
    });
    const before = rawRow('hk1');
    await store.writeState(spec([edge('hk1', '203.0.113.10', { tags: ['asia'] })]), apply, {
      edgeTokenHashes: { hk1: sha256('other') },
    });
    const after = rawRow('hk1');
    expect(after.token_hash).toBe(sha256('t1'));
    expect(after.created_at).toBe(before.created_at);
    expect(JSON.parse(after.spec)).toMatchObject({ tags: ['asia'] });
    const [event] = await store.listEvents({ limit: 1 });
    expect(event?.detail.changes).toEqual([
      { kind: 'edge', key: 'hk1', op: 'update', fields: ['tags'] },
    ]);
  });

  it('sees writes of another connection to the same file', async () => {
    const a = await openAt();
    const b = await openAt();
    await a.writeState(spec([edge('hk1', '203.0.113.10')]), apply);
    await expect(
      b.writeState(spec([edge('fra1', '198.51.100.20')]), apply, { expectRevision: 0 }),
    ).rejects.toThrow(RevisionConflictError);
    expect((await b.readState()).spec.edges.map((e) => e.name)).toEqual(['hk1']);
  });

  it('shares one frozen state per revision, re-parsing only what another connection changed', async () => {
    const a = await openAt();
    const b = await openAt();
    const sites = [site('a.example'), site('b.example'), site('c.example')];
    await a.writeState(spec([edge('hk1', '203.0.113.10')], sites), apply);
    const first = await b.readSharedState();
    expect(Object.isFrozen(first.spec.sites[0]?.origins[0])).toBe(true);
    expect(() => first.spec.sites.pop()).toThrow(TypeError);
    expect(await b.readSharedState()).toBe(first);
    // readState's copy is the caller's to edit.
    const copy = await b.readState();
    copy.spec.sites.pop();
    expect((await b.readSharedState()).spec.sites).toHaveLength(3);

    // A writes one site: B sees the revision, and the two others are the objects it had.
    const changed = [sites[0]!, site('b.example', { dns_ttl: 120 }), sites[2]!];
    await a.writeState(spec([edge('hk1', '203.0.113.10')], changed), apply);
    const second = await b.readSharedState();
    expect(second.revision).toBe(2);
    expect(second.spec.sites[0]).toBe(first.spec.sites[0]);
    expect(second.spec.sites[1]).not.toBe(first.spec.sites[1]);
    expect(second.spec.sites[1]?.dns_ttl).toBe(120);
    expect(second.spec.sites[2]).toBe(first.spec.sites[2]);
    expect(second.spec.edges[0]).toBe(first.spec.edges[0]);

    // B's own write: its next read is the state it wrote, unchanged entries still the same.
    await b.writeState(spec([edge('hk1', '203.0.113.10')], changed.slice(0, 2)), apply);
    const third = await b.readSharedState();
    expect(third.revision).toBe(3);
    expect(third.spec.sites.map((x) => x.domain)).toEqual(['a.example', 'b.example']);
    expect(third.spec.sites[0]).toBe(first.spec.sites[0]);
    expect(third.spec.sites[1]).toBe(second.spec.sites[1]);
    expect(await a.readState()).toEqual(structuredClone(third));
  });

  it('a read of the shared state while a write of the same store runs answers (no lost cache)', async () => {
    // Found by bench:control-plane on PostgreSQL: /v1/status read the shared state while an
    // apply wrote it; the write dropped the cache during the read's revision query, and the
    // read dereferenced it (TypeError, HTTP 500).
    const a = await openAt();
    await a.writeState(spec([edge('hk1', '203.0.113.10')], [site('a.example')]), apply);
    const before = await a.readSharedState();
    const [read, written] = await Promise.all([
      a.readSharedState(),
      a.writeState(spec([edge('hk1', '203.0.113.10')], [site('b.example')]), apply),
    ]);
    expect([before.revision, written.revision]).toContain(read.revision);
    expect((await a.readSharedState()).spec.sites.map((x) => x.domain)).toEqual(['b.example']);
  });
});

describe('edge tokens', () => {
  const token = 'opt_edge_hk1_Zx9QmV3pL7wR2tY8uK4nB6cD';
  const hash = sha256(token);
  it('keeps only the hash at rest', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), apply, {
      edgeTokenHashes: { hk1: hash },
    });
    expect(await store.findEdgeByTokenHash(hash)).toBe('hk1');
    expect(await store.edgeHasToken('hk1')).toBe(true);

    const bytes = () =>
      Buffer.concat(
        [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
      ).toString('latin1');
    expect(bytes()).toContain(hash);
    expect(bytes()).not.toContain(token);
    await store.close();
    // After the last connection closes, SQLite checkpoints the WAL into the file.
    expect(readFileSync(file).toString('latin1')).toContain(hash);
    expect(bytes()).not.toContain(token);

    const again = await openAt();
    const events = JSON.stringify(await again.listEvents());
    expect(events).not.toContain(hash);
  });

  it('rotates and revokes', async () => {
    const store = await openAt();
    await store.writeState(
      spec([edge('hk1', '203.0.113.10'), edge('fra1', '198.51.100.20')]),
      apply,
      {
        edgeTokenHashes: { hk1: hash },
      },
    );
    expect(await store.edgeHasToken('fra1')).toBe(false);
    expect([...(await store.edgesWithToken())]).toEqual(['hk1']);
    const rotate = { actor: 'admin', action: 'edge.token.rotate', subject: 'fra1', detail: {} };
    expect(await store.setEdgeTokenHash('fra1', sha256('new'), rotate)).toBe(true);
    expect(await store.findEdgeByTokenHash(sha256('new'))).toBe('fra1');

    const revoke = { actor: 'admin', action: 'edge.token.revoke', subject: 'hk1', detail: {} };
    expect(await store.setEdgeTokenHash('hk1', null, revoke)).toBe(true);
    expect(await store.findEdgeByTokenHash(hash)).toBeUndefined();
    expect(await store.edgeHasToken('hk1')).toBe(false);
    expect([...(await store.edgesWithToken())]).toEqual(['fra1']);
    expect(rawRow('hk1').token_hash).toBeNull();

    expect(await store.setEdgeTokenHash('nope', hash, revoke)).toBe(false);
    // Token changes are not changes of desired state.
    expect((await store.readState()).revision).toBe(1);
    const events = await store.listEvents();
    expect(events.map((e) => [e.actor, e.action, e.subject])).toEqual([
      ['admin', 'edge.token.revoke', 'hk1'],
      ['admin', 'edge.token.rotate', 'fra1'],
      ['cli', 'spec.apply', ''],
    ]);
  });
});

function rawRow(name: string): { token_hash: string | null; created_at: string; spec: string } {
  const raw = new Database(file, { readonly: true });
  try {
    return raw
      .prepare('select token_hash, created_at, spec from edges where name = ?')
      .get(name) as {
      token_hash: string | null;
      created_at: string;
      spec: string;
    };
  } finally {
    raw.close();
  }
}

describe('purges', () => {
  it('names the purge and the field when a stored job is damaged', async () => {
    const store = await openAt();
    const ev = { actor: 'admin', action: 'purge.create', subject: 'shop.test', detail: {} };
    const job = { site: 'shop.test', hosts: ['shop.test'], tag_headers: [], created_at: 'now' };
    const p = await store.createPurge({ ...job, request: { kind: 'all' } }, ['a'], ev);
    const raw = new Database(file);
    const damage = (text: string) =>
      raw.prepare('update purges set job = ? where id = ?').run(text, p.job.id);
    damage(JSON.stringify({ ...job, site: 7, request: { kind: 'all' } }));
    await expect(store.getPurge(p.job.id)).rejects.toThrow(
      `the stored purge ${p.job.id} does not match its schema at site:`,
    );
    damage('{');
    await expect(store.pendingPurges('a')).rejects.toThrow(
      `the stored purge ${p.job.id} is not valid JSON`,
    );
    damage('[]');
    await expect(store.getPurge(p.job.id)).rejects.toThrow(
      `the stored purge ${p.job.id} is not a JSON object`,
    );
    raw.close();
  });
});
