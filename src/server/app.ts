// Assembles the control plane: auth, errors, OpenAPI, and each capability's routes.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  acmeChallengeRoutes,
  certificateAlerts,
  certificateRoutes,
  CertificateManager,
  waitForEdgesServing,
  type CertificateManagerOptions,
} from '../certs/index.js';
import { createDnsProvider } from '../dns/index.js';
import { dnsRoutes } from '../dns/routes.js';
import { DnsSync } from '../dns/service.js';
import type { Store } from '../store/types.js';
import { adminAuth } from './admin-auth.js';
import { DesiredState } from './admin/desired-state.js';
import { edgesRoutes } from './admin/edges.js';
import { sitesRoutes } from './admin/sites.js';
import { stateRoutes } from './admin/state.js';
import { statusRoutes } from './admin/status.js';
import { BundleBuilder } from './edge/builder.js';
import { edgeRoutes } from './edge/routes.js';
import { ensureSigningKey } from './edge/signing-key.js';
import { Prober } from '../health/prober.js';
import { installErrorHandler } from './errors.js';
import { installRoutes } from './install-routes.js';
import { Metrics } from './status/metrics.js';
import { purgeRoutes } from './purge/routes.js';
import { PurgeService } from './purge/service.js';
import { publicStatusRoutes } from './status/public.js';
import { StatusService } from './status/service.js';
import { registerWeb } from './web.js';
import { Workers } from './workers.js';

export interface ControlPlaneOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** The URL edges and the CLI use to reach this control plane. */
  publicUrl: string;
  version: string;
  /** Serve HTTPS with this certificate and key (PEM); undefined: plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
  /** nginx binary to check each rendering before publishing it; undefined: no check. */
  nginx?: string;
  /** caddy binary to check Caddy edges' renderings (`caddy validate`); undefined: no check. */
  caddy?: string;
  /** How often, and how patiently, the control plane probes edges and origins. */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Variables that `env:NAME` secret references of the spec read. */
  secretVars?: Readonly<Record<string, string | undefined>>;
  /** Certificate renewals: clock, check interval, backoff, ACME polling (tests tune these). */
  certificates?: Pick<
    CertificateManagerOptions,
    'now' | 'checkIntervalMs' | 'backoff' | 'poll' | 'dns01' | 'dnsProvider' | 'issuer'
  >;
}

export async function buildControlPlane(opts: ControlPlaneOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    loggerInstance: opts.logger,
    bodyLimit: 8 * 1024 * 1024,
    // Long-polls, SSE streams and keep-alive connections must not hold a shutdown.
    forceCloseConnections: true,
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

  const signer = await ensureSigningKey(opts.store);
  const builder = new BundleBuilder({
    store: opts.store,
    signer,
    logger: opts.logger.child({ component: 'bundles' }),
    ...(opts.nginx !== undefined ? { nginx: opts.nginx } : {}),
    ...(opts.caddy !== undefined ? { caddy: opts.caddy } : {}),
    acmeChallengeUrl: opts.publicUrl,
  });
  const secretVars = opts.secretVars ?? {};
  const certificates = new CertificateManager({
    store: opts.store,
    logger: opts.logger.child({ component: 'certificates' }),
    secretVars,
    publish: () => builder.rebuild(),
    edgesReady: async (domain) => {
      await builder.rebuild();
      await waitForEdgesServing(opts.store, domain);
    },
    dnsProvider: (settings) =>
      createDnsProvider(settings, { secretVars, logger: opts.logger.child({ component: 'dns' }) }),
    ...opts.certificates,
  });

  const prober = new Prober({
    readState: () => opts.store.readState(),
    intervalMs: opts.probeIntervalMs ?? 10_000,
    timeoutMs: opts.probeTimeoutMs ?? 5_000,
  });
  const status = new StatusService(opts.store, builder, prober);
  status.addAlertSource(async () => {
    const [{ spec }, certs, renewals] = await Promise.all([
      opts.store.readState(),
      opts.store.listCertificates(),
      opts.store.listCertificateRenewals(),
    ]);
    return certificateAlerts({ spec, certificates: certs, renewals, now: certificates.now() }).map(
      (a) => ({ kind: 'cert_expiring', subject: a.domain, message: a.message, since: null }),
    );
  });
  const metrics = new Metrics(() => status.snapshot());

  const dnsSync = new DnsSync({
    readState: () => opts.store.readState(),
    secretVars,
    logger: opts.logger.child({ component: 'dns' }),
  });

  // A zone that failed to sync, or that still differs after a sync, is DNS drift.
  status.addAlertSource(async () =>
    dnsSync
      .status()
      .zones.filter(
        (z) => z.state === 'error' || (z.state === 'pending' && !dnsSync.status().syncing),
      )
      .map((z) => ({
        kind: 'dns_drift' as const,
        subject: z.zone,
        message:
          z.state === 'error'
            ? `DNS zone ${z.zone}: ${z.error ?? 'sync failed'}`
            : `DNS zone ${z.zone}: ${z.pending_changes} change(s) not applied`,
        since: z.checked_at,
      })),
  );

  // Long-running workers, in start order (stopped in reverse). Add new ones here.
  const workers = new Workers([builder, status, certificates, dnsSync]);
  await workers.start();
  // Long-polls must not hold a shutdown: stopping the builder resolves them first.
  app.addHook('preClose', async () => workers.stop());

  const purges = new PurgeService(opts.store, signer);
  const state = new DesiredState(opts.store, () => workers.desiredStateChanged());
  await app.register(
    edgeRoutes(
      opts.store,
      builder,
      signer,
      async (edge, report) => {
        await status.recordReport(edge, report);
        if (report.traffic) metrics.recordTraffic(edge, report.traffic);
      },
      purges,
    ),
  );
  await app.register(publicStatusRoutes(status));
  await app.register(installRoutes());
  await app.register(acmeChallengeRoutes(opts.store, certificates.now));
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuth(opts.store));
    await admin.register(stateRoutes(state, opts.store));
    await admin.register(sitesRoutes(state));
    await admin.register(edgesRoutes(state, opts.store, opts.publicUrl, signer.fingerprint));
    await admin.register(statusRoutes(opts.store, status, metrics));
    await admin.register(certificateRoutes(opts.store, certificates));
    await admin.register(purgeRoutes(purges));
    await admin.register(dnsRoutes(dnsSync));
  });
  await registerWeb(app);
  return app;
}
