// `outpost serve`: the control plane on the embedded SQLite store.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { checkBinary, type ControlPlaneConfig } from '../../config/index.js';
import { buildControlPlane } from '../../server/app.js';
import { ensureAdminToken } from '../../http/admin-auth.js';
import { openStore } from '../../store/index.js';
import type { Output } from '../output.js';

export interface ServeContext {
  version: string;
  /** Variables for `env:NAME` secret references. */
  secretVars: Readonly<Record<string, string | undefined>>;
}

export async function serve(
  config: ControlPlaneConfig,
  ctx: ServeContext,
  out: Output,
): Promise<void> {
  const { host, port } = config.listen;
  const nginx = checkBinary(config.nginxCheck, '/usr/sbin/nginx', '--nginx-check');
  const caddy = checkBinary(config.caddyCheck, '/usr/bin/caddy', '--caddy-check');
  const dataDir = config.dataDir;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = pino({
    level: config.logLevel,
    redact: ['req.headers.authorization', '*.token', '*.token_hash'],
  });
  const store = await openStore({ url: `sqlite:${resolve(dataDir, 'outpost.db')}` });
  const adminToken = await ensureAdminToken(store);
  const bound = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const app = await buildControlPlane({
    store,
    logger,
    publicUrl: config.publicUrl ?? bound,
    version: ctx.version,
    ...(nginx !== undefined ? { nginx } : {}),
    ...(caddy !== undefined ? { caddy } : {}),
    secretVars: ctx.secretVars,
    probeIntervalMs: config.probeInterval * 1000,
    probeTimeoutMs: config.probeTimeout * 1000,
    ...(config.nginxCheckTimeout !== undefined
      ? { nginxCheckTimeoutMs: config.nginxCheckTimeout * 1000 }
      : {}),
  });
  const address = await app.listen({ host, port });
  const url = config.publicUrl ?? address;
  out.line(`Outpost control plane listening on ${address} (data: ${dataDir})`);
  out.line(`Admin API: ${url}/v1   OpenAPI: ${url}/docs`);
  if (adminToken) {
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
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
