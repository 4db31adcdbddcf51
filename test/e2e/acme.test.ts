// Certificates end to end, loopback only: Pebble (the ACME test server) validates HTTP-01
// through real nginx edges rendered by Outpost and driven by real `outpost agent`s; the edges
// then serve the sites over HTTPS; renewal runs on an injected clock; a bring-your-own
// certificate reaches only the edge serving its site; no private key leaks.
//
// The control plane runs in this process (to inject the clock); agents, nginx, Pebble and
// the CLI are separate processes.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BundleManifest, resolveFiles } from '../../src/bundle/index.js';
import { CertificateManager } from '../../src/certs/index.js';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { openStore, type Store } from '../../src/store/index.js';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import {
  startChallTestSrv,
  startPebble,
  type ChallTestSrv,
  type PebbleServer,
} from '../support/pebble.js';
import { freePort, runCli, startOutpost, tempDir, type Running } from '../support/processes.js';
import { makeTestCa } from '../support/tls.js';

const NGINX = '/usr/sbin/nginx';
const EDGES = { a: '127.0.0.2', b: '127.0.0.3' } as const;
type EdgeName = keyof typeof EDGES;

interface CertRow {
  domain: string;
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
  failures: number;
  last_error: string | null;
  next_renewal: string | null;
  source: string | null;
}

/** Splits a PEM chain into certificates. */
function chainOf(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (b) => new X509Certificate(b),
  );
}

