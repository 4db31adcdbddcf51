// The public status page's data: no addresses, no errors, no secrets; no auth. Which sites and
// edges appear, the title and the per-site pages follow the status settings.
import type { FastifyPluginAsync } from 'fastify';
import { publicStatus, type StatusSnapshot } from '../health/status.js';
import { ApiError } from '../http/errors.js';
import { docs } from '../http/openapi.js';
import {
  PublicSiteStatus,
  PublicStatus,
  PublicStatusHistory,
  type Health,
  type StatusBadge,
} from '../spec/index.js';
import type { Store } from '../store/types.js';
import { publicIncident, publicRows, shownOnPage } from './history.js';
import type { StatusService } from './service.js';

const NINETY_DAYS_MS = 90 * 86_400_000;

/** An edge that stopped reporting is down on the public page, whatever its last probe said. */
function publicEdgeHealth(snapshot: StatusSnapshot): StatusSnapshot {
  return {
    ...snapshot,
    edges: snapshot.edges.map((e) => (e.state === 'offline' ? { ...e, health: 'down' } : e)),
  };
}

const BADGE_COLOR: Record<Health, string> = {
  up: '#2e7d32',
  degraded: '#f9a825',
  down: '#c62828',
  unknown: '#757575',
};

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A flat two-part badge, its width from the text length (Verdana 11 px: about 7 px a char). */
export function badgeSvg(label: string, message: string, color: string): string {
  const lw = 10 + label.length * 7;
  const mw = 10 + message.length * 7;
  const w = lw + mw;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${escapeXml(`${label}: ${message}`)}">` +
    `<title>${escapeXml(`${label}: ${message}`)}</title>` +
    `<rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${color}"/>` +
    `<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">` +
    `<text x="${lw / 2}" y="14">${escapeXml(label)}</text><text x="${lw + mw / 2}" y="14">${escapeXml(message)}</text>` +
    `</g></svg>`
  );
}

export const publicStatusRoutes =
  (status: StatusService, store: Store): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/public/status',
      {
        schema: docs({
          tag: 'status',
          summary: 'Public status: edges and sites, up or down (no auth)',
          door: 'open',
          answers: { 200: PublicStatus },
        }),
      },
      async (_req, reply) => {
        void reply.header('cache-control', 'public, max-age=5');
        const [snapshot, settings, { spec }] = await Promise.all([
          status.snapshot(),
          status.settings(),
          store.readSharedState(),
        ]);
        const shown = shownOnPage(settings, spec);
        const all = publicStatus(snapshot, new Date());
        return {
          ...all,
          edges: all.edges.filter((e) => shown.edges.includes(e.name)),
          sites: all.sites.filter((s) => shown.sites.includes(s.domain)),
        };
      },
    );

    app.get(
      '/v1/public/status/history',
      {
        schema: docs({
          tag: 'status',
          summary: 'Public status page: 90-day uptime bars, response times, incidents',
          door: 'open',
          answers: { 200: PublicStatusHistory },
        }),
      },
      async (_req, reply): Promise<PublicStatusHistory> => {
        void reply.header('cache-control', 'public, max-age=15');
        const now = new Date();
        const [snapshot, settings, { spec }] = await Promise.all([
          status.snapshot(),
          status.settings(),
          store.readSharedState(),
        ]);
        const shown = shownOnPage(settings, spec);
        const rows = await publicRows(store, publicEdgeHealth(snapshot), shown, now);
        const incidents = (
          await store.listIncidents({
            since: new Date(now.getTime() - NINETY_DAYS_MS).toISOString(),
          })
        )
          .filter((i) =>
            i.kind === 'edge' ? shown.edges.includes(i.subject) : shown.sites.includes(i.subject),
          )
          .map((i) => publicIncident(i, now));
        return {
          title: settings.title,
          updated_at: now.toISOString(),
          site_pages: settings.site_pages,
          ...rows,
          incidents,
        };
      },
    );

    /** A site shown on the page with per-site pages on, or a 404 that says nothing more. */
    const shownSite = async (domain: string) => {
      const [settings, { spec }] = await Promise.all([status.settings(), store.readSharedState()]);
      if (!settings.site_pages || !shownOnPage(settings, spec).sites.includes(domain))
        throw new ApiError('not_found', 'no such status page', 'domain');
      return settings;
    };

    app.get<{ Params: { domain: string } }>(
      '/v1/public/status/sites/:domain',
      {
        schema: docs({
          tag: 'status',
          summary: "One site's public status page",
          door: 'open',
          answers: { 200: PublicSiteStatus },
          errors: ['not_found'],
        }),
      },
      async (req, reply): Promise<PublicSiteStatus> => {
        const settings = await shownSite(req.params.domain);
        void reply.header('cache-control', 'public, max-age=15');
        const now = new Date();
        const snapshot = await status.snapshot();
        const rows = await publicRows(
          store,
          snapshot,
          { edges: [], sites: [req.params.domain] },
          now,
        );
        const site = rows.sites[0];
        if (!site) throw new ApiError('not_found', 'no such status page', 'domain');
        const incidents = (
          await store.listIncidents({
            since: new Date(now.getTime() - NINETY_DAYS_MS).toISOString(),
            kind: 'site',
            subject: req.params.domain,
          })
        ).map((i) => publicIncident(i, now));
        return { title: settings.title, updated_at: now.toISOString(), site, incidents };
      },
    );

    const badge = async (domain: string) => {
      await shownSite(domain);
      const health =
        (await status.snapshot()).sites.find((s) => s.domain === domain)?.health ?? 'unknown';
      return { label: domain, message: health, color: BADGE_COLOR[health] };
    };

    app.get<{ Params: { file: string } }>(
      '/v1/public/badge/:file',
      {
        schema: docs({
          tag: 'status',
          summary: "A site's status badge: DOMAIN.svg, or DOMAIN.json (shields.io endpoint)",
          door: 'open',
          answers: {
            200: {
              media: 'image/svg+xml',
              description: 'the badge (DOMAIN.svg); DOMAIN.json answers StatusBadge as JSON',
            },
          },
          errors: ['not_found'],
        }),
      },
      async (req, reply) => {
        const m = /^(.+)\.(svg|json)$/.exec(req.params.file);
        if (!m?.[1])
          throw new ApiError('not_found', 'a badge is DOMAIN.svg or DOMAIN.json', 'file');
        const b = await badge(m[1]);
        void reply.header('cache-control', 'public, max-age=30');
        if (m[2] === 'json') {
          const answer: StatusBadge = { schemaVersion: 1, ...b };
          return answer;
        }
        return reply
          .type('image/svg+xml; charset=utf-8')
          .send(badgeSvg(b.label, b.message, b.color));
      },
    );
  };
