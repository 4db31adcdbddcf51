// Two `outpost serve` on one real PostgreSQL that probe from their own loopback addresses
// (--probe-source-address), and a real nginx standing where edge e1 is: it answers as an
// edge's default server (421, X-CDN-Node) to A's address only and closes the connection to
// B's, as a network cut off from B would. Edge e2 has nothing listening. Used by the tests of
// probes merged across control planes (test/e2e/ha-probes.test.ts, ha-postgres-down.test.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { NGINX } from './cdn.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import {
  freePort,
  readAdminEnv,
  runCli,
  startControlPlane,
  startProcess,
  type ControlPlane,
  type Running,
} from './processes.js';

export interface ProbeClusterOptions {
  /** The test's temp dir (tempDir()): configs, data dirs, the shared secret key. */
  dir: string;
  /** Its own PostgreSQL database name. */
  database: string;
  /** Where the edges are, and where A and B probe from (loopback addresses). */
  edgeAddress: string;
  fromA: string;
  fromB: string;
  /** nginx logs `$remote_addr $status` of every probe here when given (else no access log). */
  accessLog?: string;
}

export interface ProbeCluster {
  pg: TestPostgres;
  url: string;
  a: ControlPlane;
  b: ControlPlane;
  nginx: Running;
  /** OUTPOST_TOKEN and friends of the admin. */
  admin: Record<string, string>;
  /** The edges' tokens, from `outpost apply`'s output. */
  tokens: Record<string, string>;
  /** Stops A (with `signalA`), B, nginx and PostgreSQL; each only if it was started. */
  stop(signalA?: NodeJS.Signals): Promise<void>;
}

/** Starts the cluster and applies edges e1 and e2 through A. */
export async function startProbeCluster(o: ProbeClusterOptions): Promise<ProbeCluster> {
  const parts: Partial<Omit<ProbeCluster, 'stop' | 'tokens'>> = {};
  const tokens: Record<string, string> = {};
  const stop = async (signalA?: NodeJS.Signals) => {
    await parts.a?.server.stop(signalA);
    await parts.b?.server.stop();
    await parts.nginx?.stop();
    await parts.pg?.stop();
  };
  const serve = (name: string, from: string, url: string) =>
    startControlPlane(join(o.dir, name), {
      args: [
        '--database',
        url,
        '--public-url',
        'http://127.0.0.1:9',
        '--nginx-check',
        'off',
        '--secret-key-file',
        join(o.dir, 'shared-secret.key'),
        '--probe-interval',
        '1',
        '--probe-timeout',
        '1',
        '--probe-source-address',
        from,
      ],
      startTimeoutMs: 90_000,
    });
  try {
    const e1Port = await freePort(o.edgeAddress);
    const e2Port = await freePort(o.edgeAddress); // nothing listens there
    const conf = join(o.dir, 'nginx.conf');
    if (o.accessLog !== undefined) writeFileSync(o.accessLog, '');
    const log =
      o.accessLog === undefined
        ? 'access_log off;'
        : `log_format probes '$remote_addr $status';\n  access_log ${o.accessLog} probes;`;
    writeFileSync(
      conf,
      `daemon off;
pid ${o.dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  ${log}
  server {
    listen ${o.edgeAddress}:${e1Port} default_server;
    location / {
      # reachable from A only: B's connections are closed without an answer
      if ($remote_addr != "${o.fromA}") { return 444; }
      add_header X-CDN-Node e1 always;
      return 421;
    }
  }
}
`,
    );
    parts.nginx = startProcess(NGINX, ['-p', `${o.dir}/`, '-c', conf]);
    parts.pg = await startPostgres();
    const url = await parts.pg.createDatabase(o.database);
    parts.url = url;
    const a = await serve('a', o.fromA, url);
    parts.a = a;
    const admin = await readAdminEnv(a);
    parts.admin = admin;
    await a.server.waitFor(/is the leader/, 60_000);
    parts.b = await serve('b', o.fromB, url);
    const file = join(o.dir, 'outpost.yaml');
    writeFileSync(
      file,
      `edges:
  - name: e1
    host: {v4: ${o.edgeAddress}}
    listen: {addresses: [${o.edgeAddress}], http: ${e1Port}, https: ${e1Port + 1}}
  - name: e2
    host: {v4: ${o.edgeAddress}}
    listen: {addresses: [${o.edgeAddress}], http: ${e2Port}, https: ${e2Port + 1}}
sites: []
`,
    );
    const r = await runCli(['apply', '-f', file], { ...admin, OUTPOST_SERVER: a.url });
    expect(r.code, r.stderr).toBe(0);
    for (const e of ['e1', 'e2']) {
      const token = new RegExp(`New edge ${e}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        r.stdout,
      )?.[1];
      if (token) tokens[e] = token;
    }
    return { ...(parts as Omit<ProbeCluster, 'stop' | 'tokens'>), tokens, stop };
  } catch (err) {
    await stop('SIGKILL').catch(() => undefined);
    throw err;
  }
}