/** GET over TLS to `address:port` with SNI `servername`, trusting only `ca`. */
function httpsGet(
  address: string,
  port: number,
  servername: string,
  ca: string,
): Promise<{ status: number; serial: string; body: string; node: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: address,
        port,
        path: '/',
        servername,
        ca,
        agent: false,
        headers: { host: servername },
      },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            serial,
            body,
            node: String(res.headers['x-cdn-node'] ?? ''),
          }),
        );
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('ACME certificates through real nginx edges (Pebble, HTTP-01)', () => {
  const tmp = tempDir('acme');
  const logs: string[] = [];
  const outputs: string[] = [];
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  // Every renewal check the control plane's CertificateManager runs (its timer calls check()).
  const checks = vi.spyOn(CertificateManager.prototype, 'check');
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let cpUrl = '';
  let adminEnv: Record<string, string> = {};
  let edgePort = 0;
  let origin: TestOrigin;
  let pebble: PebbleServer;
  let dns: ChallTestSrv;
  const agents: Partial<Record<EdgeName, Running>> = {};
  /** Every private key issued or uploaded during the test. */
  const keys = new Set<string>();

  const root = (edge: EdgeName) => join(tmp.path, `edge-${edge}`);
  const cli = async (args: string[]) => {
    const r = await runCli(args, adminEnv);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${cpUrl}/${path}`, {
      headers: { authorization: `Bearer ${adminEnv.OUTPOST_TOKEN}` },
    });
    const text = await res.text();
    outputs.push(text);
    return JSON.parse(text) as T;
  };
  const certRow = async (domain: string) =>
    (await api<{ certificates: CertRow[] }>('v1/certificates')).certificates.find(
      (c) => c.domain === domain,
    ) as CertRow;
  const rememberKeys = async () => {
    for (const d of ['shop.test', 'other.test']) {
      const k = await store.certificateKey(d);
      if (k) keys.add(k);
    }
  };
  const nginxPid = (edge: EdgeName) =>
    readFileSync(join(root(edge), 'logs', 'nginx.pid'), 'utf8').trim();

  const specYaml = (withAcme: boolean) => `
${
  withAcme
    ? `acme:
  email: ops@outpost.test
  directory_url: ${pebble.directoryUrl}
  ca_file: ${pebble.caFile}
`
    : ''
}edges:
  - name: a
    host: {v4: ${EDGES.a}}
    listen: {addresses: [${EDGES.a}], http: ${edgePort}, https: ${edgePort + 1}}
  - name: b
    host: {v4: ${EDGES.b}}
    listen: {addresses: [${EDGES.b}], http: ${edgePort}, https: ${edgePort + 1}}
sites:
  - domain: shop.test
    aliases: [www.shop.test]
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    edges: [a, b]
  - domain: other.test
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    edges: [b]
    tls: {acme: false}
`;

  const apply = async (yaml: string) => {
    const file = join(tmp.path, 'outpost.yaml');
    writeFileSync(file, yaml);
    const r = await cli(['apply', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  const status = () =>
    api<{
      edges: { name: string; applied_release: number | null; desired_release: number | null }[];
    }>('v1/status');
  const allApplied = () =>
    eventually('both edges to apply their newest release', async () => {
      const { edges } = await status();
      return edges.length === 2 &&
        edges.every((e) => e.desired_release !== null && e.applied_release === e.desired_release)
        ? edges
        : undefined;
    });

  beforeAll(async () => {
    chmodSync(tmp.path, 0o755); // nginx workers must reach the edge roots
    origin = await startOrigin({});
    edgePort = await freePort(EDGES.a);
    dns = await startChallTestSrv(EDGES.a);
    pebble = await startPebble({ httpPort: edgePort, dnsServer: dns.dnsServer });

    const cpPort = await freePort();
    cpUrl = `http://127.0.0.1:${cpPort}`;
    store = await openStore({ url: `sqlite:${join(tmp.path, 'cp', 'outpost.db')}` });
    const token = (await ensureAdminToken(store)) as string;
    adminEnv = { OUTPOST_SERVER: cpUrl, OUTPOST_TOKEN: token };
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'debug' }, sink),
      publicUrl: cpUrl,
      version: 'test',
      nginx: NGINX,
      certificates: {
        now,
        checkIntervalMs: 250,
        poll: { minMs: 50, maxMs: 500, attempts: 60 },
      },
    });
    await app.listen({ host: '127.0.0.1', port: cpPort });

    // Edges first, then the acme block: the first order finds them serving.
    const out = await apply(specYaml(false));
    for (const edge of ['a', 'b'] as const) {
      const t = new RegExp(`New edge ${edge}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        out,
      )?.[1];
      if (!t) throw new Error(`no token for edge ${edge} in:\n${out}`);
      writeFileSync(join(tmp.path, `token-${edge}`), `${t}\n`, { mode: 0o600 });
      agents[edge] = startOutpost([
        'agent',
        '--server',
        cpUrl,
        '--token-file',
        join(tmp.path, `token-${edge}`),
        '--root',
        root(edge),
        '--report-interval',
        '1',
        '--log-level',
        'debug',
      ]);
    }
    await allApplied();
  }, 60_000);

  afterAll(async () => {
    for (const edge of ['a', 'b'] as const) {
      await agents[edge]?.stop();
      const conf = join(root(edge), 'live', 'nginx.conf');
      if (existsSync(join(root(edge), 'logs', 'nginx.pid')))
        await new Promise((r) =>
          execFile(NGINX, ['-p', `${root(edge)}/`, '-c', conf, '-s', 'quit'], () => r(undefined)),
        );
    }
    await app?.close();
    await store?.close();
    await pebble?.stop();
    await dns?.stop();
    await origin?.close();
    tmp.remove();
  });

  it('`outpost cert issue` shows each step, from the order to delivery on both edges', async () => {
    await apply(specYaml(true));
    const r = await cli(['cert', 'issue', 'shop.test', '--timeout', '60']);
    process.stdout.write(`outpost cert issue shop.test:\n${r.stdout}`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const steps = r.stdout
      .split('\n')
      .map((l) => /^\[\d+\.\ds\] (\w+):? /.exec(l)?.[1])
      .filter((s) => s !== undefined);
    for (const step of ['order', 'challenge', 'validated', 'issued', 'published'])
      expect(steps).toContain(step);
    expect(r.stdout).toMatch(/challenge: http-01 challenge published for 2 names/);
    expect(r.stdout).toMatch(/delivered to 2\/2 edges\n$/);
    await rememberKeys();
  }, 90_000);

  it("the chain verifies against Pebble's root, and both edges serve shop.test over HTTPS with it", async () => {
    const rootPem = await pebble.root();
    const { certificate } = await api<{ certificate: CertRow & { chain_pem: string } }>(
      'v1/certificates/shop.test',
    );
    const [leaf, intermediate] = chainOf(certificate.chain_pem);
    const pebbleRoot = new X509Certificate(rootPem);
    expect(leaf && intermediate).toBeTruthy();
    expect(leaf!.checkIssued(intermediate!) && leaf!.verify(intermediate!.publicKey)).toBe(true);
    expect(
      intermediate!.checkIssued(pebbleRoot) && intermediate!.verify(pebbleRoot.publicKey),
    ).toBe(true);
    expect(leaf!.subjectAltName).toBe('DNS:shop.test, DNS:www.shop.test');
    expect(leaf!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const rootFile = join(tmp.path, 'pebble-root.pem');
    writeFileSync(rootFile, rootPem);
    const curl = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '--resolve',
          `www.shop.test:${edgePort + 1}:${EDGES.a}`,
          '--cacert',
          rootFile,
          '-D',
          '-',
          `https://www.shop.test:${edgePort + 1}/assets/app.js`,
        ],
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(curl).toMatch(/^HTTP\/2 200/);
    expect(curl).toMatch(/x-cdn-node: a/i);
    expect(curl).toContain('origin says /assets/app.js');
    const onB = await httpsGet(EDGES.b, edgePort + 1, 'shop.test', rootPem);
    expect(onB).toMatchObject({ status: 200, node: 'b', serial: certificate.serial });
    // Plain HTTP now redirects to HTTPS.
    const plain = await httpGet(`http://${EDGES.a}:${edgePort}/x?y=1`, { host: 'shop.test' });
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://shop.test:${edgePort + 1}/x?y=1`);
  });

  it('every edge of a site answers its HTTP-01 challenges from the control plane', async () => {
    await store.putAcmeChallenge({
      token: 'probe-token_1',
      domain: 'shop.test',
      key_authorization: 'probe-token_1.thumbprint',
      expires_at: new Date(now().getTime() + 60_000).toISOString(),
    });
    for (const edge of ['a', 'b'] as const) {
      const r = await httpGet(
        `http://${EDGES[edge]}:${edgePort}/.well-known/acme-challenge/probe-token_1`,
        { host: 'www.shop.test' },
      );
      expect([r.status, r.body, r.headers['x-cdn-node']]).toEqual([
        200,
        'probe-token_1.thumbprint',
        edge,
      ]);
      const unknown = await httpGet(
        `http://${EDGES[edge]}:${edgePort}/.well-known/acme-challenge/nope`,
        { host: 'shop.test' },
      );
      expect(unknown.status).toBe(404);
    }
    // Edge a does not serve other.test: its default server refuses the name.
    const notServed = await httpGet(
      `http://${EDGES.a}:${edgePort}/.well-known/acme-challenge/probe-token_1`,
      { host: 'other.test' },
    );
    expect(notServed.status).toBe(421);
  });

  it('an uploaded certificate is validated and reaches only the edge serving its site', async () => {
    mkdirSync(join(tmp.path, 'byo'));
    const ca = makeTestCa(join(tmp.path, 'byo'));
    const good = ca.issue('other', ['other.test']);
    const wrong = ca.issue('wrong', ['other.test']);
    const file = (name: string, text: string) => {
      const p = join(tmp.path, 'byo', name);
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    const chain = file('good.crt', good.cert + ca.caCert);
    const upload = (keyFile: string) =>
      cli(['cert', 'upload', 'other.test', '--cert', chain, '--key', keyFile]);
    const bad = await upload(file('wrong.key', wrong.key));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('outpost: the key does not belong to the certificate (at key)\n');
    const before = (await status()).edges.find((e) => e.name === 'b')?.desired_release ?? 0;
    const ok = await upload(file('good.key', good.key));
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(
      /Uploaded the certificate of other.test: other.test, issued by Outpost Test CA/,
    );
    expect(ok.stdout).toContain('It goes to 1 edge: b.');
    keys.add(good.key);
    await rememberKeys();

    const served = await eventually('edge b to serve other.test over HTTPS', async () => {
      const { edges } = await status();
      const b = edges.find((e) => e.name === 'b');
      if (!b?.applied_release || b.applied_release <= before) return undefined;
      return httpsGet(EDGES.b, edgePort + 1, 'other.test', ca.caCert);
    });
    expect(served).toMatchObject({ status: 200, node: 'b' });

    // Edge b holds the key with mode 0600; edge a has neither file nor key in any release.
    const liveB = join(root('b'), 'live', 'release', 'certs');
    expect(statSync(join(liveB, 'other.test.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(liveB, 'other.test.crt')).mode & 0o777).toBe(0o644);
    expect(statSync(join(liveB, 'shop.test.key')).mode & 0o777).toBe(0o600);
    const bundleA = await store.latestBundle('a');
    const manifestA = BundleManifest.parse(
      JSON.parse((JSON.parse(bundleA!.body) as { manifest: string }).manifest),
    );
    const filesA = await resolveFiles(manifestA, (h) => store.releaseFiles(h));
    expect(filesA.map((f) => f.path)).toEqual(
      expect.arrayContaining(['certs/shop.test.crt', 'certs/shop.test.key']),
    );
    expect(filesA.some((f) => f.path.includes('other.test'))).toBe(false);
    const decoded = filesA.map((f) => f.content.toString()).join('');
    expect(decoded).not.toContain(good.key.trim());
    expect(existsSync(join(root('a'), 'live', 'release', 'certs', 'other.test.key'))).toBe(false);
  });

  it('past two thirds of its life the certificate renews: a CA error backs off, then edges switch without a restart', async () => {
    const before = await certRow('shop.test');
    const pids = { a: nginxPid('a'), b: nginxPid('b') };
    const rootPem = await pebble.root();
    // The CA cannot reach any edge for shop.test: validation fails.
    await dns.addA('shop.test', '127.0.0.9');
    const from = Date.parse(before.not_before!);
    const life = Date.parse(before.not_after!) - from;
    offsetMs = from + life * 0.7 - Date.now();
    const failed = await eventually(
      'the renewal attempt to fail',
      async () => {
        const row = await certRow('shop.test');
        return row.failures > 0 ? row : undefined;
      },
      30_000,
    );
    expect(failed.serial).toBe(before.serial);
    expect(failed.last_error).toMatch(/validation of shop.test failed/);
    const retryAt = Date.parse(failed.next_renewal!);
    expect(retryAt - now().getTime()).toBeGreaterThan(50_000); // a minute of backoff
    expect(retryAt - now().getTime()).toBeLessThanOrEqual(60_000);
    // Many checks later, still one failure: the CA is not hammered.
    const checksBefore = checks.mock.calls.length;
    await eventually(
      'four more renewal checks',
      () => Promise.resolve(checks.mock.calls.length >= checksBefore + 4 ? true : undefined),
      30_000,
    );
    expect((await certRow('shop.test')).failures).toBe(1);
    const events = await api<{
      events: { action: string; subject: string; detail: Record<string, unknown> }[];
    }>('v1/events?limit=50');
    const attempt = events.events.find(
      (e) => e.action === 'certificate.attempt' && e.detail.result === 'failed',
    );
    expect(attempt?.detail).toMatchObject({
      trigger: 'renewal',
      failures: 1,
      challenge: 'http-01',
    });

    // The CA can reach the edges again; once the backoff has passed, the renewal succeeds.
    await dns.clearA('shop.test');
    offsetMs += 61_000;
    const renewed = await eventually(
      'the renewal to succeed',
      async () => {
        const row = await certRow('shop.test');
        return row.serial !== before.serial && row.failures === 0 ? row : undefined;
      },
      30_000,
    );
    offsetMs = 0; // at the real time the new certificate is not due
    await rememberKeys();
    for (const edge of ['a', 'b'] as const) {
      await eventually(`edge ${edge} to serve the renewed certificate`, async () => {
        const r = await httpsGet(EDGES[edge], edgePort + 1, 'shop.test', rootPem);
        const current = (await certRow('shop.test')).serial;
        return r.serial === current && r.serial !== before.serial ? r : undefined;
      });
      expect(nginxPid(edge)).toBe(pids[edge]); // reloaded, not restarted
    }
    expect(renewed.not_after).not.toBeNull();
  }, 90_000);

  it('a certificate within seven days of expiry whose renewal fails is an alert in `outpost status`', async () => {
    const row = await certRow('shop.test');
    await dns.addA('shop.test', '127.0.0.9');
    offsetMs = Date.parse(row.not_after!) - 3 * 86_400_000 - Date.now();
    await eventually('the renewal to fail', async () =>
      (await certRow('shop.test')).failures > 0 ? true : undefined,
    );
    const r = await cli(['status']);
    expect(r.stdout).toMatch(
      /ALERT cert_expiring shop.test: certificate of shop.test expires in [23] days; renewal keeps failing: validation of (www\.)?shop\.test failed/,
    );
    const list = await cli(['cert', 'list']);
    expect(list.stdout).toMatch(
      /^SITE\s+NAMES\s+SOURCE\s+ISSUER\s+NOT AFTER\s+DAYS\s+NEXT RENEWAL\s+LAST ERROR/,
    );
    expect(list.stdout).toMatch(
      /shop\.test\s+shop\.test,www\.shop\.test\s+acme\s+Pebble Intermediate CA \w+\s+\d{4}-\d\d-\d\d\s+[23]\s+\d{4}-\d\d-\d\d\s+validation of (www\.)?shop\.test failed/,
    );
    expect(list.stdout).toMatch(/other\.test\s+other\.test\s+upload\s+Outpost Test CA/);
    offsetMs = 0;
    await dns.clearA('shop.test');
    const after = await cli(['status']);
    expect(after.stdout).not.toContain('ALERT cert_expiring shop.test');
    // The uploaded test certificate lives two days: it is an alert of its own.
    expect(after.stdout).toMatch(
      /ALERT cert_expiring other.test: certificate of other.test expires in [01] days?; it was uploaded: upload a new one/,
    );
  }, 60_000);

  it('no private key appears in logs, API responses, CLI output, or the other edge', async () => {
    await rememberKeys();
    expect(keys.size).toBeGreaterThanOrEqual(3); // issued, renewed, uploaded
    for (const path of [
      'v1/certificates',
      'v1/certificates/shop.test',
      'v1/certificates/other.test',
      'v1/status',
      'v1/state',
      'v1/events?limit=500',
    ])
      await api(path);
    const everything = [
      ...logs,
      ...outputs,
      agents.a?.output() ?? '',
      agents.b?.output() ?? '',
    ].join('\n');
    expect(logs.length).toBeGreaterThan(20);
    expect(everything).not.toContain('PRIVATE KEY');
    for (const key of keys) {
      const body = key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      expect(body.length).toBeGreaterThan(100);
      expect(everything).not.toContain(body.slice(0, 64));
    }
    // Edge a never received other.test's key in any release on its disk.
    const releasesA = join(root('a'), 'releases');
    const { readdirSync } = await import('node:fs');
    for (const rel of readdirSync(releasesA))
      expect(existsSync(join(releasesA, rel, 'certs', 'other.test.key'))).toBe(false);
  });
});
