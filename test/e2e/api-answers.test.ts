// The answer schemas against the real server: an in-process control plane (Fastify inject,
// SQLite in memory), driven through its API into states that fill every field (an edge that
// reported traffic, a Caddy edge without a cache, an uploaded certificate, a failed ACME
// attempt, DNS zones at a GCore stand-in, a purge), and each answer parsed strictly with its
// schema. A field the server adds, drops or retypes fails here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import { selfSignedCertificate } from '../support/tls.js';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  ApiErrorAnswer,
  AttemptAnswer,
  CertificateDetail,
  CertificateList,
  CertificateUploaded,
  ChangeResult,
  Deleted,
  DnsApplyAnswer,
  DnsPlan,
  DnsStatus,
  EdgeAnswer,
  EdgeChanged,
  EdgeList,
  EdgePlanAnswer,
  EdgeStatus,
  EdgesHistory,
  EventList,
  Healthz,
  NewEdgeAnswer,
  PublicSiteStatus,
  PublicStatus,
  PublicStatusHistory,
  PurgeStatus,
  SiteAnswer,
  SiteChanged,
  SiteEdgesStatus,
  SiteHistory,
  SiteList,
  StateAnswer,
  StatusBadge,
  StatusSettings,
  StatusSnapshot,
  TokenAnswer,
  TokenRevoked,
} from '../../src/spec/api.js';
import type { SpecInput } from '../../src/spec/schema.js';
import {
  AlertList,
  ChannelAnswer,
  ChannelDeleted,
  ChannelList,
  ChannelTested,
} from '../../src/spec/notify.js';
import {
  emptyEdgePoint,
  emptySitePoint,
  HOUR_POINT,
  MINUTE_POINT,
} from '../../src/spec/history.js';
import { HttpReceiver } from '../support/receivers.js';

const GCORE_KEY = 'key$for$the$stand-in';
const SITE = 'shop.api.test';

