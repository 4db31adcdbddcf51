// The store's contract: every behaviour the capabilities rely on, run against every store the
// factory list names: SQLite (in memory) and PostgreSQL (a real server from Debian's packages,
// started by test/support/postgres.ts, a new database per store). Dialect-specific behaviour
// (files, modes, the WAL, damaged rows) is in store.test.ts.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  Edge,
  emptyEdgePoint,
  emptySitePoint,
  HOUR_POINT,
  MINUTE_POINT,
  Site,
  SpecError,
  type EdgePoint,
  type SitePoint,
  type Spec,
} from '../spec/index.js';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import {
  RevisionConflictError,
  openStore,
  type NewAuditEvent,
  type ProbeObservation,
  type Store,
} from './index.js';

/** A way to get a new, empty, migrated store. */
export interface StoreFactory {
  name: string;
  makeStore: () => Promise<Store>;
  /** Stops what makeStore started (a server). */
  teardown?: () => Promise<void>;
}

let postgres: Promise<TestPostgres> | undefined;
let databases = 0;

export const STORE_FACTORIES: readonly StoreFactory[] = [
  { name: 'sqlite', makeStore: () => openStore({ url: 'sqlite::memory:' }) },
  {
    name: 'postgres',
    makeStore: async () => {
      postgres ??= startPostgres();
      const url = await (await postgres).createDatabase(`contract_${++databases}`);
      return openStore({ url });
    },
    teardown: async () => {
      if (postgres !== undefined) await (await postgres).stop();
      postgres = undefined;
    },
  },
];

const apply: NewAuditEvent = { actor: 'cli', action: 'spec.apply', subject: '', detail: {} };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const edge = (name: string, v4: string, extra: Partial<Edge> = {}): Edge =>
  Edge.parse({ name, host: { v4 }, ...extra });
const site = (domain: string, extra: Record<string, unknown> = {}): Site =>
  Site.parse({ domain, origins: [{ host: { v4: '192.0.2.1' } }], ...extra });
const spec = (edges: Edge[], sites: Site[] = []): Spec => ({ edges, sites });

