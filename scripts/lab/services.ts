// The programs of the lab, each started inside its host's namespace with `ip netns exec`, as
// a user would run them: pdns_server (authoritative, managed by Outpost), pdns_recursor (the
// users' resolver, sending EDNS Client Subnet), pebble, the origin, `outpost serve`, and on each
// edge `outpost agent` joined with deploy/install.sh --prefix.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OUTPOST_BIN, ROOT, startProcess, type Running } from '../../test/support/processes.js';
import { makeTestCa, selfSignedCertificate } from '../../test/support/tls.js';
import type { LabNet } from './netns.js';
import { EDGE_META, edges, host, v4, v6, type LabHost } from './topology.js';

export const SITE = 'www.example.test';
export const CP_PORT = 8080;
export const PDNS_API_PORT = 8081;
/** pdns's `lua-health-checks-interval` in the lab (seconds). */
export const CHECK_INTERVAL_S = 2;
/** The site's `dns_ttl` in the lab (seconds). */
export const DNS_TTL_S = 5;

const PDNS_SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion inside a lab host's namespace (bounded by `timeoutMs`). */
export function runIn(
  net: LabNet,
  h: LabHost,
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', net.ns(h), cmd, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function startIn(
  net: LabNet,
  h: LabHost,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Running {
  return startProcess('ip', ['netns', 'exec', net.ns(h), cmd, ...args], env);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value, for at most `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) break;
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

export interface CurlResult {
  code: number;
  status: number;
  remoteIp: string;
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  speedBps: number;
  headers: Record<string, string>;
  body: string;
  error: string;
}

/** curl from inside a host: the name is resolved through the host's resolv.conf (the lab's resolver). */
export async function curlIn(
  net: LabNet,
  h: LabHost,
  url: string,
  opts: { cacert?: string; extra?: string[]; timeoutS?: number; saveBody?: boolean } = {},
): Promise<CurlResult> {
  const args = [
    '-sS',
    '-D',
    '-',
    '-o',
    opts.saveBody === false ? '/dev/null' : '-',
    '--max-time',
    String(opts.timeoutS ?? 10),
    '-w',
    '\n@@%{http_code} %{remote_ip} %{time_starttransfer} %{time_total} %{size_download} %{speed_download}',
    ...(opts.cacert !== undefined ? ['--cacert', opts.cacert] : []),
    ...(opts.extra ?? []),
    url,
  ];
  const r = await runIn(net, h, 'curl', args, { timeoutMs: ((opts.timeoutS ?? 10) + 5) * 1000 });
  const at = r.stdout.lastIndexOf('\n@@');
  const tail =
    at >= 0
      ? r.stdout
          .slice(at + 3)
          .trim()
          .split(' ')
      : [];
  const head = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
  const split = head.indexOf('\r\n\r\n');
  const headerText = split >= 0 ? head.slice(0, split) : head;
  const headers: Record<string, string> = {};
  for (const line of headerText.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    code: r.code,
    status: Number(tail[0] ?? 0),
    remoteIp: tail[1] ?? '',
    ttfbMs: Math.round(Number(tail[2] ?? 0) * 1000),
    totalMs: Math.round(Number(tail[3] ?? 0) * 1000),
    bytes: Number(tail[4] ?? 0),
    speedBps: Number(tail[5] ?? 0),
    headers,
    body: split >= 0 ? head.slice(split + 4) : '',
    error: r.stderr.trim(),
  };
}

/** `dig +short` through the lab's resolver, from inside a client. */
export async function resolveIn(
  net: LabNet,
  h: LabHost,
  name: string,
  type = 'A',
): Promise<string[]> {
  const r = await runIn(
    net,
    h,
    'dig',
    [`@${v4(host('resolver'))}`, '+short', '+time=2', '+tries=1', name, type],
    { timeoutMs: 5000 },
  );
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';'));
}

/** Edge name (or "origin") of an address. */
export function who(address: string): string {
  for (const h of [...edges(), host('origin')])
    if (v4(h) === address || v6(h) === address) return h.name;
  return address === '' ? '(none)' : address;
}

export interface LabServices {
  dir: string;
  pdnsKey: string;
  adminEnv: Record<string, string>;
  /** PEM of Pebble's root of this run: what clients trust. */
  acmeRootFile: string;
  origin: Running;
  cp: Running;
  agents: Record<string, Running>;
  procs: Running[];
}

export async function startPowerDns(
  net: LabNet,
  dir: string,
  geoip: string,
  key: string,
): Promise<Running> {
  const dns = host('dns');
  const d = join(dir, 'pdns');
  mkdirSync(d, { recursive: true });
  const db = new Database(join(d, 'pdns.sqlite3'));
  db.exec(readFileSync(PDNS_SCHEMA, 'utf8'));
  db.close();
  const conf = [
    'launch=gsqlite3,geoip',
    `gsqlite3-database=${join(d, 'pdns.sqlite3')}`,
    `geoip-database-files=mmdb:${geoip}`,
    'geoip-zones-file=',
    'enable-lua-records=yes',
    'edns-subnet-processing=yes',
    `local-address=${v4(dns)}, ${v6(dns)}`,
    'local-port=53',
    `socket-dir=${d}`,
    'security-poll-suffix=',
    'api=yes',
    `api-key=${key}`,
    'webserver=yes',
    `webserver-address=${v4(dns)}`,
    `webserver-port=${PDNS_API_PORT}`,
    'webserver-allow-from=10.200.0.0/16',
    `lua-health-checks-interval=${CHECK_INTERVAL_S}`,
    'loglevel=4',
  ];
  writeFileSync(join(d, 'pdns.conf'), conf.join('\n') + '\n', { mode: 0o600 });
  // the key reaches curl in a header file, never as an argument
  writeFileSync(join(d, 'api-header'), `X-API-Key: ${key}\n`, { mode: 0o600 });
  const proc = startIn(net, dns, '/usr/sbin/pdns_server', [
    `--config-dir=${d}`,
    '--daemon=no',
    '--guardian=no',
    '--disable-syslog',
    '--write-pid=no',
  ]);
  await until(
    'pdns_server to answer on its API',
    async () => {
      const r = await curlIn(
        net,
        dns,
        `http://${v4(dns)}:${PDNS_API_PORT}/api/v1/servers/localhost`,
        {
          extra: ['-H', `@${join(d, 'api-header')}`],
          timeoutS: 2,
        },
      );
      return r.status === 200 ? true : undefined;
    },
    20_000,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  });
  return proc;
}

