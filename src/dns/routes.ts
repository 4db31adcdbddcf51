// Admin API of the DNS capability: plan, apply (optionally pruning) and per-zone drift. The
// provider's credentials stay on the control plane; the CLI only sees the results.
import type { FastifyPluginAsync } from 'fastify';
import type { DnsSync } from './service.js';

const tag = (summary: string) => ({ tags: ['dns'], summary, security: [{ bearer: [] }] });

export const dnsRoutes =
  (sync: DnsSync): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: { prune?: string } }>(
      '/v1/dns/plan',
      {
        schema: tag(
          'The changes `apply` would make, per zone (create / replace / delete, old → new)',
        ),
      },
      async (req) => sync.plan({ prune: req.query.prune === 'true' || req.query.prune === '1' }),
    );
    app.post<{ Body: { prune?: unknown } | undefined }>(
      '/v1/dns/apply',
      { schema: tag('Plan and apply now; `prune: true` also deletes managed sets no site needs') },
      async (req) => sync.apply({ prune: req.body?.prune === true }),
    );
    app.get(
      '/v1/dns/status',
      { schema: tag('Drift of each zone: in_sync, pending or error') },
      async () => sync.status(),
    );
  };
