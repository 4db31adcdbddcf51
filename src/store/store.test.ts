import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Edge, Site, parseSpecYaml, SpecError, type Spec } from '../spec/index.js';
import {
  RevisionConflictError,
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
          'edge_status',
          'edges',
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
      expect(rows).toHaveLength(4);
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

  it('opens an in-memory store', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    open.push(store);
    expect(await store.readState()).toEqual({ spec: { edges: [], sites: [] }, revision: 0 });
  });

  it('refuses PostgreSQL and other schemes with a typed error that hides the URL', async () => {
    const url = 'postgres://outpost:s3cret@db.example.com/outpost';
    await expect(openStore({ url })).rejects.toThrow(UnsupportedStoreError);
    await expect(openStore({ url })).rejects.toThrow(/^PostgreSQL is not supported yet/);
    await expect(openStore({ url })).rejects.not.toThrow(/s3cret/);
    expect(() => parseStoreUrl('mysql://u:p@h/db')).toThrow(/"mysql:" are not supported/);
    expect(() => parseStoreUrl('/var/lib/outpost.db')).toThrow(UnsupportedStoreError);
    expect(parseStoreUrl('sqlite:///var/lib/outpost/outpost.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/outpost/outpost.db',
    });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });
});

describe('desired state', () => {
  it('starts at revision 0, bumps by one per change and not on a no-op', async () => {
    const store = await openAt();
    expect((await store.readState()).revision).toBe(0);

    const one = spec([edge('hk1', '203.0.113.10')]);
    expect(await store.writeState(one, apply)).toEqual({ revision: 1, changed: true });
    expect(await store.writeState(one, apply)).toEqual({ revision: 1, changed: false });
    expect((await store.listEvents()).length).toBe(1);

    const two = spec([edge('hk1', '203.0.113.11')], [site('a.example.com')]);
    expect(await store.writeState(two, apply)).toEqual({ revision: 2, changed: true });
    expect((await store.readState()).revision).toBe(2);
  });

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

  it('deletes removed sites and edges and bumps once for the write', async () => {
    const store = await openAt();
    const full = spec(
      [edge('hk1', '203.0.113.10'), edge('fra1', '198.51.100.20')],
      [site('a.example.com'), site('b.example.com')],
    );
    await store.writeState(full, apply);
    const result = await store.writeState(
      spec([edge('fra1', '198.51.100.20')], [site('b.example.com')]),
      apply,
    );
    expect(result).toEqual({ revision: 2, changed: true });
    const { spec: now } = await store.readState();
    expect(now.edges.map((e) => e.name)).toEqual(['fra1']);
    expect(now.sites.map((s) => s.domain)).toEqual(['b.example.com']);
    const [event] = await store.listEvents({ limit: 1 });
    expect(event?.detail.changes).toEqual([
      { kind: 'edge', key: 'hk1', op: 'delete', fields: [] },
      { kind: 'site', key: 'a.example.com', op: 'delete', fields: [] },
    ]);
    expect(event?.detail.reordered).toBeUndefined();
  });

  it('stores a new order without bumping the revision', async () => {
    const store = await openAt();
    const a = edge('a', '203.0.113.1');
    const b = edge('b', '203.0.113.2');
    await store.writeState(spec([a, b]), apply);
    expect(await store.writeState(spec([b, a]), apply)).toEqual({ revision: 1, changed: false });
    const state = await store.readState();
    expect(state.spec.edges.map((e) => e.name)).toEqual(['b', 'a']);
    expect(state.revision).toBe(1);
    const [event] = await store.listEvents({ limit: 1 });
    expect(event?.detail).toMatchObject({ revision: 1, changes: [], reordered: ['edges'] });
    // The same order again writes nothing.
    expect(await store.writeState(spec([b, a]), apply)).toEqual({ revision: 1, changed: false });
    expect(await store.listEvents()).toHaveLength(2);
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

  it('fails on a revision conflict and writes nothing', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), apply, { expectRevision: 0 });
    const attempt = store.writeState(spec([edge('fra1', '198.51.100.20')]), apply, {
      expectRevision: 0,
    });
    await expect(attempt).rejects.toThrow(RevisionConflictError);
    await expect(attempt).rejects.toMatchObject({ expected: 0, actual: 1 });
    const state = await store.readState();
    expect(state.revision).toBe(1);
    expect(state.spec.edges.map((e) => e.name)).toEqual(['hk1']);
    expect(await store.listEvents()).toHaveLength(1);
    expect(
      await store.writeState(spec([edge('fra1', '198.51.100.20')]), apply, { expectRevision: 1 }),
    ).toEqual({ revision: 2, changed: true });
  });

  it('rejects a state that does not validate', async () => {
    const store = await openAt();
    const twice = spec([edge('hk1', '203.0.113.10'), edge('hk1', '203.0.113.11')]);
    await expect(store.writeState(twice, apply)).rejects.toThrow(SpecError);
    expect((await store.readState()).revision).toBe(0);
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
    const rotate = { actor: 'admin', action: 'edge.token.rotate', subject: 'fra1', detail: {} };
    expect(await store.setEdgeTokenHash('fra1', sha256('new'), rotate)).toBe(true);
    expect(await store.findEdgeByTokenHash(sha256('new'))).toBe('fra1');

    const revoke = { actor: 'admin', action: 'edge.token.revoke', subject: 'hk1', detail: {} };
    expect(await store.setEdgeTokenHash('hk1', null, revoke)).toBe(true);
    expect(await store.findEdgeByTokenHash(hash)).toBeUndefined();
    expect(await store.edgeHasToken('hk1')).toBe(false);
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

  it('refuses a hash that another edge already has', async () => {
    const store = await openAt();
    await store.writeState(
      spec([edge('hk1', '203.0.113.10'), edge('fra1', '198.51.100.20')]),
      apply,
      {
        edgeTokenHashes: { hk1: hash },
      },
    );
    const ev = { actor: 'admin', action: 'edge.token.rotate', subject: 'fra1', detail: {} };
    await expect(store.setEdgeTokenHash('fra1', hash, ev)).rejects.toThrow(/UNIQUE/);
    expect(await store.findEdgeByTokenHash(hash)).toBe('hk1');
    expect(await store.listEvents()).toHaveLength(1);
  });
});

describe('settings and events', () => {
  it('gets and replaces settings', async () => {
    const store = await openAt();
    expect(await store.getSetting('admin_token_hash')).toBeUndefined();
    await store.setSetting('admin_token_hash', 'h1');
    await store.setSetting('admin_token_hash', 'h2');
    expect(await store.getSetting('admin_token_hash')).toBe('h2');
    expect((await store.readState()).revision).toBe(0);
  });

  it('lists events newest first, with paging', async () => {
    const store = await openAt();
    for (let i = 1; i <= 5; i++) {
      await store.appendEvent({
        actor: 'system',
        action: 'test.tick',
        subject: `s${i}`,
        detail: { i },
      });
    }
    const all = await store.listEvents();
    expect(all.map((e) => e.subject)).toEqual(['s5', 's4', 's3', 's2', 's1']);
    expect(all[0]?.detail).toEqual({ i: 5 });
    expect(Date.parse(all[0]?.at ?? '')).not.toBeNaN();
    const page = await store.listEvents({ limit: 2, beforeId: all[1]?.id });
    expect(page.map((e) => e.subject)).toEqual(['s3', 's2']);
    await expect(store.listEvents({ limit: 0 })).rejects.toThrow(RangeError);
  });

  it('records each write of the state with actor, action and the changes', async () => {
    const store = await openAt();
    await store.writeState(spec([edge('hk1', '203.0.113.10')]), {
      actor: 'admin',
      action: 'edge.create',
      subject: 'hk1',
      detail: { via: 'api' },
    });
    await store.writeState(spec([edge('hk1', '203.0.113.10')], [site('a.example.com')]), apply);
    const events = await store.listEvents();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      actor: 'admin',
      action: 'edge.create',
      subject: 'hk1',
      detail: {
        via: 'api',
        revision: 1,
        changes: [{ kind: 'edge', key: 'hk1', op: 'create', fields: [] }],
      },
    });
    expect(events[0]).toMatchObject({
      actor: 'cli',
      action: 'spec.apply',
      detail: { revision: 2, changes: [{ kind: 'site', key: 'a.example.com', op: 'create' }] },
    });
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

describe('bundles and edge reports', () => {
  const bundle = (edgeName: string, release: number) => ({
    edge: edgeName,
    release,
    revision: release + 10,
    content_key: `k${release}`,
    hash: sha256(`${edgeName}${release}`),
    body: `{"release":${release}}`,
  });

  it('keeps the newest releases per edge and finds the latest of each', async () => {
    const store = await openAt();
    for (let r = 1; r <= 4; r++) await store.saveBundle(bundle('a', r), 2);
    await store.saveBundle(bundle('b', 1), 2);
    expect((await store.latestBundle('a'))?.release).toBe(4);
    expect((await store.latestBundles()).map((b) => [b.edge, b.release, b.revision])).toEqual([
      ['a', 4, 14],
      ['b', 1, 11],
    ]);
    expect(await store.latestBundle('none')).toBeUndefined();
    // Only releases 3 and 4 of "a" remain: a duplicate of release 2 is accepted again.
    await expect(store.saveBundle(bundle('a', 4))).rejects.toThrow();
    await store.saveBundle(bundle('a', 2));
  });

  it('replaces an edge report and keeps when it was seen', async () => {
    const store = await openAt();
    await store.saveEdgeReport('a', { applied_release: 1 });
    const second = await store.saveEdgeReport('a', { applied_release: 2 });
    const reports = await store.listEdgeReports();
    expect(reports).toEqual([
      { edge: 'a', report: { applied_release: 2 }, last_seen: second.last_seen },
    ]);
  });
});

describe('certificates', () => {
  const cert = {
    domain: 'shop.test',
    source: 'acme' as const,
    names: ['shop.test', 'www.shop.test'],
    chain_pem: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
    key_pem: '-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n',
    issuer: 'Test CA',
    serial: '01',
    not_before: '2030-01-01T00:00:00.000Z',
    not_after: '2030-04-01T00:00:00.000Z',
  };
  const event: NewAuditEvent = {
    actor: 'system',
    action: 'certificate.attempt',
    subject: 'shop.test',
    detail: {},
  };

  it('stores, replaces and removes a certificate; lists never carry the key', async () => {
    const store = await openAt();
    const saved = await store.saveCertificate(cert, event);
    expect(saved).not.toHaveProperty('key_pem');
    await store.saveCertificate({ ...cert, serial: '02', source: 'upload' }, event);
    const listed = await store.listCertificates();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ serial: '02', source: 'upload', names: cert.names });
    expect(JSON.stringify(listed)).not.toContain('SECRET');
    expect(JSON.stringify(await store.getCertificate('shop.test'))).not.toContain('SECRET');
    expect(await store.certificateKey('shop.test')).toBe(cert.key_pem);
    expect(
      (await store.listEvents()).filter((e) => e.action === 'certificate.attempt'),
    ).toHaveLength(2);
    await store.saveCertificateRenewal({
      domain: 'shop.test',
      failures: 2,
      last_attempt_at: null,
      last_error: 'x',
      next_attempt_at: '2030-01-02T00:00:00.000Z',
    });
    expect(await store.listCertificateRenewals()).toEqual([
      {
        domain: 'shop.test',
        failures: 2,
        last_attempt_at: null,
        last_error: 'x',
        next_attempt_at: '2030-01-02T00:00:00.000Z',
      },
    ]);
    expect(await store.deleteCertificate('shop.test', event)).toBe(true);
    expect(await store.deleteCertificate('shop.test', event)).toBe(false);
    expect(await store.certificateKey('shop.test')).toBeUndefined();
    expect(await store.listCertificateRenewals()).toEqual([]);
  });

  it('serves an ACME challenge answer until it expires', async () => {
    const store = await openAt();
    const at = new Date('2030-01-01T00:00:00Z');
    await store.putAcmeChallenge({
      token: 't1',
      domain: 'shop.test',
      key_authorization: 't1.abc',
      expires_at: '2030-01-01T01:00:00.000Z',
    });
    expect((await store.getAcmeChallenge('t1', at))?.key_authorization).toBe('t1.abc');
    expect(await store.getAcmeChallenge('t1', new Date('2030-01-01T01:00:00Z'))).toBeUndefined();
    await store.deleteAcmeChallenge('t1', at);
    expect(await store.getAcmeChallenge('t1', at)).toBeUndefined();
  });
});

describe('purges', () => {
  it('keeps a job pending per edge until that edge reports it, oldest first', async () => {
    const store = await openAt();
    const ev = { actor: 'admin', action: 'purge.create', subject: 'shop.test', detail: {} };
    const base = {
      site: 'shop.test',
      hosts: ['shop.test'],
      tag_headers: ['cache-tag'],
      created_at: 'now',
    };
    const p1 = await store.createPurge({ ...base, request: { kind: 'all' } }, ['a', 'b'], ev);
    const p2 = await store.createPurge(
      { ...base, request: { kind: 'urls', paths: ['/x'] } },
      ['a'],
      ev,
    );
    expect(p1.job.id).toBeLessThan(p2.job.id);
    expect((await store.pendingPurges('a')).map((j) => j.id)).toEqual([p1.job.id, p2.job.id]);
    expect((await store.pendingPurges('b')).map((j) => j.request.kind)).toEqual(['all']);
    expect(
      await store.recordPurgeResult('a', { id: p1.job.id, ok: true, removed: 3, error: null }),
    ).toBe(true);
    expect(
      await store.recordPurgeResult('c', { id: p1.job.id, ok: true, removed: 0, error: null }),
    ).toBe(false);
    expect((await store.pendingPurges('a')).map((j) => j.id)).toEqual([p2.job.id]);
    const got = await store.getPurge(p1.job.id);
    expect(got?.edges.map((e) => [e.edge, e.state, e.removed])).toEqual([
      ['a', 'done', 3],
      ['b', 'pending', 0],
    ]);
    expect(got?.job).toMatchObject({ site: 'shop.test', request: { kind: 'all' } });
    expect((await store.listEvents({ limit: 1 }))[0]?.detail).toMatchObject({
      purge: p2.job.id,
      edges: ['a'],
    });
  });

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
