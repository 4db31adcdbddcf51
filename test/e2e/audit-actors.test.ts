// The events the capability routes write (site.create, edge.create, edge.token.rotate,
// spec.apply, purge.create) name the real actor and address: the admin token, a named API
// token, a user's session. One route of each kind, over real HTTP.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';

describe('who the capability events name', () => {
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let base = '';
  let admin = '';

  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const res = await fetch(base + url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    expect(res.status, `${method} ${url}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const event = async (action: string, subject: string) =>
    (await store.listEvents({ limit: 200 })).filter(
      (e) => e.action === action && e.subject === subject,
    );

  beforeAll(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:1',
      version: 'test',
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('the admin token: edge.create says "admin token"', async () => {
    await call('POST', '/v1/edges', admin, { name: 'fra', host: { v4: '192.0.2.10' } });
    const [e] = await event('edge.create', 'fra');
    expect(e).toMatchObject({ actor: 'admin token', address: '127.0.0.1' });
  });

  it('a named API token: site.create, spec.apply and purge.create say token:NAME', async () => {
    const created = await call('POST', '/v1/tokens', admin, {
      name: 'deploy',
      scopes: ['sites:write', 'purge', 'admin'],
    });
    const token = String(created.value);
    await call('POST', '/v1/sites', token, {
      domain: 'a.example',
      origins: [{ host: { v4: '192.0.2.20' } }],
      edges: ['*'],
    });
    expect((await event('site.create', 'a.example'))[0]).toMatchObject({
      actor: 'token:deploy',
      address: '127.0.0.1',
    });
    const yaml = await (
      await fetch(`${base}/v1/state/yaml`, { headers: { authorization: `Bearer ${admin}` } })
    ).text();
    const more = yaml.replace(
      /^sites:\n/m,
      'sites:\n  - {domain: b.example, origins: [{host: {v4: 192.0.2.21}}]}\n',
    );
    expect(more).not.toBe(yaml);
    await call('POST', '/v1/apply', token, { yaml: more });
    const applies = await event('spec.apply', '');
    expect(applies.at(0)).toMatchObject({ actor: 'token:deploy', address: '127.0.0.1' });
    await call('POST', '/v1/sites/a.example/purge', token, { kind: 'urls', paths: ['/x.js'] });
    expect((await event('purge.create', 'a.example'))[0]).toMatchObject({
      actor: 'token:deploy',
      address: '127.0.0.1',
    });
  });

  it("a user's session: edge.token.rotate says user:NAME", async () => {
    await call('POST', '/v1/users', admin, {
      name: 'ops',
      password: 'correct horse battery',
      scopes: ['edges:write'],
    });
    const login = await fetch(`${base}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ops', password: 'correct horse battery' }),
    });
    const session = ((await login.json()) as { token: string }).token;
    await call('POST', '/v1/edges/fra/token', session);
    expect((await event('edge.token.rotate', 'fra'))[0]).toMatchObject({
      actor: 'user:ops',
      address: '127.0.0.1',
    });
    // None of the capability events says a bare 'admin' any more.
    expect((await store.listEvents({ limit: 200 })).map((e) => e.actor)).not.toContain('admin');
  });
});