describe.each(STORE_FACTORIES)('store contract ($name)', ({ makeStore, teardown }) => {
  const open: Store[] = [];
  afterAll(async () => teardown?.());
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

    it('serializes concurrent writes: each gets its own revision, none is lost', async () => {
      const store = await openAt();
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          store.writeState(spec([edge(`e${i}`, `203.0.113.${i}`)]), apply),
        ),
      );
      expect(results.map((r) => r.revision).sort()).toEqual([1, 2, 3, 4, 5]);
      expect((await store.readState()).revision).toBe(5);
      expect(await store.listEvents()).toHaveLength(5);
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
      await expect(store.setEdgeTokenHash('fra1', hash, ev)).rejects.toThrow(
        /UNIQUE|unique constraint/,
      );
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

    it('saves several edges’ releases in one transaction: all of them or none', async () => {
      const store = await openAt();
      await store.saveBundle(bundle('a', 1), 2);
      await store.saveBundle(bundle('a', 2), 2);
      const saved = await store.saveBundles([bundle('a', 3), bundle('b', 1), bundle('c', 1)], 2);
      expect(saved.map((b) => [b.edge, b.release])).toEqual([
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ]);
      expect((await store.keptBundles()).map((b) => [b.edge, b.release])).toEqual([
        ['a', 2],
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ]);
      // One release already stored (b 1): nothing of the batch is written.
      await expect(store.saveBundles([bundle('a', 4), bundle('b', 1)], 2)).rejects.toThrow();
      expect((await store.latestBundles()).map((b) => [b.edge, b.release])).toEqual([
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ]);
      expect(await store.saveBundles([])).toEqual([]);
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

  describe('probe observations (several control planes)', () => {
    const round = (instance: string, at: string, freshUntil: string) => ({
      instance,
      at,
      freshUntil,
      changed: [] as ProbeObservation[],
      removed: [] as string[],
      forgetBefore: '2026-01-01T00:00:00.000Z',
    });
    it('keeps the changed states of each observer, hides stale ones and forgets old ones', async () => {
      const store = await openAt();
      const down = { target: 'edge:e1', state: 'down' as const, reason: 'timeout', since: 't0' };
      await store.saveProbeRound({
        ...round('a', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:10.000Z'),
        changed: [down, { target: 'edge:e2', state: 'up', reason: null, since: 't0' }],
      });
      await store.saveProbeRound({
        ...round('b', '2026-06-01T00:00:01.000Z', '2026-06-01T00:00:20.000Z'),
        changed: [{ target: 'edge:e1', state: 'up', reason: null, since: 't1' }],
      });
      // A later round of a writes only what changed: e1 up again, e2 gone; its heartbeat moves.
      await store.saveProbeRound({
        ...round('a', '2026-06-01T00:00:05.000Z', '2026-06-01T00:00:15.000Z'),
        changed: [{ ...down, state: 'up', reason: null, since: 't2' }],
        removed: ['edge:e2'],
      });
      const at = (t: string) => store.freshProbeObservations(t, 'c');
      expect(await at('2026-06-01T00:00:12.000Z')).toEqual([
        {
          instance: 'a',
          freshUntil: '2026-06-01T00:00:15.000Z',
          observations: [{ target: 'edge:e1', state: 'up', reason: null, since: 't2' }],
        },
        {
          instance: 'b',
          freshUntil: '2026-06-01T00:00:20.000Z',
          observations: [{ target: 'edge:e1', state: 'up', reason: null, since: 't1' }],
        },
      ]);
      // a is stale at 16 s; b never lists itself.
      expect((await at('2026-06-01T00:00:16.000Z')).map((o) => o.instance)).toEqual(['b']);
      expect(
        (await store.freshProbeObservations('2026-06-01T00:00:12.000Z', 'b')).map(
          (o) => o.instance,
        ),
      ).toEqual(['a']);
      // b's round forgets observers stale before its horizon, rows and all.
      await store.saveProbeRound({
        ...round('b', '2026-06-01T00:01:00.000Z', '2026-06-01T00:01:10.000Z'),
        forgetBefore: '2026-06-01T00:00:30.000Z',
      });
      await store.saveProbeRound({
        ...round('a', '2026-06-01T00:01:00.000Z', '2026-06-01T00:01:10.000Z'),
      });
      expect((await at('2026-06-01T00:01:01.000Z'))[0]?.observations).toEqual([]);
      await store.dropProbeObserver('b');
      expect((await at('2026-06-01T00:01:01.000Z')).map((o) => o.instance)).toEqual(['a']);
    });
  });

  describe('log answers between control planes', () => {
    it('are taken once, and old ones go with the next write', async () => {
      const store = await openAt();
      const put = (id: string, at: string, forgetBefore: string) =>
        store.putLogAnswer({ id, edge: 'e1', answer: `{"id":"${id}"}`, at, forgetBefore });
      await put('old', '2026-06-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      await put('new', '2026-06-01T00:05:00.000Z', '2026-06-01T00:04:00.000Z');
      expect(await store.takeLogAnswer('old')).toBeUndefined();
      expect(await store.takeLogAnswer('new')).toEqual({ edge: 'e1', answer: '{"id":"new"}' });
      expect(await store.takeLogAnswer('new')).toBeUndefined();
    });
  });

  describe('notification channels and tracked alerts', () => {
    const ev = (action: string, subject: string): NewAuditEvent => ({
      actor: 'admin',
      action,
      subject,
      detail: {},
    });
    const hook = {
      name: 'ops',
      settings: { type: 'webhook' as const, url: 'http://127.0.0.1:9/hook' },
      secret: 'a-signing-secret-of-some-length',
      kinds: ['edge_down' as const],
      min_severity: 'critical' as const,
    };

    it('creates once per name, lists without secrets, opens the secret for delivery, deletes', async () => {
      const store = await openAt();
      expect(await store.createChannel(hook, ev('alerts.channel.add', 'ops'))).toBe(true);
      expect(await store.createChannel(hook, ev('alerts.channel.add', 'ops'))).toBe(false);
      const [listed] = await store.listChannels();
      expect(listed).toMatchObject({
        name: 'ops',
        settings: hook.settings,
        secret: null,
        has_secret: true,
      });
      expect(listed?.kinds).toEqual(['edge_down']);
      expect(listed?.min_severity).toBe('critical');
      expect((await store.getChannel('ops'))?.secret).toBe(hook.secret);
      expect(await store.getChannel('nope')).toBeUndefined();

      await store.recordDelivery('ops', '2026-01-01T00:00:00.000Z', null);
      await store.recordDelivery('ops', '2026-01-01T00:01:00.000Z', 'HTTP 500');
      expect(await store.getChannel('ops')).toMatchObject({
        last_sent_at: '2026-01-01T00:00:00.000Z',
        last_error: 'HTTP 500',
      });

      expect(await store.deleteChannel('ops', ev('alerts.channel.rm', 'ops'))).toBe(true);
      expect(await store.deleteChannel('ops', ev('alerts.channel.rm', 'ops'))).toBe(false);
      expect(await store.listChannels()).toEqual([]);
      expect((await store.listEvents()).map((e) => e.action)).toEqual([
        'alerts.channel.rm',
        'alerts.channel.add',
      ]);
    });

    it('re-seals channel secrets with a rotated key', async () => {
      const store = await openAt();
      await store.createChannel(hook, ev('alerts.channel.add', 'ops'));
      const { SecretBox } = await import('./secret-box.js');
      const { randomBytes } = await import('node:crypto');
      expect(
        await store.rotateSecrets(new SecretBox(randomBytes(32)), ev('secrets.rotate-key', '')),
      ).toBeGreaterThanOrEqual(1);
      expect((await store.getChannel('ops'))?.secret).toBe(hook.secret);
    });

    it('replaces the tracked alerts as a whole', async () => {
      const store = await openAt();
      const a = {
        id: 'edge_down:fra1',
        kind: 'edge_down' as const,
        severity: 'critical' as const,
        subject: 'fra1',
        message: 'edge fra1 has not reported for 31 s',
        first_seen: '2026-01-01T00:00:00.000Z',
        fired_at: null,
        cleared_at: null,
      };
      await store.saveTrackedAlerts([a, { ...a, id: 'edge_down:hk1', subject: 'hk1' }]);
      expect((await store.listTrackedAlerts()).map((t) => t.id)).toEqual([
        'edge_down:fra1',
        'edge_down:hk1',
      ]);
      await store.saveTrackedAlerts([{ ...a, fired_at: '2026-01-01T00:00:30.000Z' }]);
      expect(await store.listTrackedAlerts()).toEqual([
        { ...a, fired_at: '2026-01-01T00:00:30.000Z' },
      ]);
      await store.saveTrackedAlerts([]);
      expect(await store.listTrackedAlerts()).toEqual([]);
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

  describe('history', () => {
    const T0 = 1_764_590_400; // 2025-12-01T12:00:00Z, a whole hour
    const edgePoint = (edge: string, t: number, extra: Partial<EdgePoint> = {}): EdgePoint => ({
      ...emptyEdgePoint(edge, t),
      ...extra,
    });

    it('adds points into their bucket: counts add, gauges average by their sample counts', async () => {
      const store = await openAt();
      await store.addHistory(
        MINUTE_POINT,
        [
          edgePoint('hk1', T0, {
            up: 3,
            requests: 10,
            res_n: 1,
            cpu: 20,
            latency_ms: 10,
            latency_n: 1,
          }),
        ],
        [],
      );
      await store.addHistory(
        MINUTE_POINT,
        [
          edgePoint('hk1', T0, {
            up: 2,
            down: 1,
            requests: 5,
            res_n: 3,
            cpu: 40,
            latency_ms: 40,
            latency_n: 2,
          }),
        ],
        [],
      );
      const [p] = await store.readEdgeHistory({ resolution: MINUTE_POINT, from: T0, to: T0 + 60 });
      expect(p).toMatchObject({ edge: 'hk1', t: T0, up: 5, down: 1, requests: 15, res_n: 4 });
      expect(p?.cpu).toBeCloseTo(35); // (20 x 1 + 40 x 3) / 4
      expect(p?.latency_ms).toBeCloseTo(30); // (10 + 40 x 2) / 3
      expect(p?.mem_used).toBeNull();
      // Another width is another series.
      expect(await store.readEdgeHistory({ resolution: HOUR_POINT, from: 0, to: T0 * 2 })).toEqual(
        [],
      );
    });

    it('keeps site points with status classes and cache statuses; reads a range, one site or all', async () => {
      const store = await openAt();
      const site = (name: string, t: number): SitePoint => {
        const p = emptySitePoint(name, t);
        p.requests = 4;
        p.status['2xx'] = 3;
        p.status['5xx'] = 1;
        p.cache.HIT = 2;
        p.cache.MISS = 2;
        return p;
      };
      await store.putHistory(
        MINUTE_POINT,
        [],
        [site('a.test', T0), site('a.test', T0 + 60), site('b.test', T0)],
      );
      await store.addHistory(MINUTE_POINT, [], [site('a.test', T0)]);
      const a = await store.readSiteHistory({
        resolution: MINUTE_POINT,
        from: T0,
        to: T0 + 120,
        site: 'a.test',
      });
      expect(a.map((p) => [p.t, p.requests, p.status['5xx'], p.cache.HIT])).toEqual([
        [T0, 8, 2, 4],
        [T0 + 60, 4, 1, 2],
      ]);
      const all = await store.readSiteHistory({ resolution: MINUTE_POINT, from: T0, to: T0 + 60 });
      expect(all.map((p) => p.site)).toEqual(['a.test', 'b.test']);
      expect(await store.latestHistoryBucket(MINUTE_POINT)).toBe(T0 + 60);
      expect(await store.latestHistoryBucket(HOUR_POINT)).toBeUndefined();
    });

    it('prunes buckets older than a time, per width', async () => {
      const store = await openAt();
      await store.putHistory(MINUTE_POINT, [edgePoint('hk1', T0), edgePoint('hk1', T0 + 60)], []);
      await store.putHistory(HOUR_POINT, [edgePoint('hk1', T0)], []);
      expect(await store.pruneHistory(MINUTE_POINT, T0 + 60)).toBe(1);
      expect(
        (await store.readEdgeHistory({ resolution: MINUTE_POINT, from: 0, to: T0 * 2 })).map(
          (p) => p.t,
        ),
      ).toEqual([T0 + 60]);
      expect(
        await store.readEdgeHistory({ resolution: HOUR_POINT, from: 0, to: T0 * 2 }),
      ).toHaveLength(1);
    });

    it('opens one incident per subject until it is closed, and lists what touched a period', async () => {
      const store = await openAt();
      const first = await store.openIncident(
        'edge',
        'hk1',
        '2026-12-01T10:00:00.000Z',
        'edge hk1 is down',
      );
      const again = await store.openIncident(
        'edge',
        'hk1',
        '2026-12-01T10:05:00.000Z',
        'still down',
      );
      expect(again.id).toBe(first.id);
      expect(again.message).toBe('edge hk1 is down');
      expect(await store.closeIncident('edge', 'hk1', '2026-12-01T10:07:00.000Z')).toBe(true);
      expect(await store.closeIncident('edge', 'hk1', '2026-12-01T10:08:00.000Z')).toBe(false);
      await store.openIncident('site', 'a.test', '2026-12-01T11:00:00.000Z', 'origins down');
      const list = await store.listIncidents({ since: '2026-12-01T00:00:00.000Z' });
      expect(list.map((i) => [i.kind, i.subject, i.ended_at])).toEqual([
        ['site', 'a.test', null],
        ['edge', 'hk1', '2026-12-01T10:07:00.000Z'],
      ]);
      expect(
        await store.listIncidents({ since: '2026-12-01T10:30:00.000Z', kind: 'edge' }),
      ).toEqual([]);
      expect(await store.pruneIncidents('2026-12-01T10:30:00.000Z')).toBe(1);
      expect(await store.listIncidents({ since: '2000-01-01T00:00:00.000Z' })).toHaveLength(1);
    });
  });
});
