// Admin API for sites: list, show, create, replace, delete.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import { Deleted, Site, SiteAnswer, SiteChanged, SiteList } from '../spec/index.js';
import { ApiError } from '../http/errors.js';
import { parseBody } from '../http/parse-body.js';
import type { DesiredState } from '../state/service.js';
import { docs } from '../http/openapi.js';

export const sitesRoutes =
  (state: DesiredState): FastifyPluginAsync =>
  async (app) => {
    const find = async (domain: string) => {
      const { spec } = await state.read();
      const site = spec.sites.find((s) => s.domain === domain);
      if (!site) throw new ApiError('not_found', `no site "${domain}"`, 'domain');
      return site;
    };

    app.get(
      '/v1/sites',
      { schema: docs({ tag: 'sites', summary: 'List sites', answers: { 200: SiteList } }) },
      async () => {
        const { spec, revision } = await state.read();
        return { revision, sites: spec.sites };
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
