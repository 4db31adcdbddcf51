// A real PowerDNS Authoritative server (the distribution's pdns_server 4.7) on 127.0.0.1 for
// tests: sqlite3 backend, LUA records and EDNS Client Subnet enabled, the HTTP API on a free
// port, optionally the geoip backend with a GeoIP2-layout MMDB file.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, startProcess, tempDir } from './processes.js';

export const PDNS_SERVER = '/usr/sbin/pdns_server';
const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

export interface PowerDnsServer {
  /** The API base, e.g. http://127.0.0.1:PORT (settings.api_url). */
  apiUrl: string;
  apiKey: string;
  /** UDP/TCP port of the DNS service on 127.0.0.1. */
  dnsPort: number;
  /** The server's output so far (for failure messages). */
  output: () => string;
  /** Stops pdns_server and starts it again on the same database, ports and key. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

const run = promisify(execFile);

/** `dig +short` at this server (127.0.0.1 only), optionally as a client in `subnet` (ECS). */
export async function dig(
  pdns: PowerDnsServer,
  name: string,
  type: string,
  subnet?: string,
): Promise<string[]> {
  const args = [
    '@127.0.0.1',
    '-p',
    String(pdns.dnsPort),
    '+short',
    '+time=2',
    '+tries=1',
    name,
    type,
  ];
  if (subnet !== undefined) args.push(`+subnet=${subnet}`);
  const { stdout } = await run('dig', args);
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '');
}

export interface PowerDnsOptions {
  /** A GeoIP2-layout MMDB file; enables the geoip backend (latlon(), continent(), …). */
  geoipDatabase?: string;
  /** A GeoLite2-ASN-layout MMDB (`outpost geoip build --asn`) beside it, for asnum(). */
  asnDatabase?: string;
  /** Seconds between LUA health checks: 1 here unless given (pdns's own default is 5). */
  healthCheckInterval?: number;
}

export async function startPowerDns(opts: PowerDnsOptions = {}): Promise<PowerDnsServer> {
  const dir = tempDir('pdns');
  const db = join(dir.path, 'pdns.sqlite3');
  const sqlite = new Database(db);
  sqlite.exec(readFileSync(SCHEMA, 'utf8'));
  sqlite.close();
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  const conf = [
    `launch=gsqlite3${opts.geoipDatabase !== undefined ? ',geoip' : ''}`,
    `gsqlite3-database=${db}`,
    ...(opts.geoipDatabase !== undefined
      ? [
          // several files: each lookup asks them in turn until one answers (pdns 4.7.3, measured)
          `geoip-database-files=mmdb:${opts.geoipDatabase}${opts.asnDatabase !== undefined ? ` mmdb:${opts.asnDatabase}` : ''}`,
          'geoip-zones-file=',
        ]
      : []),
    'enable-lua-records=yes',
    'edns-subnet-processing=yes',
    'local-address=127.0.0.1',
    `local-port=${dnsPort}`,
    `socket-dir=${dir.path}`,
    'security-poll-suffix=',
    'api=yes',
    `api-key=${apiKey}`,
    'webserver=yes',
    'webserver-address=127.0.0.1',
    `webserver-port=${apiPort}`,
    'webserver-allow-from=127.0.0.1/32',
    `lua-health-checks-interval=${opts.healthCheckInterval ?? 1}`,
    'loglevel=6',
    'cache-ttl=0',
    'negquery-cache-ttl=0',
    'query-cache-ttl=0',
    'zone-cache-refresh-interval=0',
    'distributor-threads=1',
    'receiver-threads=1',
  ];
  writeFileSync(join(dir.path, 'pdns.conf'), conf.join('\n') + '\n');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  let proc = await launch(dir.path, apiUrl, apiKey).catch((err: unknown) => {
    dir.remove();
    throw err;
  });
  return {
    apiUrl,
    apiKey,
    dnsPort,
    output: () => proc.output(),
    restart: async () => {
      await proc.stop();
      proc = await launch(dir.path, apiUrl, apiKey);
    },
    stop: async () => {
      await proc.stop();
      dir.remove();
    },
  };
}

async function launch(configDir: string, apiUrl: string, apiKey: string) {
  const proc = startProcess(PDNS_SERVER, [
    `--config-dir=${configDir}`,
    '--daemon=no',
    '--guardian=no',
    '--disable-syslog',
    '--write-pid=no',
  ]);
  try {
    // Ready when the API answers (the DNS listeners are bound before the webserver starts).
    // Not `eventually`: this loop also stops at once when pdns_server exits, with its output.
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const res = await fetch(`${apiUrl}/api/v1/servers/localhost`, {
          headers: { 'X-API-Key': apiKey },
        });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (proc.child.exitCode !== null || Date.now() > deadline)
        throw new Error(
          `pdns_server did not come up (exit ${String(proc.child.exitCode)} ${String(proc.child.signalCode)}):\n${proc.output()}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
