// Access rules, rate limits and named IP lists (issue 16 part A) → nginx. Pure.
//
// - Access: the server block sets `$outpost_access` to the first matching rule (0: none); the
//   site's `location /` (never the ACME challenge path) acts on it before the modifiers: a deny
//   marks `$outpost_block` "denied" (logged by the agent's access log format) and answers its
//   status (with the body from a named location), a redirect answers its target.
// - Rate limits: one `limit_req_zone` per limit at http level, keyed by a variable named after
//   the zone that the server block sets to the key (client address or header) when the limit's
//   matcher matches, else to "" (not counted). Zone and key names come from the domain and the
//   limit name, never from positions: nginx refuses a reload that gives a zone another key.
//   A rejected request gets `Retry-After` from `$outpost_retry_after` (edge.conf map).
// - Named IP lists: nginx/lists.conf, one geo block each, shared by the sites; no release
//   number in it, so a list change changes that file only (nginx still reloads the whole
//   configuration: the agent reloads as for any release).
import { createHash } from 'node:crypto';
import type { EdgePlan, PlannedAccessRule, PlannedSite } from '../compile/index.js';
import type { RateLimit } from '../spec/index.js';
import { nginxLiteral, nginxString } from './escape.js';
import type { Conf } from './nginx-conf.js';
import { Conf as ConfClass } from './nginx-conf.js';
import {
  headerVariable,
  ipListVariable,
  renderGeo,
  renderMatch,
  type SiteMatchNames,
} from './nginx-match.js';

/** The release file of the named IP lists (included with the other nginx/*.conf). */
export const IP_LISTS_PATH = 'nginx/lists.conf';
/** The first matching access rule (1-based, in precedence order), 0 for none. */
export const ACCESS_VARIABLE = 'outpost_access';
/** "denied" / "" for the access log (the agent counts it); defined in the main nginx.conf. */
export const BLOCK_VARIABLE = 'outpost_block';
/** Seconds to send in Retry-After when the request is rejected by a limit (else ""). */
export const RETRY_VARIABLE = 'outpost_retry';
export const RETRY_AFTER_VARIABLE = 'outpost_retry_after';

/** nginx/lists.conf, or null when no site of the edge names a list. */
export function renderIpLists(plan: EdgePlan): string | null {
  if (plan.ipLists.length === 0) return null;
  const c = new ConfClass();
  c.line(
    `# Named IP lists of edge ${nginxLiteral(plan.edge)} (spec ip_lists). Generated: do not edit.`,
  );
  for (const l of plan.ipLists) {
    c.line(`# @${l.name}: ${l.networks.length} network(s)`);
    renderGeo(c, ipListVariable(l.name), l.networks);
  }
  return c.toString();
}

/** The shared edge.conf part: Retry-After on rejected requests (when a site has a limit). */
export function renderEdgeRateLimitMap(c: Conf, anyLimit: boolean): void {
  if (!anyLimit) return;
  c.line('# Retry-After (seconds) on requests a rate limit rejected; "" sends no header.');
  c.block(`map "$limit_req_status:$${RETRY_VARIABLE}" $${RETRY_AFTER_VARIABLE}`, () => {
    c.line('volatile;');
    c.line('default "";');
    c.line('"~^REJECTED:(?<outpost_ra>[0-9]+)$" $outpost_ra;');
  });
}

/** A limit's zone (and key variable) name: stable across releases and unique per edge. */
export function rateLimitZone(domain: string, limit: Pick<RateLimit, 'name'>): string {
  const hash = createHash('sha256').update(domain).digest('hex').slice(0, 10);
  return `outpost_rl_${hash}_${limit.name.replace(/-/g, '_')}`;
}

/** Seconds until a rejected client may try again: one request's interval, rounded up. */
export function retryAfterSeconds(rate: string): number {
  const n = Number(rate.slice(0, rate.indexOf('r')));
  return rate.endsWith('r/s') ? 1 : Math.max(1, Math.ceil(60 / n));
}

function limitKey(limit: RateLimit): string {
  return limit.key === 'ip'
    ? '$binary_remote_addr'
    : `$${headerVariable(limit.key.slice('header:'.length))}`;
}

/** The http-level zones of a site's limits (sites.conf, before its servers). */
export function renderRateLimitZones(c: Conf, site: PlannedSite): void {
  for (const l of site.rateLimits) {
    const zone = rateLimitZone(site.domain, l);
    c.line(
      `# rate limit ${l.name} of ${nginxLiteral(site.domain)}: ${l.rate}, burst ${l.burst}, key ${l.key}`,
    );
    c.line(`limit_req_zone $${zone} zone=${zone}:1m rate=${l.rate};`);
  }
}

