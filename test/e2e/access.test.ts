// Who may do what, through a real control plane on loopback: the scope matrix (every admin
// route of ROUTE_SCOPES × every scope, allowed or 403), a CI token that purges one site and
// nothing else, tags, expiry, revocation, users and their sessions, and the audit log.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_SCOPES } from '../../src/access/scopes.js';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import type { Scope } from '../../src/spec/api.js';
import { openStore, type Store } from '../../src/store/index.js';

const SCOPES: Scope[] = ['read', 'purge', 'sites:write', 'edges:write', 'admin'];
const PARAMS: Record<string, string> = { domain: 'a.example', name: 'nobody', id: '999' };

describe('scoped access to the admin API', () => {
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let base = '';
  let admin = '';
  const tokens: Partial<Record<Scope, string>> = {};

  /** Status of a request; the answer is not awaited past its head (the event stream). */
  const status = async (method: string, url: string, token: string, body?: unknown) => {
    const abort = new AbortController();
    const withBody = body !== undefined || method === 'POST' || method === 'PUT';
    const res = await fetch(base + url, {
      method,
      signal: abort.signal,
      headers: {
        authorization: `Bearer ${token}`,
        ...(withBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(withBody ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    const text = res.headers.get('content-type')?.includes('text/event-stream')
      ? ''
      : await res.text();
    abort.abort();
    return { status: res.status, text };
  };

  const createToken = async (body: Record<string, unknown>): Promise<string> => {
    const res = await fetch(`${base}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { value: string };
    expect(res.status, JSON.stringify(json)).toBe(201);
    return json.value;
  };

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
    for (const scope of SCOPES)
      tokens[scope] = await createToken({ name: `t-${scope.replace(':', '-')}`, scopes: [scope] });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const routes = Object.entries(ROUTE_SCOPES).map(([key, rule]) => {
    const [method = '', pattern = ''] = key.split(' ') as [
      'GET' | 'POST' | 'PUT' | 'DELETE',
      string,
    ];
    const url = pattern.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] ?? p);
    return { key, method, pattern, url, rule };
  });

  it('every route of the table is registered (and an undeclared one cannot be: auth.test.ts)', () => {
    expect(routes.length).toBeGreaterThan(30);
    for (const r of routes)
      expect(app.hasRoute({ method: r.method, url: r.pattern }), r.key).toBe(true);
  });

  it('the matrix: every admin route × every scope is allowed or 403', async () => {
    const wrong: string[] = [];
    let allowed = 0;
    let refused = 0;
    for (const scope of SCOPES) {
      for (const r of routes) {
        // Independent of the code under test: admin does everything, else the route's list.
        const expectAllowed =
          scope === 'admin' || r.rule.scopes.length === 0 || r.rule.scopes.includes(scope);
        const res = await status(r.method, r.url, tokens[scope] ?? '');
        if (res.status === 401) wrong.push(`${scope} ${r.key}: 401 ${res.text}`);
        else if ((res.status === 403) === expectAllowed)
          wrong.push(
            `${scope} ${r.key}: ${res.status}, expected ${expectAllowed ? 'allowed' : '403'} ${res.text}`,
          );
        if (res.status === 403) {
          refused++;
          expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'forbidden' } });
        } else allowed++;
      }
    }
    expect(wrong).toEqual([]);
    expect(allowed + refused).toBe(routes.length * SCOPES.length);
    expect(refused).toBeGreaterThan(routes.length);
  });

  it('a CI token with purge for one site purges that site and nothing else', async () => {
    await status('POST', '/v1/apply', admin, {
      spec: {
        sites: [
          {
            domain: 'a.example',
            origins: [{ host: { v4: '127.0.0.1' }, port: 9 }],
            tls: { acme: false },
          },
          {
            domain: 'b.example',
            origins: [{ host: { v4: '127.0.0.1' }, port: 9 }],
            tls: { acme: false },
          },
        ],
      },
    });
    const ci = await createToken({ name: 'ci', scopes: ['purge'], sites: ['a.example'] });
    const mine = await status('POST', '/v1/sites/a.example/purge', ci, { kind: 'all' });
    expect(mine.status, mine.text).toBe(202);
    const other = await status('POST', '/v1/sites/b.example/purge', ci, { kind: 'all' });
    expect(other.status).toBe(403);
    expect(other.text).toContain('stops at a.example');
    const denied: string[] = [];
    for (const r of routes) {
      if (r.key === 'POST /v1/sites/:domain/purge' || r.rule.scopes.length === 0) continue;
      if (r.rule.scopes.includes('purge')) continue; // reading a purge's progress
      const res = await status(r.method, r.url, ci);
      if (res.status !== 403) denied.push(`${r.key}: ${res.status}`);
    }
    expect(denied).toEqual([]);
  });

  it('sites:write for a tag reaches the tagged sites only, and cannot tag a site into reach', async () => {
    const site = (domain: string, tags?: string[]) => ({
      domain,
      origins: [{ host: { v4: '127.0.0.1' }, port: 9 }],
      tls: { acme: false },
      ...(tags ? { tags } : {}),
    });
    const tagged = await createToken({
      name: 'team-shop',
      scopes: ['sites:write'],
      tags: ['shop'],
    });
    expect((await status('POST', '/v1/sites', tagged, site('c.example', ['shop']))).status).toBe(
      201,
    );
    expect((await status('POST', '/v1/sites', tagged, site('d.example'))).status).toBe(403);
    expect(
      (await status('PUT', '/v1/sites/c.example', tagged, site('c.example', ['shop']))).status,
    ).toBe(200);
    // b.example has no tag: neither changing it nor tagging it "shop" is in reach.
    expect(
      (await status('PUT', '/v1/sites/b.example', tagged, site('b.example', ['shop']))).status,
    ).toBe(403);
    expect((await status('DELETE', '/v1/sites/b.example', tagged)).status).toBe(403);
    expect((await status('DELETE', '/v1/sites/c.example', tagged)).status).toBe(200);
  });

  it('an expired, revoked or unknown token is refused (401), and last use is recorded', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const short = await createToken({ name: 'short', scopes: ['read'], expires_at: soon });
    expect((await status('GET', '/v1/status', short)).status).toBe(200);
    const list = (await (
      await fetch(`${base}/v1/tokens`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as {
      tokens: { name: string; last_used_at: string | null; expires_at: string | null }[];
    };
    const info = list.tokens.find((t) => t.name === 'short');
    expect(info?.last_used_at).not.toBeNull();
    expect(info?.expires_at).toBe(soon);
    expect(JSON.stringify(list)).not.toContain(short);
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 50));
    const expired = await status('GET', '/v1/status', short);
    expect(expired.status).toBe(401);
    expect(expired.text).toContain('expired');

    const gone = await createToken({ name: 'gone', scopes: ['read'] });
    expect((await status('DELETE', '/v1/tokens/gone', admin)).status).toBe(200);
    expect((await status('GET', '/v1/status', gone)).status).toBe(401);
    expect((await status('GET', '/v1/status', 'opt_nothing')).status).toBe(401);
    expect(
      (await status('POST', '/v1/tokens', admin, { name: 'x', scopes: ['root'] })).text,
    ).toContain('scopes');
    expect(
      (await status('POST', '/v1/tokens', admin, { name: 'ci', scopes: ['read'] })).status,
    ).toBe(409);
  });

  it('users log in with a password; their role is a grant; a new password ends the sessions', async () => {
    const add = await status('POST', '/v1/users', admin, {
      name: 'ops',
      password: 'correct horse battery',
      scopes: ['read'],
    });
    expect(add.status, add.text).toBe(201);
    expect(add.text).not.toContain('correct horse');
    const login = async (password: string) => {
      const res = await fetch(`${base}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'ops', password }),
      });
      return { status: res.status, body: (await res.json()) as { token?: string } };
    };
    expect((await login('wrong password here')).status).toBe(401);
    const ok = await login('correct horse battery');
    expect(ok.status).toBe(200);
    const session = ok.body.token ?? '';
    expect(session).toMatch(/^ops_/);
    expect((await status('GET', '/v1/status', session)).status).toBe(200);
    expect((await status('POST', '/v1/edges', session, {})).status).toBe(403);
    const who = await status('GET', '/v1/whoami', session);
    expect(JSON.parse(who.text)).toMatchObject({ kind: 'user', name: 'ops', scopes: ['read'] });
    expect(
      (await status('PUT', '/v1/users/ops/password', admin, { password: 'short' })).status,
    ).toBe(400);
    expect(
      (await status('PUT', '/v1/users/ops/password', admin, { password: 'another long password' }))
        .status,
    ).toBe(200);
    expect((await status('GET', '/v1/status', session)).status).toBe(401);
    expect((await login('correct horse battery')).status).toBe(401);
    expect((await login('another long password')).status).toBe(200);
    const stored = await store.getUser('ops');
    expect(stored?.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it('the audit log says who did what from where', async () => {
    const res = await fetch(`${base}/v1/events?limit=200`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const { events } = (await res.json()) as {
      events: { actor: string; action: string; subject: string; address: string | null }[];
    };
    const purge = events.find(
      (e) => e.actor === 'token:ci' && e.subject === 'POST /v1/sites/a.example/purge',
    );
    expect(purge).toMatchObject({ action: 'api.request', address: '127.0.0.1' });
    const refused = events.find(
      (e) => e.actor === 'token:ci' && e.subject === 'POST /v1/sites/b.example/purge',
    );
    expect(refused).toMatchObject({ action: 'api.refused', address: '127.0.0.1' });
    expect(
      events.some(
        (e) => e.actor === 'admin token' && e.action === 'token.create' && e.subject === 'ci',
      ),
    ).toBe(true);
    expect(
      events.some(
        (e) => e.actor === 'user:ops' && e.action === 'login' && e.address === '127.0.0.1',
      ),
    ).toBe(true);
  });
});
