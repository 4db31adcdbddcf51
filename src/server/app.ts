// Wiring only: builds each capability's service and worker from the injected config and store,
// registers each capability's routes (a Fastify plugin each), starts the workers in order.
import { setTimeout as sleep } from 'node:timers/promises';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { certificateAlertSource } from '../certs/alerts.js';
import { dnsConflictAlertSource, dnsDriftAlertSource } from '../dns/alerts.js';
import {
  acmeChallengeRoutes,
  certificateRoutes,
  CertificateManager,
  waitForEdgesServing,
  type CertificateManagerOptions,
} from '../certs/index.js';
import { createDnsProvider } from '../dns/index.js';
import { dnsRoutes } from '../dns/routes.js';
import { DnsSync } from '../dns/service.js';
import { edgeGeoipDatabase } from '../dns/geoip/edge-database.js';
import { CONTROL_PLANE_DEFAULTS } from '../config/index.js';
import type { Store } from '../store/types.js';
import { installAdminAccess } from '../access/auth.js';
import { accessRoutes, loginRoutes } from '../access/routes.js';
import { secretsRoutes } from '../access/secrets.js';
import { DesiredState } from '../state/service.js';
import { ApplyWorkerHost } from '../state/apply-worker.js';
import { edgesRoutes } from '../edges/routes.js';
import { sitesRoutes } from '../sites/routes.js';
import { stateRoutes } from '../state/routes.js';
import { statusRoutes } from '../status/routes.js';
import { BundleBuilder } from '../edges/builder.js';
import { BuildWorkerHost } from '../edges/build-worker.js';
import { workerEntry } from '../threads/worker-thread.js';
import { edgeRoutes } from '../edges/agent-routes.js';
import { LogRequests } from '../edges/log-requests.js';
import { logRoutes } from '../edges/log-routes.js';
import { ensureSigningKey } from '../edges/signing-key.js';
import { EdgeTokenRevocations } from '../edges/token-revocations.js';
import { Prober } from '../health/prober.js';
import { SharedHealth } from '../health/shared-health.js';
import { RepeatedFailures } from '../health/failures.js';
import { installErrorHandler } from '../http/errors.js';
import { docs, OPENAPI_SECURITY_SCHEMES, openApiTransform, recordRoutes } from '../http/openapi.js';
import { EdgeLogAnswer, Healthz } from '../spec/index.js';
import {
  CLIENT_LIMIT_DEFAULTS,
  installClientLimits,
  LoginLimiter,
  type ClientLimits,
} from '../http/client-limits.js';
import { installRoutes } from '../edges/install-routes.js';
import { Metrics } from '../status/metrics.js';
import { notifyRoutes } from '../notify/routes.js';
import { NotifyService, type NotifyTimings } from '../notify/service.js';
import { purgeRoutes } from '../purge/routes.js';
import { PurgeService } from '../purge/service.js';
import { publicStatusRoutes } from '../status/public-routes.js';
import { StatusService } from '../status/service.js';
import { registerWeb } from './web.js';
import { installSecurityHeaders } from './security-headers.js';
import { Cluster } from './cluster.js';
import { controlPlaneWorkers, singletonWorkers, Workers } from './workers.js';

/** Timeouts of the HTTP server (issue 15, 4); long-polls and SSE are answers, not requests. */
export interface ServerTimeouts {
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (a slow body is cut off). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the server checks the two above (Node's connectionsCheckingInterval). */
  checkIntervalMs: number;
  /** Largest request body (bytes). */
  bodyLimit: number;
}

export const SERVER_TIMEOUT_DEFAULTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  bodyLimit: 8 * 1024 * 1024,
};

