// Assembles the control plane: auth, errors, OpenAPI, and each capability's routes.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Store } from '../store/types.js';
import { adminAuth } from './admin-auth.js';
import { DesiredState } from './admin/desired-state.js';
import { edgesRoutes } from './admin/edges.js';
import { sitesRoutes } from './admin/sites.js';
import { stateRoutes } from './admin/state.js';
import { installErrorHandler } from './errors.js';

export interface ControlPlaneOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** The URL edges and the CLI use to reach this control plane. */
  publicUrl: string;
  version: string;
}

export async function buildControlPlane(opts: ControlPlaneOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    disableRequestLogging: false,
    bodyLimit: 8 * 1024 * 1024,
  });
  // Bodies are validated with the spec's zod schemas in handlers; route schemas are for docs.
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  installErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Outpost control plane', version: opts.version },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({
    ok: true,
    version: opts.version,
  }));

  const state = new DesiredState(opts.store);
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuth(opts.store));
    await admin.register(stateRoutes(state, opts.store));
    await admin.register(sitesRoutes(state));
    await admin.register(edgesRoutes(state, opts.store, opts.publicUrl));
  });
  return app;
}
