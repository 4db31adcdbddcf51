// The public status page's data: no addresses, no errors, no secrets; no auth.
import type { FastifyPluginAsync } from 'fastify';
import { publicStatus } from '../health/status.js';
import { docs } from '../http/openapi.js';
import { PublicStatus } from '../spec/index.js';
import type { StatusService } from './service.js';

export const publicStatusRoutes =
  (status: StatusService): FastifyPluginAsync =>
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
        return publicStatus(await status.snapshot(), new Date());
      },
    );
  };