export interface ControlPlaneOptions {
  store: Store;
  logger: FastifyBaseLogger;
  /** The URL edges and the CLI use to reach this control plane. */
  publicUrl: string;
  /** The control-plane URLs join commands give edges, in order (default: [publicUrl]). */
  joinServers?: readonly string[];
  /** TEST ONLY: every desired-state write holds its transaction open this long (config/). */
  testHoldStateWriteMs?: number;
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
  /** The local address probes are sent from (--probe-source-address). */
  probeSourceAddress?: string;
  /** The key file sealing the store's secrets (for `secrets rotate-key`); undefined: none. */
  secretKeyFile?: string;
  /** How long `nginx -t` may take per edge; default: scaled to the rendering (builder.ts). */
  nginxCheckTimeoutMs?: number;
  /** Bundle builds without yielding to the event loop (bench:control-plane's before). */
  buildInline?: boolean;
  /**
   * Bundle builds in a worker thread with its own connection to the store at `storeUrl` (the
   * one `store` is open on; not `:memory:`); needs `secretKeyFile` when the store has
   * secrets. Absent: builds run on this thread, yielding every few ms (or `buildInline`).
   */
  buildWorker?: {
    storeUrl: string;
    /** Pause before a worker that died is replaced (default 1 s, doubling). */
    restartDelayMs?: number;
    /** The watchdog's limit of a build's silence (--build-timeout; edges/build-worker.ts). */
    buildTimeoutMs?: number;
    /** TEST ONLY: see edges/build-worker.ts (a crash on demand, a gate holding builds). */
    testHooks?: { gate?: SharedArrayBuffer };
    /** TEST ONLY: receives the host (to crash the worker or watch its builds). */
    onHost?: (host: BuildWorkerHost) => void;
  };
  // ---- w7-apply ----
  /**
   * `POST /v1/apply` (parse, validate, diff, write) in a worker thread with its own connection
   * to the store at `storeUrl` (state/apply-worker.ts; not `:memory:`); needs `secretKeyFile`
   * when the store has secrets. Absent: applies run on this thread.
   */
  applyWorker?: {
    storeUrl: string;
    /** The limit of an apply (--apply-timeout; default 5 min). */
    applyTimeoutMs?: number;
    /** TEST ONLY: see state/apply-worker.ts (a gate holding applies and writes, a crash). */
    testHooks?: { gate?: SharedArrayBuffer };
    /** TEST ONLY: receives the host (to crash the worker or watch its applies). */
    onHost?: (host: ApplyWorkerHost) => void;
  };
  // ---- end w7-apply ----
  /** Client-geography databases for the edges that need them (--geoip-database, …-asn-…). */
  geoipDatabase?: string;
  geoipAsnDatabase?: string;
  /** Variables that `env:NAME` secret references of the spec read. */
  secretVars?: Readonly<Record<string, string | undefined>>;
  /** Certificate renewals: clock, check interval, backoff, ACME polling (tests tune these). */
  /** Server timeouts and per-client limits (defaults above and in http/client-limits.ts). */
  timeouts?: Partial<ServerTimeouts>;
  clientLimits?: Partial<ClientLimits>;
  /** Alert notifications: when an alert fires and resolves, how often a channel may hear. */
  notify?: Partial<NotifyTimings>;
  certificates?: Pick<
    CertificateManagerOptions,
    'now' | 'checkIntervalMs' | 'backoff' | 'poll' | 'dns01' | 'dnsProvider' | 'issuer'
  >;
}

