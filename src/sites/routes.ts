// Admin API for sites: list, show, create, replace, delete.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { Deleted, MAX_SITE_PAGE, Site, SiteAnswer, SiteChanged, SiteList } from '../spec/index.js';
import { ApiError } from '../http/errors.js';
import { parseBody } from '../http/parse-body.js';
import type { DesiredState } from '../state/service.js';
import { docs } from '../http/openapi.js';
import { noneMatch } from '../http/etag.js';
import { badQuery, queryParams, wholeNumber } from '../http/query.js';
import { SiteListCache, type SitePageQuery } from './list-cache.js';

/** The query of GET /v1/sites, as documented (every field a string; see `parseSiteListQuery`). */
export const SiteListQuery = z.object({
  limit: z
    .string()
    .regex(/^[0-9]+$/)
    .optional()
    .describe(`Most sites in the answer (1 to ${MAX_SITE_PAGE}); without it, every site`),
  after: z
    .string()
    .optional()
    .describe('Only the sites after this domain in the spec order (`next` of the page before)'),
});

/** `?limit=&after=`, every problem named by its field. */
export function parseSiteListQuery(query: unknown): SitePageQuery {
  const { limit, after } = queryParams(query, SiteListQuery.shape);
  if (after === '') throw badQuery('after', 'must be a domain (the `next` of the page before)');
  return { limit: wholeNumber(limit, 'limit', 1, MAX_SITE_PAGE), after };
}

export const sitesRoutes =
  (state: DesiredState): FastifyPluginAsync =>
  async (app) => {
    const find = async (domain: string) => {
      const { spec } = await state.read();
      const site = spec.sites.find((s) => s.domain === domain);
      if (!site) throw new ApiError('not_found', `no site "${domain}"`, 'domain');
      return site;
    };

    // The answer's text is made once per state (list-cache.ts), never per request.
    const lists = new SiteListCache();
    app.get(
      '/v1/sites',
      {
        schema: docs({
          tag: 'sites',
          summary:
            'List sites in the spec order, all or one page (?limit=&after=); ETag and If-None-Match (304)',
          query: SiteListQuery,
          answers: { 200: SiteList, 304: null },
          errors: ['invalid_request'],
        }),
      },
      async (req, reply) => {
        const query = parseSiteListQuery(req.query);
        const list = lists.of(await state.read());
        let body = list.body;
        if (query.limit !== undefined || query.after !== undefined) {
          const page = list.page(query);
          if (page === undefined)
            throw badQuery(
              'after',
              `no site "${query.after ?? ''}" at revision ${list.revision} (deleted since the page before? list again from the start)`,
            );
          body = page;
        }
        void reply.header('etag', list.etag).header('cache-control', 'private, no-cache');
        if (noneMatch(req.headers['if-none-match'], list.etag)) return reply.status(304).send();
        // A string with a JSON type is sent as it is (Fastify serializes only objects).
        return reply.type('application/json; charset=utf-8').send(body);
      },
    );

    app.get<{ Params: { domain: string } }>(
      '/v1/sites/:domain',
      {
        schema: docs({
          tag: 'sites',
          summary: 'Show a site',
          answers: { 200: SiteAnswer },
          errors: ['not_found'],
        }),
      },
      async (req) => ({ site: await find(req.params.domain) }),
    );

    app.post(
      '/v1/sites',
      {
        schema: docs({
          tag: 'sites',
          summary: 'Create a site',
          body: Site,
          answers: { 201: SiteChanged },
          errors: ['invalid_spec', 'conflict', 'revision_conflict'],
        }),
      },
      async (req, reply) => {
        const site = parseBody(Site, req.body);
        const result = await state.change(
          (spec) => {
            if (spec.sites.some((s) => s.domain === site.domain))
              throw new ApiError('conflict', `site "${site.domain}" already exists`, 'domain');
            return { ...spec, sites: [...spec.sites, site] };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'site.create',
              subject: site.domain,
              detail: {},
            },
          },
        );
        return reply.status(201).send({ site, revision: result.revision, diff: result.diff });
      },
    );

    app.put<{ Params: { domain: string } }>(
      '/v1/sites/:domain',
      {
        schema: docs({
          tag: 'sites',
          summary: 'Replace a site (the domain comes from the URL)',
          body: Site,
          answers: { 200: SiteChanged },
          errors: ['invalid_spec', 'invalid_request', 'not_found', 'revision_conflict'],
        }),
      },
      async (req) => {
        const domain = req.params.domain;
        const site = parseBody(Site, { domain, ...(req.body as object) });
        if (site.domain !== domain)
          throw new ApiError(
            'invalid_request',
            'domain in the body differs from the URL; delete and create to rename',
            'domain',
          );
        const result = await state.change(
          (spec) => {
            const i = spec.sites.findIndex((s) => s.domain === domain);
            if (i < 0) throw new ApiError('not_found', `no site "${domain}"`, 'domain');
            const sites = [...spec.sites];
            sites[i] = site;
            return { ...spec, sites };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'site.update',
              subject: domain,
              detail: {},
            },
          },
        );
        return { site, revision: result.revision, diff: result.diff };
      },
    );

    app.delete<{ Params: { domain: string } }>(
      '/v1/sites/:domain',
      {
        schema: docs({
          tag: 'sites',
          summary: 'Delete a site',
          answers: { 200: Deleted },
          errors: ['invalid_spec', 'not_found', 'revision_conflict'],
        }),
      },
      async (req) => {
        const domain = req.params.domain;
        const result = await state.change(
          (spec) => {
            if (!spec.sites.some((s) => s.domain === domain))
              throw new ApiError('not_found', `no site "${domain}"`, 'domain');
            return { ...spec, sites: spec.sites.filter((s) => s.domain !== domain) };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'site.delete',
              subject: domain,
              detail: {},
            },
          },
        );
        return { deleted: domain, revision: result.revision };
      },
    );
  };