/** Server-level decisions: which access rule matches, which limits count this request. */
export function renderAccessDecision(
  c: Conf,
  site: PlannedSite,
  names: SiteMatchNames,
  requestRegex: (m: PlannedAccessRule['match']) => string,
): void {
  const access = site.access;
  if (access !== null) {
    c.line(`set $${ACCESS_VARIABLE} 0;`);
    access.rules.forEach((r, i) => c.line(`# access ${i + 1}: ${describeAccessRule(r)}`));
    // Tried last to first: the first matching rule sets the value last.
    [...access.rules].reverse().forEach((r, k) => {
      const i = access.rules.length - k;
      renderMatch(c, r.match, requestRegex(r.match), names, () =>
        c.line(`set $${ACCESS_VARIABLE} ${i};`),
      );
    });
  }
  if (site.rateLimits.length === 0) return;
  // Retry-After: the longest interval of the limits that count this request (set in order).
  c.line(`set $${RETRY_VARIABLE} "";`);
  const byInterval = [...site.rateLimits].sort(
    (a, b) => retryAfterSeconds(a.rate) - retryAfterSeconds(b.rate),
  );
  for (const l of byInterval) {
    const zone = rateLimitZone(site.domain, l);
    const count = () => {
      c.line(`set $${zone} ${limitKey(l)};`);
      c.line(`set $${RETRY_VARIABLE} ${retryAfterSeconds(l.rate)};`);
    };
    if (l.match === undefined || Object.keys(l.match).length === 0) {
      count();
      continue;
    }
    c.line(`set $${zone} "";`);
    renderMatch(c, l.match, requestRegex(l.match), names, count);
  }
  for (const l of site.rateLimits) {
    const delay = l.delay === 'nodelay' ? ' nodelay' : l.delay === 0 ? '' : ` delay=${l.delay}`;
    // nginx refuses burst=0: no burst is the same (every request over the rate is rejected).
    const burst = l.burst === 0 ? '' : ` burst=${l.burst}`;
    c.line(`limit_req zone=${rateLimitZone(site.domain, l)}${burst}${delay};`);
  }
  c.line(`limit_req_status ${site.rateLimits[0]?.status ?? 429};`);
  // Rejections are counted from the access log; at "error" each would also be an error line.
  c.line('limit_req_log_level notice;');
}

/** The Retry-After header of a site with limits (server level, beside the other headers). */
export function renderRateLimitHeader(c: Conf, site: PlannedSite): void {
  if (site.rateLimits.length > 0) c.line(`add_header Retry-After $${RETRY_AFTER_VARIABLE} always;`);
}

/** Named location answering a deny with the site's body (text/plain). */
function denyLocation(upstream: string, status: number): string {
  return `@${upstream}_deny${status}`;
}

/**
 * The access actions, first in a site's `location /`. `redirectTarget` renders a redirect
 * template as modifiers do.
 */
export function renderAccessActions(
  c: Conf,
  site: PlannedSite,
  upstream: string,
  redirectTarget: (template: string) => string,
): void {
  const access = site.access;
  if (access === null) return;
  const deny = (status: number) => {
    // 444 closes the connection without an answer: no body to send.
    if (access.body !== null && status !== 444) {
      c.line(`error_page 418 = ${denyLocation(upstream, status)};`);
      c.line('return 418;');
    } else {
      c.line(`set $${BLOCK_VARIABLE} denied;`);
      c.line(`return ${status};`);
    }
  };
  access.rules.forEach((r, k) => {
    if (r.action === 'allow') return;
    c.block(`if ($${ACCESS_VARIABLE} = ${k + 1})`, () => {
      if (r.action === 'deny') deny(r.status);
      else c.line(`return ${r.status} ${redirectTarget(r.target ?? '/')};`);
    });
  });
  if (access.default === 'deny') c.block(`if ($${ACCESS_VARIABLE} = 0)`, () => deny(access.status));
}

/** The named locations of deny answers with a body, one per status used. */
export function renderAccessLocations(c: Conf, site: PlannedSite, upstream: string): void {
  const access = site.access;
  if (access === null || access.body === null) return;
  const statuses = new Set<number>();
  for (const r of access.rules) if (r.action === 'deny') statuses.add(r.status);
  if (access.default === 'deny') statuses.add(access.status);
  statuses.delete(444);
  for (const status of [...statuses].sort((a, b) => a - b))
    c.block(`location ${denyLocation(upstream, status)}`, () => {
      c.line(`set $${BLOCK_VARIABLE} denied;`);
      c.line('default_type text/plain;');
      c.line(`return ${status} ${bodyString(access.body ?? '')};`);
    });
}

/** A body as an nginx string: newlines and tabs as nginx's `\\n` and `\\t` escapes. */
function bodyString(body: string): string {
  const parts = body.split(/([\t\n])/);
  const text = parts
    .map((p) => (p === '\n' ? '\\n' : p === '\t' ? '\\t' : nginxString(p).slice(1, -1)))
    .join('');
  return `"${text}"`;
}

function describeAccessRule(r: PlannedAccessRule): string {
  const where = r.selector === null ? 'site' : `${r.level} ${r.selector}`;
  const name = r.name === null ? '' : ` ${r.name}`;
  const what =
    r.action === 'allow'
      ? 'allow'
      : r.action === 'deny'
        ? `deny ${r.status}`
        : `redirect ${r.status}`;
  return `rule${name} (${where}, spec #${r.index}): ${what}`;
}