export async function buildControlPlane(opts: ControlPlaneOptions): Promise<FastifyInstance> {
  const t = { ...SERVER_TIMEOUT_DEFAULTS, ...opts.timeouts };
  const node = {
    headersTimeout: t.headersTimeoutMs,
    connectionsCheckingInterval: t.checkIntervalMs,
  };
  const app = Fastify({
    ...(opts.https ? { https: { ...opts.https, ...node } } : { http: node }),
    loggerInstance: opts.logger,
    bodyLimit: t.bodyLimit,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // No idle-socket timeout: a long-poll waits up to 60 s in silence; the request and
    // keep-alive timeouts bound what a client can hold.
    connectionTimeout: 0,
    // Long-polls, SSE streams and keep-alive connections must not hold a shutdown.
    forceCloseConnections: true,
  });
  // Bodies are validated with the spec's zod schemas in handlers; route schemas are for docs.
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  installErrorHandler(app);
  const clientLimits = { ...CLIENT_LIMIT_DEFAULTS, ...opts.clientLimits };
  installClientLimits(app, clientLimits);
  installSecurityHeaders(app);

  recordRoutes(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Outpost control plane', version: opts.version },
      components: { securitySchemes: OPENAPI_SECURITY_SCHEMES },
    },
    // Documentation only: each route's docs() become its OpenAPI operation (http/openapi.ts).
    transform: openApiTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get(
    '/healthz',
    {
      schema: docs({
        tag: 'status',
        summary: 'Liveness and version (no auth)',
        door: 'open',
        answers: { 200: Healthz },
      }),
    },
    async () => ({
      ok: true,
      version: opts.version,
    }),
  );

  const signer = await ensureSigningKey(opts.store);
  let buildHost: BuildWorkerHost | undefined;
  const worker = opts.buildWorker;
  const builder: BundleBuilder = new BundleBuilder({
    store: opts.store,
    signer,
    logger: opts.logger.child({ component: 'bundles' }),
    ...(opts.nginx !== undefined ? { nginx: opts.nginx } : {}),
    ...(opts.caddy !== undefined ? { caddy: opts.caddy } : {}),
    ...(opts.nginxCheckTimeoutMs !== undefined
      ? { nginxCheckTimeoutMs: opts.nginxCheckTimeoutMs }
      : {}),
    acmeChallengeUrl: opts.publicUrl,
    onPublished: () => cluster.announce('bundles'),
    ...(opts.buildInline === true ? { inline: true } : {}),
    ...(worker !== undefined
      ? {
          remote: (receive) => {
            buildHost = new BuildWorkerHost(
              {
                entry: workerEntry(import.meta.url, './build-worker-main'),
                data: {
                  storeUrl: worker.storeUrl,
                  ...(opts.secretKeyFile !== undefined
                    ? { secretKeyFile: opts.secretKeyFile }
                    : {}),
                  signer,
                  ...(opts.nginx !== undefined ? { nginx: opts.nginx } : {}),
                  ...(opts.caddy !== undefined ? { caddy: opts.caddy } : {}),
                  ...(opts.nginxCheckTimeoutMs !== undefined
                    ? { nginxCheckTimeoutMs: opts.nginxCheckTimeoutMs }
                    : {}),
                  acmeChallengeUrl: opts.publicUrl,
                  ...(opts.geoipDatabase !== undefined
                    ? { geoipDatabase: opts.geoipDatabase }
                    : {}),
                  ...(opts.geoipAsnDatabase !== undefined
                    ? { geoipAsnDatabase: opts.geoipAsnDatabase }
                    : {}),
                  logLevel: opts.logger.level,
                  ...(worker.testHooks !== undefined ? { testHooks: worker.testHooks } : {}),
                },
                logger: opts.logger.child({ component: 'bundles' }),
                ...(worker.restartDelayMs !== undefined
                  ? { restartDelayMs: worker.restartDelayMs }
                  : {}),
                ...(worker.buildTimeoutMs !== undefined
                  ? { buildTimeoutMs: worker.buildTimeoutMs }
                  : {}),
                onRestarted: () => void builder.rebuild(),
              },
              receive,
            );
            worker.onHost?.(buildHost);
            return buildHost;
          },
        }
      : {}),
    geoip: {
      ...(opts.geoipDatabase !== undefined
        ? { country: edgeGeoipDatabase(opts.geoipDatabase, 'country', '--geoip-database') }
        : {}),
      ...(opts.geoipAsnDatabase !== undefined
        ? { asn: edgeGeoipDatabase(opts.geoipAsnDatabase, 'asn', '--geoip-asn-database') }
        : {}),
    },
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

  // A step of the probes that keeps failing (the database down) is logged when it starts
  // failing and when it works again, not once per round (health/failures.ts).
  const probeFailures = new RepeatedFailures({
    onError: (err, what) => opts.logger.warn({ err }, `${what} failed`),
    onRecovered: (what, failures) =>
      opts.logger.warn({ failures }, `${what} works again (it had failed ${failures} times)`),
  });
  const READING_STATE = 'reading the state to probe (probing the last one read meanwhile)';
  const prober = new Prober({
    readState: () => opts.store.readSharedState(),
    onError: (err) => probeFailures.failed(READING_STATE, err),
    onRecovered: () => probeFailures.worked(READING_STATE),
    intervalMs: opts.probeIntervalMs ?? CONTROL_PLANE_DEFAULTS.probeInterval * 1000,
    timeoutMs: opts.probeTimeoutMs ?? CONTROL_PLANE_DEFAULTS.probeTimeout * 1000,
    ...(opts.probeSourceAddress !== undefined ? { localAddress: opts.probeSourceAddress } : {}),
  });
  // Several control planes: every one probes, and all answer from the merged probes.
  const health = new SharedHealth({
    prober,
    store: opts.store,
    instance: opts.store.coordination?.instance,
    failures: probeFailures,
  });
  const status = new StatusService(opts.store, builder, health);
  status.addAlertSource(certificateAlertSource(opts.store, certificates.now));
  const metrics = new Metrics(() => status.snapshot());

  const dnsSync = new DnsSync({
    readState: () => opts.store.readSharedState(),
    secretVars,
    logger: opts.logger.child({ component: 'dns' }),
  });

  status.addAlertSource(dnsDriftAlertSource(dnsSync));
  status.addAlertSource(dnsConflictAlertSource(dnsSync));

  const notifier = new NotifyService({
    store: opts.store,
    alerts: async () => (await status.snapshot()).alerts,
    logger: opts.logger.child({ component: 'notify' }),
    ...(opts.notify !== undefined ? { timings: opts.notify } : {}),
  });

  // Purges wake the long-polls of their edges here, and through the cluster on the others.
  const purges = new PurgeService(opts.store, signer);
  // Several control planes on one database: the leader builds; the others serve stored bundles.
  if (opts.store.coordination !== undefined) builder.setBuilding(false);
  const cluster = new Cluster({
    store: opts.store,
    builder,
    singletons: singletonWorkers({ history: status.history, certificates, dnsSync, notifier }),
    onRemoteStateChange: () => workers.desiredStateChanged(),
    onRemotePurge: (edges) => purges.wake(edges),
    onRemoteRevocation: (edge) => revocations.revokedElsewhere(edge),
    onRemoteLogRequest: (edge, request, ms) => logRequests.queueRemote(edge, request, ms),
    onRemoteLogAnswer: (id) => void takeLogAnswer(id),
    logger: opts.logger.child({ component: 'cluster' }),
  });
  purges.onCreated = (edges) => cluster.announcePurge(edges);
  const workers = new Workers(controlPlaneWorkers({ builder, status, cluster }));
  await workers.start();
  // Long-polls must not hold a shutdown: stopping the builder resolves them first.
  app.addHook('preClose', async () => workers.stop());

  const hold = opts.testHoldStateWriteMs;
  // ---- w7-apply: applies in their own worker thread (state/apply-worker.ts) ----
  const applies = opts.applyWorker;
  const applyHost =
    applies === undefined
      ? undefined
      : new ApplyWorkerHost({
          entry: workerEntry(import.meta.url, './apply-worker-main'),
          data: {
            storeUrl: applies.storeUrl,
            ...(opts.secretKeyFile !== undefined ? { secretKeyFile: opts.secretKeyFile } : {}),
            logLevel: opts.logger.level,
            ...(hold !== undefined ? { holdStateWriteMs: hold } : {}),
            ...(applies.testHooks !== undefined ? { testHooks: applies.testHooks } : {}),
          },
          logger: opts.logger.child({ component: 'state' }),
          adopt: (written) => opts.store.adoptWrittenEntries(written),
          ...(applies.applyTimeoutMs !== undefined
            ? { applyTimeoutMs: applies.applyTimeoutMs }
            : {}),
        });
  if (applyHost !== undefined) {
    applies?.onHost?.(applyHost);
    applyHost.start();
    app.addHook('onClose', async () => applyHost.stop());
  }
  // ---- end w7-apply ----
  const state = new DesiredState(
    opts.store,
    () => {
      workers.desiredStateChanged();
      cluster.announce('state');
    },
    hold === undefined
      ? undefined
      : async () => {
          opts.logger.warn({ ms: hold }, 'test hook: holding the desired-state write open');
          await sleep(hold);
        },
    applyHost,
  );
  const revocations = new EdgeTokenRevocations();
  revocations.onRevoked = (edge) => cluster.announceRevocation(edge);
  const logRequests = new LogRequests();
  // Several control planes: log requests reach the edges polling any of them (docs/logs.md).
  const takeLogAnswer = async (id: string): Promise<void> => {
    if (!logRequests.isWaiting(id)) return;
    const row = await opts.store.takeLogAnswer(id).catch(() => undefined);
    const answer = row && EdgeLogAnswer.safeParse(JSON.parse(row.answer));
    if (row && answer?.success) logRequests.answerFromElsewhere(row.edge, answer.data);
  };
  if (opts.store.coordination !== undefined) {
    logRequests.onAsked = (edge, request, ms) => cluster.announceLogRequest(edge, request, ms);
    logRequests.onForward = (edge, answer) => {
      const at = new Date();
      opts.store
        .putLogAnswer({
          id: answer.id,
          edge,
          answer: JSON.stringify(answer),
          at: at.toISOString(),
          forgetBefore: new Date(at.getTime() - 60_000).toISOString(),
        })
        .then(() => cluster.announce('log-answers', answer.id))
        .catch((err: unknown) => opts.logger.warn({ err }, 'passing a log answer on failed'));
    };
  }
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
      revocations,
      (claimed) => status.recordTokenRefusal(claimed),
      logRequests,
    ),
  );
  await app.register(publicStatusRoutes(status, opts.store));
  await app.register(installRoutes());
  await app.register(acmeChallengeRoutes(opts.store, certificates.now));
  await app.register(loginRoutes(opts.store, new LoginLimiter(clientLimits)));
  await app.register(async (admin) => {
    // Every admin route declares its scope in access/scopes.ts; this checks it.
    installAdminAccess(admin, opts.store);
    await admin.register(accessRoutes(opts.store));
    await admin.register(
      secretsRoutes(opts.store, opts.secretKeyFile, () => {
        buildHost?.reload();
        applyHost?.reload(); // w7-apply
      }),
    );
    await admin.register(stateRoutes(state, opts.store));
    await admin.register(sitesRoutes(state));
    await admin.register(
      edgesRoutes(
        state,
        opts.store,
        opts.joinServers ?? [opts.publicUrl],
        signer.fingerprint,
        revocations,
      ),
    );
    await admin.register(statusRoutes(opts.store, status, metrics));
    await admin.register(certificateRoutes(opts.store, certificates));
    await admin.register(purgeRoutes(purges));
    await admin.register(logRoutes(opts.store, logRequests));
    await admin.register(dnsRoutes(dnsSync));
    await admin.register(notifyRoutes(opts.store, notifier));
  });
  await registerWeb(app);
  return app;
}
