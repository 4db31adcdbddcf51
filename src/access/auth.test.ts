import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installAdminAccess, type AccessStore } from './auth.js';
import { reachesSites, ROUTE_SCOPES } from './scopes.js';

const store = {} as AccessStore;

describe('the admin door', () => {
  it('refuses to register an admin route that declares no scope', async () => {
    const app = Fastify();
    const registered = app.register(async (admin) => {
      installAdminAccess(admin, store);
      admin.get('/v1/undeclared', async () => ({}));
    });
    await expect(registered).rejects.toThrow(
      'admin route GET /v1/undeclared declares no scope: add it to ROUTE_SCOPES',
    );
  });

  it('site-restricted scopes stop at their domains and tags', () => {
    const rule = ROUTE_SCOPES['POST /v1/sites/:domain/purge'];
    expect(rule).toBeDefined();
    if (!rule) return;
    const ci = { scopes: ['purge' as const], sites: ['a.example'], tags: ['shop'] };
    expect(reachesSites(ci, rule, [{ domain: 'a.example', tags: [] }])).toBe(true);
    expect(reachesSites(ci, rule, [{ domain: 'b.example', tags: ['shop'] }])).toBe(true);
    expect(reachesSites(ci, rule, [{ domain: 'b.example', tags: ['blog'] }])).toBe(false);
    expect(
      reachesSites({ ...ci, scopes: ['read'] }, rule, [{ domain: 'a.example', tags: [] }]),
    ).toBe(false);
    expect(
      reachesSites({ scopes: ['admin'], sites: [], tags: [] }, rule, [{ domain: 'z', tags: [] }]),
    ).toBe(true);
  });
});
