// GET /v1/sites from its per-state cached text (list-cache.ts) and its pages, through the real
// route, DesiredState and SQLite stores on one file (two stores: two control planes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../http/errors.js';
import { SiteList, parseSpec, type SpecInput } from '../spec/index.js';
import { DesiredState } from '../state/service.js';
import { openStore, type Store } from '../store/index.js';
import { SiteListCache } from './list-cache.js';
import { sitesRoutes } from './routes.js';

const site = (i: number, ttl?: number) => ({
  domain: `site${i}.example.com`,
  origins: [{ host: { v4: '127.0.0.1' }, port: 8000 + i, protocol: 'http' as const }],
  ...(ttl !== undefined ? { dns_ttl: ttl } : {}),
});
const specOf = (n: number): SpecInput => ({
  edges: [{ name: 'a', host: { v4: '127.0.0.2' } }],
  sites: Array.from({ length: n }, (_, i) => site(i)),
});
const event = { actor: 'test', action: 'spec.apply', subject: '', detail: {} };

describe('GET /v1/sites', () => {
  let dir: string;
  let stores: Store[];
  let apps: FastifyInstance[];
  const open = async () => {
    const store = await openStore({ url: `sqlite:${join(dir, 'outpost.db')}` });
    stores.push(store);
    return store;
  };
  /** A control plane's sites routes over `store`. */
  const serve = async (store: Store) => {
    const app = Fastify();
    installErrorHandler(app);
    const state = new DesiredState(store);
    await app.register(sitesRoutes(state));
    apps.push(app);
    return { app, state };
  };
  const get = async (app: FastifyInstance, url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return {
      status: res.statusCode,
      etag: res.headers.etag,
      type: res.headers['content-type'],
      body: res.body,
      json: () => SiteList.parse(JSON.parse(res.body)),
      error: () =>
        (JSON.parse(res.body) as { error: { code: string; path?: string; message: string } }).error,
    };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-sites-'));
    stores = [];
    apps = [];
  });
  afterEach(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the same text and validator at one revision, made once; 304 for the current one', async () => {
    const store = await open();
    await store.writeState(parseSpec(specOf(3)), event);
    const { app } = await serve(store);
    const first = await get(app, '/v1/sites');
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/json; charset=utf-8');
    const list = first.json();
    expect(list.revision).toBe(1);
    expect(list.next).toBeNull();
    expect(list.sites.map((s) => s.domain)).toEqual([
      'site0.example.com',
      'site1.example.com',
      'site2.example.com',
    ]);
    // What Fastify would have serialized from the object is what the cached text says.
    const { spec } = await store.readSharedState();
    expect(JSON.parse(first.body)).toEqual({ revision: 1, sites: spec.sites, next: null });
    expect(first.etag).toMatch(/^"1-[A-Za-z0-9_-]{16}"$/);

    const second = await get(app, '/v1/sites');
    expect(second.body).toBe(first.body);
    expect(second.etag).toBe(first.etag);

    const notModified = await get(app, '/v1/sites', { 'if-none-match': first.etag ?? '' });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.etag).toBe(first.etag);
    // An older validator (or another one) gets the body.
    const other = await get(app, '/v1/sites', { 'if-none-match': '"0-xxxxxxxxxxxxxxxx"' });
    expect(other.status).toBe(200);
    expect(other.body).toBe(first.body);
  });

  it('a site created then listed at once is in the list, with a new validator (no stale text across a write)', async () => {
    const store = await open();
    await store.writeState(parseSpec(specOf(2)), event);
    const { app } = await serve(store);
    const before = await get(app, '/v1/sites');
    const created = await app.inject({ method: 'POST', url: '/v1/sites', payload: site(7) });
    expect(created.statusCode).toBe(201);
    const after = await get(app, '/v1/sites');
    expect(after.json().revision).toBe(2);
    expect(after.json().sites.map((s) => s.domain)).toContain('site7.example.com');
    expect(after.etag).not.toBe(before.etag);
    expect(after.etag).toMatch(/^"2-/);
    // The old validator is no longer current: the new list, not a 304.
    expect((await get(app, '/v1/sites', { 'if-none-match': before.etag ?? '' })).status).toBe(200);
    const removed = await app.inject({ method: 'DELETE', url: '/v1/sites/site0.example.com' });
    expect(removed.statusCode).toBe(200);
    expect((await get(app, '/v1/sites')).json().sites.map((s) => s.domain)).toEqual([
      'site1.example.com',
      'site7.example.com',
    ]);
  });

  it('keys on the revision read from the store: a write by another control plane is in the next answer', async () => {
    const a = await open();
    const b = await open();
    await a.writeState(parseSpec(specOf(3)), event);
    const { app: appA } = await serve(a);
    const { app: appB } = await serve(b);
    const first = await get(appA, '/v1/sites');
    expect((await get(appB, '/v1/sites')).etag).toBe(first.etag);
    // B changes one site: A never wrote, A's answer must still change.
    const put = await appB.inject({
      method: 'PUT',
      url: '/v1/sites/site1.example.com',
      payload: site(1, 120),
    });
    expect(put.statusCode).toBe(200);
    const seen = await get(appA, '/v1/sites');
    expect(seen.json().revision).toBe(2);
    expect(seen.json().sites[1]?.dns_ttl).toBe(120);
    expect(seen.etag).not.toBe(first.etag);
    expect(seen.etag).toBe((await get(appB, '/v1/sites')).etag);
    expect((await get(appA, '/v1/sites', { 'if-none-match': first.etag ?? '' })).status).toBe(200);
  });

  it('a new order alone (same revision) is a new body and validator', async () => {
    const store = await open();
    await store.writeState(parseSpec(specOf(3)), event);
    const { app } = await serve(store);
    const first = await get(app, '/v1/sites');
    const reversed = specOf(3);
    reversed.sites = [...(reversed.sites ?? [])].reverse();
    const result = await store.writeState(parseSpec(reversed), event);
    expect(result).toMatchObject({ changed: false, revision: 1 });
    const again = await get(app, '/v1/sites');
    expect(again.json().sites[0]?.domain).toBe('site2.example.com');
    expect(again.etag).not.toBe(first.etag);
    expect(again.etag).toMatch(/^"1-/);
  });

  it('pages cover every site exactly once, in the spec order, and say where to go on', async () => {
    const store = await open();
    const spec = specOf(25);
    // Not alphabetical: pages follow the spec's order, not the domains'.
    spec.sites = [...(spec.sites ?? [])].reverse();
    await store.writeState(parseSpec(spec), event);
    const { app } = await serve(store);
    const whole = (await get(app, '/v1/sites')).json().sites.map((s) => s.domain);
    expect(whole[0]).toBe('site24.example.com');
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/sites?limit=10${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`;
      const page = await get(app, url);
      expect(page.status).toBe(200);
      const list = page.json();
      expect(list.sites.length).toBeLessThanOrEqual(10);
      seen.push(...list.sites.map((s) => s.domain));
      if (list.next !== null) expect(list.next).toBe(list.sites.at(-1)?.domain);
      after = list.next;
      pages++;
    } while (after !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(whole);
    expect(new Set(seen).size).toBe(25);
    // A page that ends exactly at the last site says so (next null), and after the last site
    // the page is empty.
    const exact = (await get(app, '/v1/sites?limit=25')).json();
    expect(exact.sites).toHaveLength(25);
    expect(exact.next).toBeNull();
    const empty = (await get(app, `/v1/sites?limit=5&after=${whole.at(-1) ?? ''}`)).json();
    expect(empty).toEqual({ revision: 1, sites: [], next: null });
    // after alone: the rest of the list.
    const rest = (await get(app, `/v1/sites?after=${whole[19] ?? ''}`)).json();
    expect(rest.sites.map((s) => s.domain)).toEqual(whole.slice(20));
    // A page carries the list's validator, and 304s with it.
    const etag = (await get(app, '/v1/sites')).etag ?? '';
    expect((await get(app, '/v1/sites?limit=10')).etag).toBe(etag);
    expect((await get(app, '/v1/sites?limit=10', { 'if-none-match': etag })).status).toBe(304);
  });

  it('refuses a bad limit or after with 400 naming the field', async () => {
    const store = await open();
    await store.writeState(parseSpec(specOf(3)), event);
    const { app } = await serve(store);
    const cases: [string, string, RegExp][] = [
      ['/v1/sites?limit=0', 'limit', /^limit: must be a whole number from 1 to 1000$/],
      ['/v1/sites?limit=1001', 'limit', /from 1 to 1000/],
      ['/v1/sites?limit=ten', 'limit', /whole number/],
      ['/v1/sites?limit=-5', 'limit', /whole number/],
      ['/v1/sites?limit=1.5', 'limit', /whole number/],
      ['/v1/sites?limit=', 'limit', /whole number/],
      ['/v1/sites?limit=1&limit=2', 'limit', /^limit: must be given once$/],
      ['/v1/sites?after=', 'after', /^after: must be a domain/],
      [
        '/v1/sites?limit=2&after=gone.example.com',
        'after',
        /no site "gone.example.com" at revision 1/,
      ],
      ['/v1/sites?page=2', 'page', /^page: is not a parameter of this route$/],
    ];
    for (const [url, path, message] of cases) {
      const res = await get(app, url);
      expect(res.status, url).toBe(400);
      expect(res.error(), url).toMatchObject({ code: 'invalid_request', path });
      expect(res.error().message, url).toMatch(message);
    }
    // Nothing was changed by the refusals; the list still answers.
    expect((await get(app, '/v1/sites?limit=1000')).json().sites).toHaveLength(3);
  });
});

describe('SiteListCache', () => {
  it('makes a body once per state object, and serializes only the sites that changed', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      await store.writeState(parseSpec(specOf(4)), event);
      const cache = new SiteListCache();
      const one = cache.of(await store.readSharedState());
      expect(cache.of(await store.readSharedState())).toBe(one);
      expect(cache.builds).toBe(1);
      expect(cache.sitesSerialized).toBe(4);
      const next = specOf(4);
      next.sites![2] = site(2, 300);
      await store.writeState(parseSpec(next), event);
      const two = cache.of(await store.readSharedState());
      expect(cache.builds).toBe(2);
      // The three unchanged sites are the store's same frozen objects: their text is reused.
      expect(cache.sitesSerialized).toBe(5);
      expect(two.revision).toBe(2);
      const [before, after] = [one, two].map((l) => SiteList.parse(JSON.parse(l.body)).sites);
      expect(after?.[2]?.dns_ttl).toBe(300);
      expect(after?.[0]).toEqual(before?.[0]);
    } finally {
      await store.close();
    }
  });
});
