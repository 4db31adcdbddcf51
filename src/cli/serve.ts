// `outpost serve`: the control plane on the embedded SQLite store.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { buildControlPlane } from '../server/app.js';
import { ensureAdminToken } from '../http/admin-auth.js';
import { openStore } from '../store/index.js';
import type { Output } from './output.js';

export interface ServeOptions {
  dataDir: string;
  listen: string;
  publicUrl?: string;
  logLevel: string;
  version: string;
  /** `auto` (nginx -t if installed here), `off`, or the nginx binary's path. */
  nginxCheck: string;
  /** The same for Caddy edges, with `caddy validate`. */
  caddyCheck?: string;
  /** Seconds between probes of edges and origins. */
  probeInterval?: number;
  /** Variables for `env:NAME` secret references. */
  secretVars?: Readonly<Record<string, string | undefined>>;
}

/** `auto` (the binary if installed here), `off`, or a path: which proxy binary checks renderings. */
function checkBinary(flag: string, setting: string, installed: string): string | undefined {
  if (setting === 'off') return undefined;
  if (setting === 'auto') return existsSync(installed) ? installed : undefined;
  if (!existsSync(setting)) throw new Error(`${flag}: no binary at ${setting}`);
  return setting;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port < 0 || port > 65535)
    throw new Error(`--listen "${listen}" must look like 127.0.0.1:8080 or [::1]:8080`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export async function serve(opts: ServeOptions, out: Output): Promise<void> {
  const { host, port } = parseListen(opts.listen);
  const nginx = checkBinary('--nginx-check', opts.nginxCheck, '/usr/sbin/nginx');
  const caddy = checkBinary('--caddy-check', opts.caddyCheck ?? 'auto', '/usr/bin/caddy');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = pino({
    level: opts.logLevel,
    redact: ['req.headers.authorization', '*.token', '*.token_hash'],
  });
  const store = await openStore({ url: `sqlite:${resolve(dataDir, 'outpost.db')}` });
  const adminToken = await ensureAdminToken(store);
  const bound = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const app = await buildControlPlane({
    store,
    logger,
    publicUrl: opts.publicUrl ?? bound,
    version: opts.version,
    ...(nginx !== undefined ? { nginx } : {}),
    ...(caddy !== undefined ? { caddy } : {}),
    ...(opts.secretVars !== undefined ? { secretVars: opts.secretVars } : {}),
    ...(opts.probeInterval !== undefined ? { probeIntervalMs: opts.probeInterval * 1000 } : {}),
  });
  const address = await app.listen({ host, port });
  const url = opts.publicUrl ?? address;
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
