// The admin API's one door: finds the request's credential (the admin token, a named API
// token, a UI session), refuses an expired one, checks the scope its route declares in
// ROUTE_SCOPES (and, for site-restricted scopes, the site), and audits every change with who
// and from where.
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { isAdminToken } from '../http/admin-auth.js';
import { actorName, type Principal } from '../http/actor.js';
import { ApiError } from '../http/errors.js';
import { bearerToken, hashToken } from '../http/tokens.js';
import type { Grant } from '../spec/index.js';
import type { AccessQueries, SettingsQueries, StateQueries } from '../store/types.js';
import {
  holdsScope,
  reachesSites,
  routeKey,
  ROUTE_SCOPES,
  type RouteRule,
  type SiteRef,
} from './scopes.js';

export type AccessStore = Pick<AccessQueries, 'findApiToken' | 'touchApiToken'> &
  Pick<SettingsQueries, 'getSetting' | 'appendEvent'> &
  Pick<StateQueries, 'readSharedState'>;

const ADMIN_GRANT: Grant = { scopes: ['admin'], sites: [], tags: [] };
/** last_used_at is written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

/** The rule of a route; HEAD is the GET route Fastify adds beside it. */
export function ruleOf(method: string, url: string): RouteRule | undefined {
  return ROUTE_SCOPES[routeKey(method === 'HEAD' ? 'GET' : method, url)];
}

/** Finds the credential of a bearer token; undefined: none or wrong; throws when expired. */
export async function authenticate(
  store: AccessStore,
  token: string,
  now: Date,
): Promise<Principal | undefined> {
  if (await isAdminToken(store, token)) return { kind: 'admin', name: 'admin', grant: ADMIN_GRANT };
  const found = await store.findApiToken(hashToken(token));
  if (found === undefined) return undefined;
  if (found.expires_at !== null && Date.parse(found.expires_at) <= now.getTime()) {
    throw new ApiError(
      'unauthorized',
      found.kind === 'session'
        ? 'the session has ended; log in again'
        : `the token "${found.name}" expired at ${found.expires_at}`,
    );
  }
  const last = found.last_used_at === null ? 0 : Date.parse(found.last_used_at);
  if (now.getTime() - last >= TOUCH_EVERY_MS)
    await store.touchApiToken(found.name, now.toISOString());
  return found.kind === 'session'
    ? { kind: 'user', name: found.user ?? found.name, grant: found.grant }
    : { kind: 'token', name: found.name, grant: found.grant };
}

function describe(p: Principal): string {
  return p.kind === 'admin'
    ? 'the admin token'
    : p.kind === 'user'
      ? `user "${p.name}"`
      : `token "${p.name}"`;
}

/** The sites a request is about, for a rule with `site`. */
async function sitesOf(
  store: AccessStore,
  rule: RouteRule,
  req: FastifyRequest,
): Promise<SiteRef[]> {
  const sites: SiteRef[] = [];
  if (rule.site === 'param' || rule.site === 'both') {
    const domain = (req.params as { domain?: string }).domain ?? '';
    const { spec } = await store.readSharedState();
    const site = spec.sites.find((s) => s.domain === domain);
    sites.push({ domain, tags: site?.tags ?? [] });
  }
  if (rule.site === 'body' || rule.site === 'both') {
    const body = (req.body ?? {}) as { domain?: unknown; tags?: unknown };
    sites.push({
      domain: typeof body.domain === 'string' ? body.domain : '',
      tags: Array.isArray(body.tags)
        ? body.tags.filter((t): t is string => typeof t === 'string')
        : [],
    });
  }
  return sites;
}

/** Installs the door on an encapsulated Fastify context holding the admin routes. */
export function installAdminAccess(
  admin: FastifyInstance,
  store: AccessStore,
  now: () => Date = () => new Date(),
): void {
  admin.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (ruleOf(method, route.url) === undefined)
        throw new Error(
          `admin route ${routeKey(method, route.url)} declares no scope: add it to ROUTE_SCOPES (src/access/scopes.ts)`,
        );
    }
  });

  admin.addHook('onRequest', async (req) => {
    const token = bearerToken(req.headers.authorization);
    const principal = token === undefined ? undefined : await authenticate(store, token, now());
    if (principal === undefined)
      throw new ApiError('unauthorized', 'missing or wrong token (Authorization: Bearer …)');
    req.principal = principal;
    const rule = ruleOf(req.method, req.routeOptions.url ?? '');
    if (rule === undefined || !holdsScope(principal.grant, rule))
      throw new ApiError(
        'forbidden',
        `${describe(principal)} may not ${req.method} ${req.routeOptions.url ?? req.url}: it needs the scope ${(rule?.scopes ?? ['admin']).join(' or ') || 'admin'}`,
      );
  });

  // After the body is parsed: a site-restricted scope must reach the site(s) of the request.
  admin.addHook('preHandler', async (req) => {
    const rule = ruleOf(req.method, req.routeOptions.url ?? '');
    const principal = req.principal;
    if (rule?.site === undefined || principal === undefined) return;
    const sites = await sitesOf(store, rule, req);
    if (!reachesSites(principal.grant, rule, sites))
      throw new ApiError(
        'forbidden',
        `${describe(principal)} may not ${req.method} ${req.routeOptions.url ?? ''} for ${sites.map((s) => `"${s.domain}"`).join(' and ')}: its ${rule.scopes.join(' or ')} scope stops at ${[...principal.grant.sites, ...principal.grant.tags.map((t) => `tag ${t}`)].join(', ')}`,
      );
  });

  // The audit log: every change (and every refused one) with who and from where.
  admin.addHook('onResponse', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.principal === undefined) return;
    try {
      await store.appendEvent({
        actor: actorName(req.principal),
        action: reply.statusCode === 403 ? 'api.refused' : 'api.request',
        subject: `${req.method} ${req.url.split('?')[0] ?? ''}`,
        detail: { route: req.routeOptions.url ?? '', status: reply.statusCode },
        address: req.ip,
      });
    } catch (err) {
      req.log.error({ err }, 'could not write the audit event');
    }
  });
}