export async function startRecursor(net: LabNet, dir: string): Promise<Running> {
  const res = host('resolver');
  const dns = host('dns');
  const d = join(dir, 'recursor');
  mkdirSync(d, { recursive: true });
  // The only "root server" the recursor knows is the lab's own pdns: priming and anything
  // outside example.test stay inside the lab (pdns refuses them).
  writeFileSync(join(d, 'root.hints'), `.  3600000 NS ns.lab.\nns.lab. 3600000 A ${v4(dns)}\n`);
  const conf = [
    `local-address=${v4(res)}, ${v6(res)}`,
    'local-port=53',
    'allow-from=10.200.0.0/16, fd00:200::/64',
    `forward-zones=example.test=${v4(dns)}:53`,
    `hint-file=${join(d, 'root.hints')}`,
    // 10.200/16 is private: by default the recursor would neither query it nor send ECS for it
    'dont-query=127.0.0.0/8, ::1/128',
    `edns-subnet-allow-list=${v4(dns)}, example.test`,
    'ecs-add-for=10.200.0.0/16, fd00:200::/64',
    'ecs-ipv4-bits=24',
    'dnssec=off',
    'security-poll-suffix=',
    `socket-dir=${d}`,
    'disable-syslog=yes',
    'quiet=yes',
    'threads=1',
  ];
  writeFileSync(join(d, 'recursor.conf'), conf.join('\n') + '\n');
  const proc = startIn(net, res, '/usr/sbin/pdns_recursor', [`--config-dir=${d}`, '--daemon=no']);
  await until(
    'pdns_recursor to answer',
    async () => {
      const r = await runIn(
        net,
        res,
        'dig',
        [`@${v4(res)}`, '+time=1', '+tries=1', 'ns.lab', 'SOA'],
        {
          timeoutMs: 3000,
        },
      );
      return /status: (NOERROR|REFUSED|SERVFAIL|NXDOMAIN)/.test(r.stdout) ? true : undefined;
    },
    15_000,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  });
  return proc;
}

