// The public status page's data: no addresses, no errors, no secrets; no auth.
import type { FastifyPluginAsync } from 'fastify';
import { publicStatus } from '../health/status.js';
import type { StatusService } from './service.js';

export const publicStatusRoutes =
  (status: StatusService): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/public/status',
      { schema: { tags: ['status'], summary: 'Public status: edges and sites, up or down' } },
      async (_req, reply) => {
        void reply.header('cache-control', 'public, max-age=5');
        return publicStatus(await status.snapshot(), new Date());
      },
    );
  };
