// The store's contract: every behaviour the capabilities rely on, run against every store the
// factory list names. Today that is SQLite (in memory); a PostgreSQL dialect joins by adding a
// factory here, and must pass the same suite. Dialect-specific behaviour (files, modes, the
// WAL, damaged rows) is in store.test.ts.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Edge, Site, SpecError, type Spec } from '../spec/index.js';
import { RevisionConflictError, openStore, type NewAuditEvent, type Store } from './index.js';

/** A way to get a new, empty, migrated store. */
export interface StoreFactory {
  name: string;
  makeStore: () => Promise<Store>;
}

export const STORE_FACTORIES: readonly StoreFactory[] = [
  { name: 'sqlite', makeStore: () => openStore({ url: 'sqlite::memory:' }) },
];

const apply: NewAuditEvent = { actor: 'cli', action: 'spec.apply', subject: '', detail: {} };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const edge = (name: string, v4: string, extra: Partial<Edge> = {}): Edge =>
  Edge.parse({ name, host: { v4 }, ...extra });
const site = (domain: string, extra: Record<string, unknown> = {}): Site =>
  Site.parse({ domain, origins: [{ host: { v4: '192.0.2.1' } }], ...extra });
const spec = (edges: Edge[], sites: Site[] = []): Spec => ({ edges, sites });

describe.each(STORE_FACTORIES)('store contract ($name)', ({ makeStore }) => {
  const open: Store[] = [];
  const openAt = async (): Promise<Store> => {
    const store = await makeStore();
    open.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
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
  });

  describe('edge tokens', () => {
    const token = 'opt_edge_hk1_Zx9QmV3pL7wR2tY8uK4nB6cD';
    const hash = sha256(token);
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

    it('stores release file contents once by hash, reads them back and sweeps the rest', async () => {
      const store = await openAt();
      const blob = (text: string) => ({ sha256: sha256(text), content: Buffer.from(text) });
      const binary = { sha256: sha256('bin'), content: Buffer.from([0, 255, 1, 128]) };
      await store.putReleaseFiles([blob('one'), blob('two'), binary]);
      // A hash already stored is left as it is (no error, no second copy).
      await store.putReleaseFiles([blob('one')]);
      const many = Array.from({ length: 1200 }, (_, i) => blob(`file ${i}`));
      await store.putReleaseFiles(many);
      const got = await store.releaseFiles([sha256('one'), binary.sha256, sha256('absent')]);
      expect([...got.keys()].sort()).toEqual([sha256('one'), binary.sha256].sort());
      expect(got.get(binary.sha256)).toEqual(binary.content);
      expect((await store.releaseFiles(many.map((m) => m.sha256))).size).toBe(1200);
      const keep = new Set([sha256('two'), ...many.slice(0, 10).map((m) => m.sha256)]);
      expect(await store.pruneReleaseFiles(keep)).toBe(1203 - 11);
      expect((await store.releaseFiles([sha256('one'), sha256('two')])).size).toBe(1);
      expect(await store.releaseFilesBytes()).toBe(
        3 + many.slice(0, 10).reduce((n, m) => n + m.content.length, 0),
      );
      await store.saveBundle(bundle('a', 1));
      await store.saveBundle(bundle('b', 1));
      expect((await store.keptBundles()).map((b) => [b.edge, b.release])).toEqual([
        ['a', 1],
        ['b', 1],
      ]);
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
  });

  describe('reads at one revision', () => {
    it('parse once, hand out copies, and see a new order written at the same revision', async () => {
      const store = await openAt();
      const two = spec([edge('hk1', '203.0.113.10'), edge('fra1', '198.51.100.20')]);
      await store.writeState(two, apply);
      const first = await store.readState();
      first.spec.edges.pop();
      expect((await store.readState()).spec.edges.map((e) => e.name)).toEqual(['hk1', 'fra1']);
      const reordered = await store.writeState(
        spec([edge('fra1', '198.51.100.20'), edge('hk1', '203.0.113.10')]),
        apply,
      );
      expect(reordered.changed).toBe(false);
      const after = await store.readState();
      expect(after.revision).toBe(first.revision);
      expect(after.spec.edges.map((e) => e.name)).toEqual(['fra1', 'hk1']);
    });
  });
});
