// Admin API for purges: create one for a site, then follow it edge by edge.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import { PurgeRequest, PurgeStatus } from '../spec/index.js';
import { docs } from '../http/openapi.js';
import { ApiError } from '../http/errors.js';
import { parseBody } from '../http/parse-body.js';
import type { PurgeService } from './service.js';

export const purgeRoutes =
  (purges: PurgeService): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: { domain: string } }>(
      '/v1/sites/:domain/purge',
      {
        schema: docs({
          tag: 'purge',
          summary: 'Purge a site from its edges: by URL, prefix, tag, or all',
          body: PurgeRequest,
          answers: { 202: PurgeStatus },
          errors: ['invalid_request', 'not_found'],
        }),
      },
      async (req, reply) => {
        const request = parseBody(PurgeRequest, req.body);
        const purge = await purges.create(req.params.domain, request, actorOf(req), req.ip);
        return reply.status(202).send(purge);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/v1/purges/:id',
      {
        schema: docs({
          tag: 'purge',
          summary: 'A purge and where each edge stands with it (pending, done, failed)',
          answers: { 200: PurgeStatus },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const purge = await purges.get(Number(req.params.id));
        if (!purge) throw new ApiError('not_found', `no purge ${req.params.id}`, 'id');
        return purge;
      },
    );
  };
