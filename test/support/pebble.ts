// Pebble, the ACME test server (Debian's `pebble` package, 2.4), and its companion DNS server
// `pebble-challtestsrv`, on 127.0.0.1 only. Pebble regenerates its root on every start: fetch
// it with `root()` and verify chains against that.
//
// Measured on this kind of machine (see shared notes): Pebble's HTTPS listener needs a
// certificate we make; `PEBBLE_VA_NOSLEEP=1` and `PEBBLE_WFE_NONCEREJECT=0` keep it fast and
// deterministic; challtestsrv must answer no AAAA (`-defaultIPv6 ""`) or Pebble dials ::1
// first, and its unused challenge servers must be off (their defaults bind every interface).
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { eventually } from './http.js';
import { freePort, startProcess, tempDir, type Running } from './processes.js';
import { selfSignedCertificate } from './tls.js';

export interface PebbleServer {
  /** ACME directory URL, https://127.0.0.1:PORT/dir */
  directoryUrl: string;
  /** PEM file of the certificate of Pebble's own HTTPS listener (spec `acme.ca_file`). */
  caFile: string;
  /** Pebble's root certificate of this run (PEM), from the management port. */
  root: () => Promise<string>;
  output: () => string;
  stop: () => Promise<void>;
}

export interface PebbleOptions {
  /** Port Pebble's validation dials for HTTP-01: the edge's HTTP listen port. */
  httpPort: number;
  /** "ip:port" of the DNS server Pebble resolves names with (challtestsrv or PowerDNS). */
  dnsServer: string;
  /** EAB: kid → base64url HMAC key; makes EAB required. */
  eabKeys?: Record<string, string>;
  /** Skip validation (PEBBLE_VA_ALWAYS_VALID): for tests of the account and order flow only. */
  alwaysValid?: boolean;
}

function httpsText(url: string, ca: string, init: { method?: string; body?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.once('error', reject);
    req.end(init.body);
  });
}

export async function startPebble(opts: PebbleOptions): Promise<PebbleServer> {
  const dir = tempDir('pebble');
  const { certFile: cert, keyFile: key } = selfSignedCertificate(
    dir.path,
    ['localhost', '127.0.0.1'],
    { file: 'listener' },
  );
  const port = await freePort();
  const mgmt = await freePort();
  const config = join(dir.path, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: cert,
        privateKey: key,
        httpPort: opts.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: opts.eabKeys !== undefined,
        ...(opts.eabKeys ? { externalAccountMACKeys: opts.eabKeys } : {}),
      },
    }),
  );
  const proc: Running = startProcess(
    'pebble',
    ['-config', config, '-dnsserver', opts.dnsServer, '-strict=false'],
    // No reuse of valid authorizations (Pebble's default is 50 %): every order is validated,
    // so a test that breaks validation fails deterministically.
    {
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
      ...(opts.alwaysValid ? { PEBBLE_VA_ALWAYS_VALID: '1' } : {}),
    },
  );
  const ca = readFileSync(cert, 'utf8');
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  await eventually(
    'pebble to answer /dir',
    async () => ((await httpsText(directoryUrl, ca)).status === 200 ? true : undefined),
    15_000,
  );
  return {
    directoryUrl,
    caFile: cert,
    root: async () => (await httpsText(`https://127.0.0.1:${mgmt}/roots/0`, ca)).body,
    output: proc.output,
    stop: async () => {
      await proc.stop();
      dir.remove();
    },
  };
}

export interface ChallTestSrv {
  /** "127.0.0.1:PORT" for Pebble's -dnsserver. */
  dnsServer: string;
  /** Answers A queries for `host` with `ip` (instead of the default). */
  addA: (host: string, ip: string) => Promise<void>;
  clearA: (host: string) => Promise<void>;
  setDefaultIPv4: (ip: string) => Promise<void>;
  /** Adds one TXT value at `host` (Debian's challtestsrv appends; measured). */
  addTxt: (host: string, value: string) => Promise<void>;
  /** Removes every TXT value at `host`. */
  clearTxt: (host: string) => Promise<void>;
  stop: () => Promise<void>;
}

/** pebble-challtestsrv as a DNS server only: A answers for site names, no AAAA. */
export async function startChallTestSrv(defaultIPv4: string): Promise<ChallTestSrv> {
  const dns = await freePort();
  const mgmt = await freePort();
  const proc = startProcess('pebble-challtestsrv', [
    '-defaultIPv4',
    defaultIPv4,
    '-defaultIPv6',
    '',
    '-dns01',
    `127.0.0.1:${dns}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-management',
    `127.0.0.1:${mgmt}`,
  ]);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${mgmt}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`challtestsrv ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  await eventually('challtestsrv management to answer', async () => {
    await post('/set-default-ipv4', { ip: defaultIPv4 });
    return true;
  });
  // Debian's challtestsrv wants fully qualified names with the trailing dot.
  const fqdn = (h: string) => (h.endsWith('.') ? h : `${h}.`);
  return {
    dnsServer: `127.0.0.1:${dns}`,
    addA: (host, ip) => post('/add-a', { host: fqdn(host), addresses: [ip] }),
    clearA: (host) => post('/clear-a', { host: fqdn(host) }),
    setDefaultIPv4: (ip) => post('/set-default-ipv4', { ip }),
    addTxt: (host, value) => post('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => post('/clear-txt', { host: fqdn(host) }),
    stop: () => proc.stop(),
  };
}
