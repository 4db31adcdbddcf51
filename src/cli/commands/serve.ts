// `outpost serve`: the control plane on the embedded SQLite store, or on PostgreSQL (--database).
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { isLoopbackHost } from '../../agent/control-plane.js';
import { writeFileAtomic } from '../../agent/files.js';
import { checkBinary, secretKeyFileOf, type ControlPlaneConfig } from '../../config/index.js';
import { buildControlPlane } from '../../server/app.js';
import { edgeGeoipDatabase } from '../../dns/geoip/edge-database.js';
import { buildWebIfMissing } from '../../server/web.js';
import { ensureAdminToken } from '../../http/admin-auth.js';
import { loadSecretBox, openStore } from '../../store/index.js';
import { lockDataDir } from '../../store/data-dir-lock.js';
import { finishKeyRotation } from '../../access/secrets.js';
import type { Output } from '../output.js';

export interface ServeContext {
  version: string;
  /** Variables for `env:NAME` secret references. */
  secretVars: Readonly<Record<string, string | undefined>>;
  /** Print a new admin token on standard output (default: when it is a terminal, or in a checkout). */
  printAdminToken?: boolean;
}

/** Where a first start without a terminal leaves the admin token (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Running the TypeScript sources (a checkout, `npm start`): the README promises the token on
 * standard output there, terminal or not. The compiled package prints it only to a terminal.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(
      `${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      {
        cause: err,
      },
    );
  }
}

/** --public-url must be https unless it is this machine: edges refuse plain http across a network. */
export function checkPublicUrl(publicUrl: string, insecureHttp = false): void {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new Error(`--public-url "${publicUrl}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`--public-url "${publicUrl}" must be an https:// URL`);
  if (url.protocol === 'http:' && !insecureHttp && !isLoopbackHost(url.hostname))
    throw new Error(
      `--public-url "${publicUrl}" is plain http:// to ${url.hostname}: edges refuse that. Serve HTTPS (--tls-cert and --tls-key) or put a reverse proxy with TLS in front and give its https:// URL (docs/deploy.md); --insecure-http allows it anyway`,
    );
}

export async function serve(
  config: ControlPlaneConfig,
  ctx: ServeContext,
  out: Output,
): Promise<void> {
  const { host, port } = config.listen;
  if (config.publicUrl !== undefined) checkPublicUrl(config.publicUrl, config.insecureHttp);
  const https =
    config.tlsCert !== undefined && config.tlsKey !== undefined
      ? { cert: readPem('--tls-cert', config.tlsCert), key: readPem('--tls-key', config.tlsKey) }
      : undefined;
  const nginx = checkBinary(config.nginxCheck, '/usr/sbin/nginx', '--nginx-check');
  const caddy = checkBinary(config.caddyCheck, '/usr/bin/caddy', '--caddy-check');
  // A database setting that cannot be used stops the start (rather than the first build).
  if (config.geoipDatabase !== undefined)
    await edgeGeoipDatabase(config.geoipDatabase, 'country', '--geoip-database')();
  if (config.geoipAsnDatabase !== undefined)
    await edgeGeoipDatabase(config.geoipAsnDatabase, 'asn', '--geoip-asn-database')();
  const dataDir = config.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before anything reads or writes in it: a second control plane on this directory stops here.
  const lock = lockDataDir(dataDir);
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', '*.token', '*.token_hash'],
  });
  // Outside the data dir: a copy of the data dir (a backup) alone reveals no secret.
  const secretKeyFile = secretKeyFileOf(config);
  const secrets = loadSecretBox(secretKeyFile);
  if (secrets.created)
    logger.warn(
      { path: secretKeyFile },
      'created the secret key file (mode 0600): back it up apart from the data dir',
    );
  const storeUrl = config.database ?? `sqlite:${resolve(dataDir, 'outpost.db')}`;
  const store = await openStore({ url: storeUrl, secrets: secrets.box });
  if (secrets.pending) await finishKeyRotation(store, secrets.box, secretKeyFile);
  const adminToken = await ensureAdminToken(store);
  const printToken = ctx.printAdminToken ?? (process.stdout.isTTY === true || FROM_SOURCE);
  let tokenFile: string | undefined;
  if (adminToken && !printToken) {
    // As a service: no terminal, and a journal that keeps everything. The token goes to a file
    // only the service user can read (before the API listens); the log says where, never what.
    tokenFile = join(dataDir, ADMIN_TOKEN_FILE);
    await writeFileAtomic(tokenFile, `${adminToken}\n`, 0o600);
    logger.warn(
      { path: tokenFile },
      'first start: the admin token was written to a file (mode 0600)',
    );
  }
  // Before the app is built: it registers the UI only when a build is there.
  const web = await buildWebIfMissing();
  if (web.state === 'built')
    out.line(`Built the admin UI into ${web.dir} (a checkout without a build).`);
  else if (web.state === 'unavailable') logger.warn(`no admin UI at /: ${web.why}`);
  const bound = `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const app = await buildControlPlane({
    store,
    logger,
    secretKeyFile,
    // Bundle builds in a worker thread with its own connection (edges/build-worker.ts).
    buildWorker: {
      storeUrl,
      ...(config.buildTimeout !== undefined ? { buildTimeoutMs: config.buildTimeout * 1000 } : {}),
    },
    // POST /v1/apply in a worker thread of its own (state/apply-worker.ts).
    applyWorker: {
      storeUrl,
      ...(config.applyTimeout !== undefined ? { applyTimeoutMs: config.applyTimeout * 1000 } : {}),
    },
    publicUrl: config.publicUrl ?? bound,
    ...(config.joinServers !== undefined ? { joinServers: config.joinServers } : {}),
    ...(config.testHoldStateWriteMs !== undefined
      ? { testHoldStateWriteMs: config.testHoldStateWriteMs }
      : {}),
    version: ctx.version,
    ...(https !== undefined ? { https } : {}),
    ...(nginx !== undefined ? { nginx } : {}),
    ...(caddy !== undefined ? { caddy } : {}),
    secretVars: ctx.secretVars,
    probeIntervalMs: config.probeInterval * 1000,
    probeTimeoutMs: config.probeTimeout * 1000,
    ...(config.probeSourceAddress !== undefined
      ? { probeSourceAddress: config.probeSourceAddress }
      : {}),
    ...(config.nginxCheckTimeout !== undefined
      ? { nginxCheckTimeoutMs: config.nginxCheckTimeout * 1000 }
      : {}),
    ...(config.geoipDatabase !== undefined ? { geoipDatabase: config.geoipDatabase } : {}),
    ...(config.geoipAsnDatabase !== undefined ? { geoipAsnDatabase: config.geoipAsnDatabase } : {}),
    notify: {
      fireAfterMs: config.alertFireAfter * 1000,
      resolveAfterMs: config.alertResolveAfter * 1000,
      minIntervalMs: config.alertInterval * 1000,
      checkIntervalMs: config.alertCheckInterval * 1000,
    },
  });
  const address = await app.listen({ host, port });
  const url = config.publicUrl ?? address;
  // Never the database URL: it may hold a password.
  const where = config.database !== undefined ? `${dataDir}, store: PostgreSQL` : dataDir;
  out.line(`Outpost control plane listening on ${address} (data: ${where})`);
  out.line(`Admin API: ${url}/v1   OpenAPI: ${url}/docs`);
  if (tokenFile !== undefined) {
    out.line(
      `First start: the admin token is in ${tokenFile} (mode 0600); it is stored only as a hash.`,
    );
    out.line(`Read it with: sudo cat ${tokenFile}   (and delete the file once you have saved it)`);
  } else if (adminToken) {
    out.line('');
    out.line('First start: this is the admin token. It is shown once and stored only as a hash:');
    out.line(`  ${adminToken}`);
    out.line('Use it from the CLI with:');
    out.line(`  export OUTPOST_SERVER=${url} OUTPOST_TOKEN=${adminToken}`);
    out.line('');
  }
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await store.close();
    lock.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
