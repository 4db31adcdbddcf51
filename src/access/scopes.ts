// Who may do what: the scope every admin route needs, in one table, and the check of a
// credential's grant against it. A route missing from the table cannot be registered
// (access/auth.ts refuses it at start), and the scope matrix test walks this table.
import type { Grant, Scope, Site } from '../spec/index.js';

export interface RouteRule {
  /** Any one of these scopes is enough (`admin` always is). Empty: any valid credential. */
  scopes: readonly Scope[];
  /**
   * Which site the request is about, for the site-restricted scopes (`purge`, `sites:write`):
   * `param` the `:domain` of the URL, `body` the site in the body, `both` both of them.
   */
  site?: 'param' | 'body' | 'both';
}

const READ: RouteRule = { scopes: ['read'] };
const ADMIN: RouteRule = { scopes: ['admin'] };
const EDGES: RouteRule = { scopes: ['edges:write'] };
const SITE: RouteRule = { scopes: ['sites:write'], site: 'param' };

/** Every admin route (`METHOD /url/:param`, as registered) and what it needs. */
export const ROUTE_SCOPES: Readonly<Record<string, RouteRule>> = {
  'GET /v1/state': READ,
  'GET /v1/state/yaml': READ,
  'POST /v1/apply': ADMIN,
  'GET /v1/events': READ,
  'GET /v1/status': READ,
  'GET /v1/status/sites/:domain': READ,
  'GET /v1/events/stream': READ,
  'GET /metrics': READ,
  'GET /v1/edges/:name/plan': READ,
  'GET /v1/history/edges': READ,
  'GET /v1/history/edges/:name': READ,
  'GET /v1/history/sites/:domain': READ,
  'GET /v1/status/settings': READ,
  'PUT /v1/status/settings': ADMIN,

  'GET /v1/sites': READ,
  'GET /v1/sites/:domain': READ,
  'POST /v1/sites': { scopes: ['sites:write'], site: 'body' },
  'PUT /v1/sites/:domain': { scopes: ['sites:write'], site: 'both' },
  'DELETE /v1/sites/:domain': SITE,

  'POST /v1/sites/:domain/purge': { scopes: ['purge'], site: 'param' },
  'GET /v1/purges/:id': { scopes: ['read', 'purge'] },
  'GET /v1/sites/:domain/logs': READ,

  'GET /v1/certificates': READ,
  'GET /v1/certificates/:domain': READ,
  'PUT /v1/certificates/:domain': SITE,
  'DELETE /v1/certificates/:domain': SITE,
  'POST /v1/certificates/:domain/issue': SITE,
  'GET /v1/certificates/:domain/attempts/:id': READ,

  'GET /v1/edges': READ,
  'GET /v1/edges/:name': READ,
  'POST /v1/edges': EDGES,
  'PUT /v1/edges/:name': EDGES,
  'DELETE /v1/edges/:name': EDGES,
  'POST /v1/edges/:name/token': EDGES,
  'DELETE /v1/edges/:name/token': EDGES,

  'GET /v1/dns/plan': READ,
  'POST /v1/dns/apply': ADMIN,
  'GET /v1/dns/status': READ,

  'GET /v1/whoami': { scopes: [] },
  'GET /v1/tokens': ADMIN,
  'POST /v1/tokens': ADMIN,
  'DELETE /v1/tokens/:name': ADMIN,
  'GET /v1/users': ADMIN,
  'POST /v1/users': ADMIN,
  'PUT /v1/users/:name/password': ADMIN,
  'DELETE /v1/users/:name': ADMIN,
  'POST /v1/secrets/rotate-key': ADMIN,

  'GET /v1/alerts': READ,
  'GET /v1/alerts/channels': READ,
  'POST /v1/alerts/channels': ADMIN,
  'DELETE /v1/alerts/channels/:name': ADMIN,
  'POST /v1/alerts/channels/:name/test': ADMIN,
};

export function routeKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

/** Scopes that stop at the sites (domains, tags) of the grant. */
const SITE_SCOPES: ReadonlySet<Scope> = new Set(['purge', 'sites:write']);

/** A site a request is about: its domain and, when it exists (or the body has them), its tags. */
export interface SiteRef {
  domain: string;
  tags: readonly string[];
}

export function siteRef(site: Pick<Site, 'domain' | 'tags'>): SiteRef {
  return { domain: site.domain, tags: site.tags ?? [] };
}

/** Whether a grant holds one of the rule's scopes at all (before the sites are known). */
export function holdsScope(grant: Grant, rule: RouteRule): boolean {
  if (grant.scopes.includes('admin') || rule.scopes.length === 0) return true;
  return rule.scopes.some((s) => grant.scopes.includes(s));
}

/** Whether a grant's scope for this rule reaches each of `sites`. */
export function reachesSites(grant: Grant, rule: RouteRule, sites: readonly SiteRef[]): boolean {
  if (grant.scopes.includes('admin')) return true;
  return rule.scopes.some((scope) => {
    if (!grant.scopes.includes(scope)) return false;
    if (!SITE_SCOPES.has(scope)) return true;
    if (grant.sites.length === 0 && grant.tags.length === 0) return true;
    return sites.every(
      (site) => grant.sites.includes(site.domain) || site.tags.some((t) => grant.tags.includes(t)),
    );
  });
}
