// GET /v1/state from its text made once per state: the real route over two SQLite stores on one
// file (two control planes), with its validator.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installErrorHandler } from '../http/errors.js';
import { parseSpec, type SpecInput } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import { stateRoutes } from './routes.js';
import { DesiredState } from './service.js';

const specOf = (ttl: number): SpecInput => ({
  edges: [{ name: 'a', host: { v4: '127.0.0.2' } }],
  sites: [{ domain: 'a.example.com', origins: [{ host: 'origin.example.com' }], dns_ttl: ttl }],
});
const event = { actor: 'test', action: 'spec.apply', subject: '', detail: {} };

describe('GET /v1/state', () => {
  let dir: string;
  const stores: Store[] = [];
  const apps: FastifyInstance[] = [];
  const serve = async () => {
    const store = await openStore({ url: `sqlite:${join(dir, 'outpost.db')}` });
    stores.push(store);
    const app = Fastify();
    installErrorHandler(app);
    await app.register(stateRoutes(new DesiredState(store), store));
    apps.push(app);
    return { app, store };
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-state-'));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the state as before, one text per revision, 304 for its validator, and a write elsewhere at once', async () => {
    const a = await serve();
    const b = await serve();
    await a.store.writeState(parseSpec(specOf(60)), event);
    const first = await a.app.inject({ method: 'GET', url: '/v1/state' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(first.body)).toEqual(await a.store.readState());
    const etag = first.headers.etag ?? '';
    expect(etag).toMatch(/^"1-/);
    // The same text again, not stringified again.
    const stringify = vi.spyOn(JSON, 'stringify');
    const again = await a.app.inject({ method: 'GET', url: '/v1/state' });
    const calls = stringify.mock.calls.length;
    stringify.mockRestore();
    expect(again.body).toBe(first.body);
    expect(calls).toBe(0);
    const cached = await a.app.inject({
      method: 'GET',
      url: '/v1/state',
      headers: { 'if-none-match': etag },
    });
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');

    // The other control plane writes: A answers the new state, not its text of revision 1.
    await b.store.writeState(parseSpec(specOf(120)), event);
    const after = await a.app.inject({
      method: 'GET',
      url: '/v1/state',
      headers: { 'if-none-match': etag },
    });
    expect(after.statusCode).toBe(200);
    const parsed = JSON.parse(after.body) as {
      revision: number;
      spec: { sites: { dns_ttl: number }[] };
    };
    expect(parsed.revision).toBe(2);
    expect(parsed.spec.sites[0]?.dns_ttl).toBe(120);
    expect(after.headers.etag).not.toBe(etag);
  });
});
