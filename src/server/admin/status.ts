// `outpost status`: each edge's last report, applied vs desired release, and errors.
import type { FastifyPluginAsync } from 'fastify';
import { edgeStatuses } from '../../health/edge-status.js';
import type { Store } from '../../store/types.js';
import type { BundleBuilder } from '../edge/builder.js';
import { docs } from './openapi.js';

/** Agents report every 10 s; three missed reports and an edge is offline. */
export const OFFLINE_AFTER_SECONDS = 30;

export const statusRoutes =
  (store: Store, builder: BundleBuilder): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/status',
      { schema: docs('status', 'Each edge: last report, applied vs desired release, errors') },
      async () => {
        const [{ spec, revision }, bundles, reports] = await Promise.all([
          store.readState(),
          store.latestBundles(),
          store.listEdgeReports(),
        ]);
        return {
          revision,
          edges: edgeStatuses({
            spec,
            bundles,
            reports,
            buildErrors: builder.buildErrors(),
            now: new Date(),
            offlineAfterSeconds: OFFLINE_AFTER_SECONDS,
          }),
        };
      },
    );
  };
