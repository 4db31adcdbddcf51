// GET /v1/sites on PostgreSQL with two control planes (two stores on one real database, from
// Debian's postgresql package): the list's cached text follows the revision the store reads,
// so a site another control plane writes is in the very next answer, and both answer the same
// bytes and validator for one revision.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { installErrorHandler } from '../http/errors.js';
import { SiteList, parseSpec } from '../spec/index.js';
import { DesiredState } from '../state/service.js';
import { openStore, type Store } from '../store/index.js';
import { sitesRoutes } from './routes.js';

const site = (i: number) => ({
  domain: `site${i}.example.com`,
  origins: [{ host: { v4: '127.0.0.1' }, port: 8000 + i, protocol: 'http' as const }],
});

describe('GET /v1/sites on PostgreSQL, two control planes', () => {
  let postgres: TestPostgres;
  const stores: Store[] = [];
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    await postgres.stop();
  });

  it('a site created on B is listed by A at once; the same text and ETag on both', async () => {
    const url = await postgres.createDatabase('sites_list');
    const planes = [];
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ url });
      stores.push(store);
      const app = Fastify();
      installErrorHandler(app);
      await app.register(sitesRoutes(new DesiredState(store)));
      apps.push(app);
      planes.push({ store, app });
    }
    const [a, b] = planes as [(typeof planes)[number], (typeof planes)[number]];
    await a.store.writeState(
      parseSpec({ edges: [{ name: 'e1', host: { v4: '127.0.0.2' } }], sites: [site(0), site(1)] }),
      { actor: 'test', action: 'spec.apply', subject: '', detail: {} },
    );
    const list = (app: FastifyInstance, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url: '/v1/sites', headers });
    const first = await list(a.app);
    expect(SiteList.parse(JSON.parse(first.body)).sites).toHaveLength(2);
    const etag = first.headers.etag ?? '';
    expect((await list(a.app, { 'if-none-match': etag })).statusCode).toBe(304);

    // B creates a site through its own route; A has written nothing since.
    const created = await b.app.inject({ method: 'POST', url: '/v1/sites', payload: site(2) });
    expect(created.statusCode).toBe(201);
    const seen = await list(a.app, { 'if-none-match': etag });
    expect(seen.statusCode).toBe(200);
    const answer = SiteList.parse(JSON.parse(seen.body));
    expect(answer.revision).toBe(2);
    expect(answer.sites.map((s) => s.domain)).toEqual([
      'site0.example.com',
      'site1.example.com',
      'site2.example.com',
    ]);
    const fromB = await list(b.app);
    expect(fromB.body).toBe(seen.body);
    expect(fromB.headers.etag).toBe(seen.headers.etag);
    expect(seen.headers.etag).not.toBe(etag);
    // Paging on A reads the same revision.
    const page = SiteList.parse(
      JSON.parse((await a.app.inject({ method: 'GET', url: '/v1/sites?limit=2' })).body),
    );
    expect(page).toMatchObject({ revision: 2, next: 'site1.example.com' });
  }, 60_000);
});