/** Pebble on the acme host, resolving names through the lab's resolver; HTTP-01 on port 80. */
export async function startPebble(
  net: LabNet,
  dir: string,
): Promise<{ proc: Running; caFile: string; rootFile: string }> {
  const acme = host('acme');
  const d = join(dir, 'pebble');
  mkdirSync(d, { recursive: true });
  const { certFile, keyFile } = selfSignedCertificate(d, [v4(acme)], { file: 'listener' });
  writeFileSync(
    join(d, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `${v4(acme)}:14000`,
        managementListenAddress: `${v4(acme)}:15000`,
        certificate: certFile,
        privateKey: keyFile,
        httpPort: 80,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const proc = startIn(
    net,
    acme,
    'pebble',
    [
      '-config',
      join(d, 'pebble.json'),
      '-dnsserver',
      `${v4(host('resolver'))}:53`,
      '-strict=false',
    ],
    { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  );
  await until(
    'pebble to answer /dir',
    async () => {
      const r = await curlIn(net, acme, `https://${v4(acme)}:14000/dir`, {
        cacert: certFile,
        timeoutS: 2,
      });
      return r.status === 200 ? true : undefined;
    },
    15_000,
  );
  const rootFile = join(d, 'root.pem');
  const root = await curlIn(net, acme, `https://${v4(acme)}:15000/roots/0`, { cacert: certFile });
  if (root.status !== 200) throw new Error(`pebble /roots/0: ${root.status} ${root.error}`);
  writeFileSync(rootFile, root.body);
  return { proc, caFile: certFile, rootFile };
}

/** The HTTPS origin (scripts/lab/origin-server.ts): one JSON line per request on stdout. */
export async function startOrigin(
  net: LabNet,
  dir: string,
): Promise<{ proc: Running; caPem: string }> {
  const d = join(dir, 'origin');
  mkdirSync(d, { recursive: true });
  // the same CA and certificate across restarts: the spec's tls_ca trusts this CA
  if (!existsSync(join(d, 'origin.key'))) {
    const ca = makeTestCa(d);
    const { cert, key } = ca.issue('origin', [SITE]);
    writeFileSync(join(d, 'origin-ca.pem'), ca.caCert);
    writeFileSync(join(d, 'origin.crt'), cert);
    writeFileSync(join(d, 'origin.key'), key, { mode: 0o600 });
  }
  const caPem = readFileSync(join(d, 'origin-ca.pem'), 'utf8');
  const proc = startIn(net, host('origin'), process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'scripts', 'lab', 'origin-server.ts'),
    join(d, 'origin.crt'),
    join(d, 'origin.key'),
  ]);
  await proc.waitFor(/origin listening/, 20_000);
  return { proc, caPem };
}

/** Every request the origin logged so far. */
export function originLog(
  proc: Running,
): { path: string; sni: string | null; tls: boolean; host: string }[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { path: string; sni: string | null; tls: boolean; host: string });
}

export async function startControlPlane(
  net: LabNet,
  dir: string,
  pdnsKey: string,
): Promise<{ proc: Running; adminEnv: Record<string, string> }> {
  const cp = host('cp');
  const url = `http://${v4(cp)}:${CP_PORT}`;
  const proc = startIn(
    net,
    cp,
    process.execPath,
    [
      OUTPOST_BIN,
      'serve',
      '--data-dir',
      join(dir, 'cp'),
      '--listen',
      `${v4(cp)}:${CP_PORT}`,
      '--public-url',
      url,
      // The lab's control plane speaks plain HTTP on an address inside the lab's namespaces;
      // a real one serves HTTPS (docs/deploy.md), which edges insist on by default.
      '--insecure-http',
      '--probe-interval',
      '5',
      '--log-level',
      'warn',
    ],
    { PDNS_KEY: pdnsKey },
  );
  await proc.waitFor(/Admin API:/, 30_000);
  // the admin token is printed once, at the data dir's first start (not after a restart)
  const m = await proc.waitFor(/OUTPOST_TOKEN=(opa_\S+)/, 2000).catch(() => null);
  return { proc, adminEnv: { OUTPOST_SERVER: url, OUTPOST_TOKEN: m?.[1] ?? '' } };
}

/** `outpost ARGS` on the control plane's host (the admin's shell there). */
export function cli(
  net: LabNet,
  adminEnv: Record<string, string>,
  args: string[],
): Promise<RunResult> {
  return runIn(net, host('cp'), process.execPath, [OUTPOST_BIN, ...args], {
    env: adminEnv,
    timeoutMs: 60_000,
  });
}

/** The lab's outpost.yaml. */
export function labSpec(
  originCaPem: string,
  pebbleCaFile: string,
  extraSite = '',
  acme = true,
): string {
  const edgeRows = edges()
    .map((e) => {
      const meta = EDGE_META[e.name] ?? {};
      return [
        `  - name: ${e.name}`,
        `    host: {v4: ${v4(e)}, v6: "${v6(e)}"}`,
        `    meta:`,
        `      latlong: [${e.place.latlong.join(', ')}]`,
        ...(meta.continents ? [`      continents: [${meta.continents.join(', ')}]`] : []),
        ...(meta.countries ? [`      countries: [${meta.countries.join(', ')}]`] : []),
        ...(meta.bandwidthMbps !== undefined ? [`    bandwidth_mbps: ${meta.bandwidthMbps}`] : []),
      ].join('\n');
    })
    .join('\n');
  const ca = originCaPem
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  return `edges:
${edgeRows}
sites:
  - domain: ${SITE}
    origins:
      - host: {v4: ${v4(host('origin'))}}
        protocol: https
        port: 443
        tls_ca: |
${ca}
    health_check: {frequency: 10, timeout: 1}
    dns_ttl: ${DNS_TTL_S}
    https: {redirect_http: false}
${extraSite}dns:
  provider: powerdns
  api_url: http://${v4(host('dns'))}:${PDNS_API_PORT}
  api_key: env:PDNS_KEY
  nameservers: [ns1.example.test]
  dns_servers: ['${v4(host('dns'))}:53']
${
  acme
    ? `acme:
  email: ops@example.test
  directory_url: https://${v4(host('acme'))}:14000/dir
  ca_file: ${pebbleCaFile}
`
    : ''
}`;
}

