import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { BundleBuilder } from '../edges/builder.js';
import { installErrorHandler } from '../http/errors.js';
import { Prober } from '../health/prober.js';
import { SharedHealth } from '../health/shared-health.js';
import { ApiErrorAnswer, parseSpec, SiteEdgesStatus, StatusSnapshot } from '../spec/index.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { Metrics } from './metrics.js';
import { statusRoutes } from './routes.js';
import { StatusService } from './service.js';

const spec = parseSpec({
  edges: ['x', 'y', 'z'].map((name, i) => ({ name, host: { v4: `127.0.0.${i + 2}` } })),
  sites: [{ domain: 's.test', origins: [{ host: { v4: '127.0.0.1' } }] }],
});
const at = new Date().toISOString();

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function setup() {
  store = await openStore({ url: 'sqlite::memory:' });
  await store.writeState(spec, { actor: 'test', action: 'spec.apply', subject: '', detail: {} });
  const s = store;
  const prober = new Prober({ readState: () => s.readState(), intervalMs: 0, timeoutMs: 1 });
  const health = new SharedHealth({ prober, store: s, instance: undefined });
  const builder = { buildErrors: () => [] } as unknown as BundleBuilder;
  const status = new StatusService(s, builder, health);
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  await app.register(statusRoutes(s, status, new Metrics(() => status.snapshot())));
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json<unknown>() };
  };
  return { book: prober.book, status, get };
}

describe('GET /v1/status and /v1/status/sites/:domain', () => {
  it('the snapshot lists the edge a site is down on, the site route every edge; a probe after a snapshot shows in the next one', async () => {
    const { book, get } = await setup();
    const none = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(none.sites[0]).toMatchObject({
      health: 'unknown',
      edges_by_health: { up: 0, down: 0, unknown: 3 },
      edges: [],
    });

    book.record('edge:x:site:s.test', { ok: true, reason: 'status 200', at });
    book.record('edge:y:site:s.test', { ok: false, reason: 'status 502', at });
    book.record('edge:z:site:s.test', { ok: true, reason: 'status 200', at });
    // The sites of the last snapshot are not reused once the health changed.
    const one = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(one.sites[0]).toMatchObject({
      health: 'degraded',
      edges_by_health: { up: 2, down: 1, unknown: 0 },
      edges: [{ name: 'y', health: 'down', reason: 'status 502' }],
    });
    expect(one.sites[0]?.edges).toHaveLength(1);

    const site = SiteEdgesStatus.parse((await get('/v1/status/sites/s.test')).body);
    expect(site.revision).toBe(one.revision);
    expect(site.edges.map((e) => [e.name, e.health])).toEqual([
      ['x', 'up'],
      ['y', 'down'],
      ['z', 'up'],
    ]);
    expect({ ...site, edges: [], revision: 0 }).toEqual({
      ...one.sites[0],
      edges: [],
      revision: 0,
    });

    // Only the reason changes (still down): a new reason, not the one of the last snapshot.
    book.record('edge:y:site:s.test', { ok: false, reason: 'timeout after 5000 ms', at });
    const two = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(two.sites[0]?.edges[0]?.reason).toBe('timeout after 5000 ms');
    expect(two.sites[0]?.reason).toBe('timeout after 5000 ms');

    // Back up: listed nowhere, counted up.
    book.record('edge:y:site:s.test', { ok: true, reason: 'status 200', at });
    book.record('edge:y:site:s.test', { ok: true, reason: 'status 200', at });
    const three = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(three.sites[0]).toMatchObject({
      health: 'up',
      edges_by_health: { up: 3, down: 0, unknown: 0 },
      edges: [],
    });
  });

  it('a site the spec does not have is a 404 with its code and the path of the domain', async () => {
    const { get } = await setup();
    const res = await get('/v1/status/sites/nope.test');
    expect(res.status).toBe(404);
    expect(ApiErrorAnswer.parse(res.body).error).toMatchObject({
      code: 'not_found',
      path: 'domain',
      message: expect.stringContaining('nope.test') as unknown,
    });
  });

  it('a new revision recomputes the sites (an edge removed is counted nowhere)', async () => {
    const { get } = await setup();
    const before = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(before.sites[0]?.edges_by_health.unknown).toBe(3);
    const next = parseSpec({ ...spec, edges: spec.edges.slice(0, 2) });
    await store?.writeState(next, { actor: 'test', action: 'spec.apply', subject: '', detail: {} });
    const after = StatusSnapshot.parse((await get('/v1/status')).body);
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(after.sites[0]?.edges_by_health).toEqual({ up: 0, down: 0, unknown: 2 });
  });
});
