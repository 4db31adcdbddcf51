// Admin API of the DNS capability: plan, apply (optionally pruning) and per-zone drift. The
// provider's credentials stay on the control plane; the CLI only sees the results.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { docs } from '../http/openapi.js';
import { parseBody } from '../http/parse-body.js';
import { DnsApplyAnswer, DnsPlan, DnsStatus } from '../spec/index.js';
import type { DnsSync } from './service.js';

const Prune = z
  .enum(['true', '1', 'false', '0'])
  .optional()
  .describe('`true` or `1`: also plan to delete managed sets no site needs any more');

/** POST /v1/dns/apply. */
const DnsApplyRequest = z
  .object({
    prune: z
      .boolean()
      .optional()
      .describe('`true`: also delete managed record sets no site needs any more'),
  })
  .strict()
  .describe('An empty body (or none) applies without pruning');

export const dnsRoutes =
  (sync: DnsSync): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: { prune?: string } }>(
      '/v1/dns/plan',
      {
        schema: docs({
          tag: 'dns',
          summary:
            'The changes `apply` would make, per zone (create / replace / delete, old → new)',
          query: z.object({ prune: Prune }),
          answers: { 200: DnsPlan },
        }),
      },
      async (req) => sync.plan({ prune: req.query.prune === 'true' || req.query.prune === '1' }),
    );
    app.post(
      '/v1/dns/apply',
      {
        schema: docs({
          tag: 'dns',
          summary: 'Plan and apply now; `prune: true` also deletes managed sets no site needs',
          body: DnsApplyRequest,
          answers: { 200: DnsApplyAnswer },
        }),
      },
      async (req) => sync.apply({ prune: parseBody(DnsApplyRequest, req.body).prune === true }),
    );
    app.get(
      '/v1/dns/status',
      {
        schema: docs({
          tag: 'dns',
          summary: 'Drift of each zone: in_sync, pending or error',
          answers: { 200: DnsStatus },
        }),
      },
      async () => sync.status(),
    );
  };