/** Applies the spec with the CLI; returns the tokens of edges it created. */
export async function applySpec(
  net: LabNet,
  dir: string,
  adminEnv: Record<string, string>,
  yaml: string,
): Promise<Record<string, string>> {
  const file = join(dir, 'outpost.yaml');
  writeFileSync(file, yaml);
  const r = await cli(net, adminEnv, ['apply', '-f', file]);
  if (r.code !== 0) throw new Error(`outpost apply failed (${r.code}):\n${r.stderr}${r.stdout}`);
  const tokens: Record<string, string> = {};
  for (const e of edges()) {
    const t = new RegExp(`New edge ${e.name}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
      r.stdout,
    )?.[1];
    if (t !== undefined) tokens[e.name] = t;
  }
  return tokens;
}

/**
 * Joins an edge as its operator would: the token in a 0600 file, deploy/install.sh with
 * --prefix (files under the edge's own directory, no packages, no systemd), then the agent
 * with the settings install.sh wrote (its agent.env), on the edge's host.
 */
export async function joinEdge(
  net: LabNet,
  dir: string,
  e: LabHost,
  token: string,
  serverUrl: string,
): Promise<Running> {
  const d = join(dir, `edge-${e.name}`);
  mkdirSync(d, { recursive: true });
  chmodSync(d, 0o755); // nginx workers (www-data) read the agent's root
  const tokenIn = join(d, 'token-given');
  writeFileSync(tokenIn, `${token}\n`, { mode: 0o600 });
  const prefix = join(d, 'prefix');
  const root = join(d, 'root');
  // install.sh --skip-agent looks for the agent on PATH: the checkout's `outpost`, as a
  // user who installed it by hand would have it.
  const binDir = join(d, 'bin');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(
    join(binDir, 'outpost'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(OUTPOST_BIN)} "$@"\n`,
    { mode: 0o755 },
  );
  const r = await runIn(
    net,
    e,
    'bash',
    [
      join(ROOT, 'deploy', 'install.sh'),
      '--server',
      serverUrl,
      '--name',
      e.name,
      '--token-file',
      tokenIn,
      '--root',
      root,
      '--prefix',
      prefix,
      '--skip-packages',
      // The lab runs the checkout's agent (below), not the one-file executable that
      // `npm run release` builds and install.sh would download.
      '--skip-agent',
      '--insecure-http',
    ],
    { env: { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` } },
  );
  if (r.code !== 0)
    throw new Error(`install.sh on ${e.name} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  const env = Object.fromEntries(
    readFileSync(join(prefix, 'etc', 'outpost', 'agent.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1).replace(/^"|"$/g, '')];
      }),
  ) as Record<string, string>;
  return startIn(net, e, process.execPath, [
    OUTPOST_BIN,
    'agent',
    '--server',
    env.OUTPOST_SERVER ?? serverUrl,
    '--token-file',
    join(prefix, env.OUTPOST_TOKEN_FILE ?? '/etc/outpost/edge-token'),
    '--root',
    env.OUTPOST_ROOT ?? root,
    '--nginx',
    env.OUTPOST_NGINX ?? '/usr/sbin/nginx',
    '--insecure-http',
    '--report-interval',
    '1',
    '--wait',
    '10',
    '--log-level',
    'warn',
  ]);
}

export interface EdgeStatus {
  name: string;
  state: string;
  applied_release: number | null;
  desired_release: number | null;
}

export async function edgeStatus(
  net: LabNet,
  adminEnv: Record<string, string>,
): Promise<EdgeStatus[]> {
  const r = await cli(net, adminEnv, ['status', '--json']);
  if (r.code !== 0) throw new Error(`outpost status: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { edges?: EdgeStatus[] } | EdgeStatus[];
  return Array.isArray(parsed) ? parsed : (parsed.edges ?? []);
}

export function randomKey(): string {
  return randomBytes(16).toString('hex');
}