describe('API answer schemas parse the real answers', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-api-'));
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let gcore: GcoreStandIn;
  let admin = '';
  let edgeToken = '';

  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${admin}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, body: res.json<unknown>() };
  };
  /** The answer parsed with `schema`; every issue listed (path and message) when it does not. */
  const parsed = <S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> => {
    const r = schema.safeParse(body);
    expect(r.success ? [] : r.error.issues).toEqual([]);
    return r.data as z.infer<S>;
  };
  const answer = async <S extends z.ZodTypeAny>(
    schema: S,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    status = 200,
  ): Promise<z.infer<S>> => {
    const res = await call(method, url, body);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    return parsed(schema, res.body);
  };

  const spec = (): SpecInput => ({
    edges: [
      {
        name: 'fra1',
        host: { v4: '127.0.0.2' },
        bandwidth_mbps: 100,
        tags: ['eu'],
        meta: { latlong: [50.11, 8.68], countries: ['DE'] },
      },
      { name: 'sgp1', host: { v4: '127.0.0.3' }, proxy: 'caddy' },
    ],
    sites: [
      {
        domain: SITE,
        aliases: [`www.${SITE}`],
        // Nothing listens there: probes fail, on loopback.
        origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
        health_check: { uri: `http://${SITE}/healthz` },
        tls: { acme: false },
      },
      {
        domain: 'acme.api.test',
        origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
        edges: ['tag:eu'],
      },
    ],
    dns: { provider: 'gcore', api_token: 'env:GCORE_KEY', api_url: gcore.apiUrl },
    // No CA listens there: issuing fails at once, and says why.
    acme: { email: 'ops@api.test', directory_url: 'http://127.0.0.1:9/directory' },
  });

  beforeAll(async () => {
    gcore = await startGcoreApi({ apiKey: GCORE_KEY, zones: ['api.test'] });
    store = await openStore({ url: 'sqlite::memory:' });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: '0.0.0-test',
      probeIntervalMs: 60_000,
      probeTimeoutMs: 500,
      secretVars: { GCORE_KEY },
      certificates: { checkIntervalMs: 600_000 },
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await gcore?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('desired state: apply (dry run and for real), state, sites, edges, events', async () => {
    const dry = await answer(ChangeResult, 'POST', '/v1/apply', { spec: spec(), dry_run: true });
    expect(dry.changed).toBe(false);
    expect(dry.diff.changes.map((c) => `${c.op} ${c.kind} ${c.key}`)).toContain('create edge fra1');

    const applied = await answer(ChangeResult, 'POST', '/v1/apply', { spec: spec() });
    expect(applied.changed).toBe(true);
    edgeToken = applied.edge_tokens.fra1 ?? '';
    expect(edgeToken).toMatch(/^ope_/);

    const state = await answer(StateAnswer, 'GET', '/v1/state');
    expect(state.revision).toBe(applied.revision);
    const sites = await answer(SiteList, 'GET', '/v1/sites');
    expect(sites.sites.map((s) => s.domain)).toEqual([SITE, 'acme.api.test']);
    await answer(SiteAnswer, 'GET', `/v1/sites/${SITE}`);
    const edges = await answer(EdgeList, 'GET', '/v1/edges');
    expect(edges.edges.map((e) => [e.name, e.has_token])).toEqual([
      ['fra1', true],
      ['sgp1', true],
    ]);
    await answer(EdgeAnswer, 'GET', '/v1/edges/fra1');
    const events = await answer(EventList, 'GET', '/v1/events');
    expect(events.events.map((e) => e.action)).toContain('spec.apply');
  });

  it('edits: site create/replace/delete, edge create/replace/delete, token rotate/revoke', async () => {
    const site = { domain: 'tmp.api.test', origins: [{ host: 'origin.api.test' }] };
    const created = await answer(SiteChanged, 'POST', '/v1/sites', site, 201);
    expect(created.diff.changes).toHaveLength(1);
    await answer(SiteChanged, 'PUT', '/v1/sites/tmp.api.test', { ...site, dns_ttl: 30 });
    await answer(Deleted, 'DELETE', '/v1/sites/tmp.api.test');

    const edge = { name: 'tmp1', host: { v4: '127.0.0.4' } };
    const added = await answer(NewEdgeAnswer, 'POST', '/v1/edges', edge, 201);
    expect(added.join_command).toContain('--name tmp1');
    await answer(EdgeChanged, 'PUT', '/v1/edges/tmp1', { ...edge, paused: true });
    await answer(TokenAnswer, 'POST', '/v1/edges/tmp1/token');
    await answer(TokenRevoked, 'DELETE', '/v1/edges/tmp1/token');
    expect((await answer(EdgeAnswer, 'GET', '/v1/edges/tmp1')).edge.has_token).toBe(false);
    await answer(Deleted, 'DELETE', '/v1/edges/tmp1');
  });

  it('status: an edge that reported traffic, a Caddy edge without a cache, the public page', async () => {
    const now = new Date().toISOString();
    const report = {
      agent_version: 'test',
      applied_release: null,
      applied_hash: null,
      failed_release: null,
      last_error: null,
      proxy: 'nginx',
      proxy_running: true,
      capabilities: { cache: false },
      started_at: now,
      active_connections: 3,
      validation_ms: 1234,
      traffic: {
        since: now,
        until: now,
        sites: {
          [SITE]: {
            requests: 10,
            bytes: 2048,
            status: { '2xx': 10 },
            cache: { HIT: 6, MISS: 4 },
          },
        },
      },
    };
    const res = await app.inject({
      method: 'POST',
      url: '/v1/edge/report',
      headers: { authorization: `Bearer ${edgeToken}` },
      payload: report,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);

    const status = await answer(StatusSnapshot, 'GET', '/v1/status');
    const fra1 = status.edges.find((e) => e.name === 'fra1');
    expect(fra1?.traffic.requests).toBe(10);
    expect(fra1?.traffic.hit_ratio).toBeCloseTo(0.6);
    expect(fra1?.active_connections).toBe(3);
    expect(fra1?.validation_ms).toBe(1234);
    expect(status.edges.find((e) => e.name === 'sgp1')?.validation_ms).toBeNull();
    expect(fra1?.cache).toBe(false);
    expect(fra1?.note).toMatch(/without caching/);
    expect(status.edges.find((e) => e.name === 'sgp1')).toMatchObject({
      proxy: 'caddy',
      state: 'never-seen',
      note: null,
    });
    expect(status.sites.map((s) => s.domain)).toEqual([SITE, 'acme.api.test']);

    const plan = await answer(EdgePlanAnswer, 'GET', '/v1/edges/fra1/plan');
    expect(plan.status?.name).toBe('fra1');

    const pub = await app.inject({ method: 'GET', url: '/v1/public/status' });
    expect(pub.statusCode).toBe(200);
    expect(parsed(PublicStatus, pub.json()).edges.map((e) => e.name)).toEqual(['fra1', 'sgp1']);

    const healthz = await app.inject({ method: 'GET', url: '/healthz' });
    parsed(Healthz, healthz.json());
  });

  it('history, resources, bandwidth, status settings, the public page with bars, incidents and badges', async () => {
    const at = new Date();
    const sample = {
      at: at.toISOString(),
      cpu_percent: 12.5,
      load: [0.5, 0.25, 0.1],
      cpus: 2,
      memory: { total_bytes: 8e9, available_bytes: 6e9 },
      disks: [
        { dir: 'cache', total_bytes: 1e11, free_bytes: 6e10, available_bytes: 5e10 },
        { dir: 'state', total_bytes: 1e11, free_bytes: 6e10, available_bytes: 5e10 },
      ],
      network: { rx_bytes_per_second: 1000, tx_bytes_per_second: 2_500_000 },
      tcp_established: 9,
      uptime_seconds: 1234,
      proxy_version: '1.22.1',
    };
    const res = await app.inject({
      method: 'POST',
      url: '/v1/edge/report',
      headers: { authorization: `Bearer ${edgeToken}` },
      payload: {
        agent_version: 'test',
        applied_release: null,
        applied_hash: null,
        failed_release: null,
        last_error: null,
        proxy: 'nginx',
        proxy_running: true,
        started_at: at.toISOString(),
        resources: [sample],
      },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const fra1 = (await answer(StatusSnapshot, 'GET', '/v1/status')).edges.find(
      (e) => e.name === 'fra1',
    );
    expect(fra1?.resources).toEqual(sample);
    // 2.5 MB/s out is 20 Mbit/s of fra1's 100.
    expect(fra1?.bandwidth).toEqual({ capacity_mbps: 100, used_mbps: 20, percent: 20 });

    // Points and an incident as the history worker writes them.
    const t = Math.floor(at.getTime() / 60_000) * 60;
    const p = emptyEdgePoint('fra1', t);
    Object.assign(p, {
      up: 5,
      down: 1,
      latency_ms: 12,
      latency_n: 3,
      requests: 7,
      res_n: 1,
      cpu: 12.5,
    });
    const sp = emptySitePoint(SITE, t);
    Object.assign(sp, { up: 6, requests: 7, bytes: 700 });
    sp.cache.HIT = 3;
    sp.cache.MISS = 1;
    await store.addHistory(MINUTE_POINT, [p], [sp]);
    await store.putHistory(HOUR_POINT, [{ ...p, t: t - (t % 3600) - 86_400 }], []);
    await store.openIncident(
      'edge',
      'fra1',
      new Date(at.getTime() - 600_000).toISOString(),
      'edge fra1 is down: connection failed: 203.0.113.10:80 refused',
    );
    await store.closeIncident('edge', 'fra1', new Date(at.getTime() - 300_000).toISOString());

    const all = await answer(EdgesHistory, 'GET', '/v1/history/edges?range=1h');
    expect(all.step_seconds).toBe(60);
    const series = all.edges.find((e) => e.name === 'fra1');
    expect(series?.bandwidth_mbps).toBe(100);
    expect(series?.points).toHaveLength(60);
    expect(series?.points[59]).toMatchObject({
      up_ratio: 0.8333,
      requests: 7,
      cpu: 12.5,
      latency_ms: 12,
    });
    for (const range of ['24h', '7d', '90d'])
      await answer(EdgesHistory, 'GET', `/v1/history/edges/fra1?range=${range}`);
    const site = await answer(SiteHistory, 'GET', `/v1/history/sites/${SITE}?range=24h`);
    expect(site.points).toHaveLength(96);
    expect(site.points[95]).toMatchObject({ requests: 7, hit_ratio: 0.75 });
    const bad = await answer(ApiErrorAnswer, 'GET', '/v1/history/edges?range=2y', undefined, 400);
    expect(bad.error.message).toBe('range: must be one of 1h, 24h, 7d, 90d');
    await answer(ApiErrorAnswer, 'GET', '/v1/history/sites/nope.test', undefined, 404);

    // Settings: a bad one names its field and changes nothing.
    const wrong = await answer(
      ApiErrorAnswer,
      'PUT',
      '/v1/status/settings',
      { title: '', bandwidth_alert: { percent: 400 } },
      400,
    );
    expect(JSON.stringify(wrong)).toContain('bandwidth_alert.percent');
    expect((await answer(StatusSettings, 'GET', '/v1/status/settings')).title).toBe('Status');
    await answer(StatusSettings, 'PUT', '/v1/status/settings', {
      title: 'Example CDN',
      edges: ['fra1'],
      sites: [SITE],
    });

    const pub = await app.inject({ method: 'GET', url: '/v1/public/status/history' });
    expect(pub.statusCode).toBe(200);
    const page = parsed(PublicStatusHistory, pub.json());
    expect(page.title).toBe('Example CDN');
    expect(page.edges.map((e) => e.name)).toEqual(['fra1']);
    expect(page.sites.map((s) => s.name)).toEqual([SITE]);
    const bars = page.edges[0]!.days;
    expect(bars).toHaveLength(90);
    expect(bars[89]?.up_ratio).toBeCloseTo(5 / 6, 3);
    expect(bars[88]?.up_ratio).toBeCloseTo(5 / 6, 3);
    expect(bars[0]?.up_ratio).toBeNull();
    // (The site's origin is down too: the history worker may open a site incident meanwhile.)
    expect(page.incidents.filter((i) => i.kind === 'edge')).toEqual([
      expect.objectContaining({
        kind: 'edge',
        subject: 'fra1',
        duration_seconds: 300,
        message: 'edge fra1 is down: connection failed: (address) refused',
      }),
    ]);
    // No address, token or secret of the state on the public pages.
    const text = pub.body + (await app.inject({ method: 'GET', url: '/v1/public/status' })).body;
    for (const secret of [
      '127.0.0.',
      '203.0.113.10',
      'origin.api.test',
      edgeToken,
      admin,
      GCORE_KEY,
      'sgp1',
    ])
      expect(text).not.toContain(secret);

    const one = await app.inject({ method: 'GET', url: `/v1/public/status/sites/${SITE}` });
    expect(parsed(PublicSiteStatus, one.json()).site.name).toBe(SITE);
    expect(
      (await app.inject({ method: 'GET', url: '/v1/public/status/sites/acme.api.test' }))
        .statusCode,
    ).toBe(404);
    const json = await app.inject({ method: 'GET', url: `/v1/public/badge/${SITE}.json` });
    expect(parsed(StatusBadge, json.json())).toMatchObject({ schemaVersion: 1, label: SITE });
    const svg = await app.inject({ method: 'GET', url: `/v1/public/badge/${SITE}.svg` });
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg [^>]*>.*<\/svg>$/);
    expect(svg.body).not.toContain('<script');
    await answer(StatusSettings, 'PUT', '/v1/status/settings', {});
  });

  it('certificates: an upload (serial, not_before), a failed ACME attempt, the list', async () => {
    const { certFile, keyFile } = selfSignedCertificate(tmp, [SITE, `www.${SITE}`]);
    const uploaded = await answer(CertificateUploaded, 'PUT', `/v1/certificates/${SITE}`, {
      certificate: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
    });
    expect(uploaded.certificate.serial).toMatch(/^[0-9A-F:]+$/i);
    expect(uploaded.certificate.not_before).not.toBeNull();

    const detail = await answer(CertificateDetail, 'GET', `/v1/certificates/${SITE}`);
    expect(detail.certificate.chain_pem).toContain('BEGIN CERTIFICATE');

    const started = await answer(
      AttemptAnswer,
      'POST',
      '/v1/certificates/acme.api.test/issue',
      {},
      202,
    );
    let attempt = started.attempt;
    for (let i = 0; i < 20 && !attempt.done; i++) {
      const after = attempt.events.at(-1)?.seq ?? 0;
      attempt = (
        await answer(
          AttemptAnswer,
          'GET',
          `/v1/certificates/acme.api.test/attempts/${attempt.id}?after=${after}&wait=5`,
        )
      ).attempt;
    }
    expect(attempt).toMatchObject({ done: true, ok: false });

    const list = await answer(CertificateList, 'GET', '/v1/certificates');
    const row = list.certificates.find((c) => c.domain === 'acme.api.test');
    expect(row?.failures).toBeGreaterThan(0);
    expect(row?.last_error).not.toBeNull();
    expect(list.certificates.find((c) => c.domain === SITE)?.source).toBe('upload');
  });

  it('DNS: plan, apply and the zones at the GCore stand-in', async () => {
    const plan = await answer(DnsPlan, 'GET', '/v1/dns/plan?prune=true');
    expect(plan.provider).toBe('gcore');
    expect(plan.zones.map((z) => z.zone)).toEqual(['api.test']);
    const applied = await answer(DnsApplyAnswer, 'POST', '/v1/dns/apply', { prune: false });
    expect(applied.results.map((r) => r.error)).toEqual([null]);
    const status = await answer(DnsStatus, 'GET', '/v1/dns/status');
    expect(status.zones.map((z) => [z.zone, z.state])).toEqual([['api.test', 'in_sync']]);
    // Someone changes a set at the provider: the plan replaces it, showing both sides.
    const stored = [...(gcore.zones.get('api.test')?.values() ?? [])];
    expect(stored.length).toBeGreaterThan(0);
    stored[0]!.ttl = 4242;
    const drift = await answer(DnsPlan, 'GET', '/v1/dns/plan');
    const change = drift.zones[0]?.changes[0];
    expect(change?.action).toBe('replace');
    expect(change?.before?.ttl).toBe(4242);
    expect(change?.after?.managed).toBe(true);
  });

  it('purge: created for the edges of the site, then followed', async () => {
    const created = await answer(
      PurgeStatus,
      'POST',
      `/v1/sites/${SITE}/purge`,
      { kind: 'urls', paths: ['/a.css'] },
      202,
    );
    expect(created.edges.map((e) => [e.edge, e.state])).toEqual([
      ['fra1', 'pending'],
      ['sgp1', 'pending'],
    ]);
    await answer(PurgeStatus, 'GET', `/v1/purges/${created.job.id}`);
  });

  it('alerts: channels added, listed, tested, removed; the tracked alerts', async () => {
    const hook = await new HttpReceiver().start();
    try {
      const added = await answer(
        ChannelAnswer,
        'POST',
        '/v1/alerts/channels',
        {
          name: 'ops',
          settings: { type: 'webhook', url: hook.url },
          secret: 'api-answers-webhook-secret',
          kinds: ['edge_down'],
        },
        201,
      );
      expect(added.channel).toMatchObject({
        name: 'ops',
        has_secret: true,
        min_severity: 'warning',
      });
      await answer(
        ChannelAnswer,
        'POST',
        '/v1/alerts/channels',
        {
          name: 'mail',
          settings: {
            type: 'email',
            host: '127.0.0.1',
            port: 9,
            tls: 'none',
            from: 'a@api.test',
            to: ['b@api.test'],
          },
        },
        201,
      );
      expect((await answer(ChannelTested, 'POST', '/v1/alerts/channels/ops/test')).channel).toBe(
        'ops',
      );
      const failed = await call('POST', '/v1/alerts/channels/mail/test');
      expect(failed.status).toBe(502);
      expect(parsed(ApiErrorAnswer, failed.body).error.code).toBe('notification_failed');
      const list = await answer(ChannelList, 'GET', '/v1/alerts/channels');
      expect(
        list.channels.map((c) => [c.name, c.last_sent_at !== null, c.last_error !== null]),
      ).toEqual([
        ['mail', false, true],
        ['ops', true, false],
      ]);
      await answer(AlertList, 'GET', '/v1/alerts');
      expect((await answer(ChannelDeleted, 'DELETE', '/v1/alerts/channels/mail')).deleted).toBe(
        'mail',
      );
      const taken = await call('POST', '/v1/alerts/channels', {
        name: 'ops',
        settings: { type: 'slack' },
        secret: 'https://127.0.0.1:9/x',
      });
      expect(parsed(ApiErrorAnswer, taken.body).error).toMatchObject({
        code: 'conflict',
        path: 'name',
      });
    } finally {
      await hook.close();
    }
  });

  it('errors: a bad document, an unknown site, a wrong token, a missing route', async () => {
    const bad = await call('POST', '/v1/apply', {
      spec: { sites: [{ domain: 'x;.test', origins: [] }] },
      dry_run: true,
    });
    expect(bad.status).toBe(400);
    expect(parsed(ApiErrorAnswer, bad.body).error.problems?.length).toBeGreaterThan(1);
    const missing = await call('GET', '/v1/sites/nope.test');
    expect(parsed(ApiErrorAnswer, missing.body).error).toMatchObject({
      code: 'not_found',
      path: 'domain',
    });
    const refused = await app.inject({
      method: 'GET',
      url: '/v1/status',
      headers: { authorization: 'Bearer opa_wrong' },
    });
    expect(parsed(ApiErrorAnswer, refused.json()).error.code).toBe('unauthorized');
    expect(parsed(ApiErrorAnswer, (await call('GET', '/v1/nothing')).body).error.code).toBe(
      'not_found',
    );
  });

  it('the schemas are strict: a drifted answer does not parse', async () => {
    const status = await answer(StatusSnapshot, 'GET', '/v1/status');
    const edge = status.edges[0];
    expect(edge).toBeDefined();
    const withoutNote: Partial<typeof edge> = { ...edge };
    delete withoutNote.note;
    expect(EdgeStatus.safeParse(withoutNote).success).toBe(false);
    expect(EdgeStatus.safeParse({ ...edge, surprise: 1 }).success).toBe(false);
    expect(EdgeStatus.safeParse({ ...edge, proxy: 'apache' }).success).toBe(false);
  });

  it('each site counts its edges in /v1/status; /v1/status/sites/:domain lists every one', async () => {
    const status = await answer(StatusSnapshot, 'GET', '/v1/status');
    // Each site counts its edges; one site's route lists every edge serving it (tag:eu: fra1).
    const total = (s: StatusSnapshot['sites'][number] | undefined) =>
      s ? s.edges_by_health.up + s.edges_by_health.down + s.edges_by_health.unknown : -1;
    expect(status.sites.map(total)).toEqual([2, 1]);
    const one = await answer(SiteEdgesStatus, 'GET', '/v1/status/sites/acme.api.test');
    expect(one.edges.map((e) => e.name)).toEqual(['fra1']);
    expect(one.revision).toBe(status.revision);
    const unknownSite = await call('GET', '/v1/status/sites/nope.test');
    expect(unknownSite.status).toBe(404);
    expect(parsed(ApiErrorAnswer, unknownSite.body).error).toMatchObject({
      code: 'not_found',
      path: 'domain',
    });
  });
});
