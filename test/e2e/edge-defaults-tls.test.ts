// What a new user gets by default through a real nginx edge started by a real agent (issue 21):
// the default static rules cache an origin that says nothing about freshness (MISS, then HIT)
// but never a private or Set-Cookie answer, and the HTTPS servers speak Mozilla's intermediate
// profile only: a real `openssl s_client` handshake per TLS 1.2 suite, accepted or refused.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOZILLA_INTERMEDIATE } from '../../src/render/nginx-tls.js';
import { TestCdn } from '../support/cdn.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { eventually } from '../support/http.js';
import { startOcspCa, type OcspCa } from '../support/ocsp.js';
import { makeTestCa } from '../support/tls.js';

const run = promisify(execFile);

/** `openssl s_client …` with stdin at EOF (it then closes after the handshake). */
function sClient(args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}
const SILENT = 'silent.test';
/** A second site with an RSA certificate: the ECDHE-RSA suites need one. */
const RSA = 'rsa.test';
/** A site that sends HSTS: its certificate cannot be removed without --force. */
const HSTS = 'hsts.test';
/** A site whose certificate's CA runs an OCSP responder on loopback: the edge staples it. */
const OCSP = 'ocsp.test';

/**
 * One TLS 1.2 handshake offering only `cipher` (and `curve` when given). The client's own
 * security level is lowered so that it really offers weak suites: a refusal is the edge's.
 */
/** The headers of `GET /` over HTTPS with SNI and Host `name` (the test CA is not trusted). */
function httpsHeaders(
  address: string,
  port: number,
  name: string,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, servername: name, headers: { host: name }, rejectUnauthorized: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function handshake(
  address: string,
  port: number,
  servername: string,
  cipher: string,
  curve?: string,
): Promise<{ ok: boolean; output: string }> {
  return sClient([
    '-connect',
    `${address}:${port}`,
    '-servername',
    servername,
    '-tls1_2',
    '-cipher',
    `${cipher}:@SECLEVEL=0`,
    ...(curve ? ['-curves', curve] : []),
  ]);
}

describe('defaults and TLS of an nginx edge', () => {
  const cdn = new TestCdn({ edges: { a: '127.0.0.71' } });
  let origin: TestOrigin;
  let ocspCa: OcspCa | undefined;
  const tlsPort = () => cdn.edgePort + 1;

  beforeAll(async () => {
    origin = await startOrigin({
      routes: {
        // Like python's http.server: no Cache-Control, no Expires.
        '/assets/app.js': (_req, res) => {
          res.setHeader('content-type', 'application/javascript');
          res.end('console.log(1);\n');
        },
        '/static/private.css': (_req, res) => {
          res.setHeader('cache-control', 'private');
          res.end('body{}');
        },
        '/assets/cookie.png': (_req, res) => {
          res.setHeader('set-cookie', 'session=abc; Path=/');
          res.end('png');
        },
        '/assets/no-store.js': (_req, res) => {
          res.setHeader('cache-control', 'no-store');
          res.end('x');
        },
        '/page': (_req, res) => void res.end('html'),
      },
    });
    await cdn.start();
    const originLine = `origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]`;
    await cdn.apply(`
edges:
${cdn.edgeYaml('a')}sites:
  - domain: ${SILENT}
    ${originLine}
    https: {redirect_http: false}
  - domain: ${RSA}
    ${originLine}
    https: {redirect_http: false}
  - domain: ${HSTS}
    ${originLine}
    https: {hsts: {max_age: 31536000}}
  - domain: ${OCSP}
    ${originLine}
    https: {redirect_http: false}
`);
    await cdn.startAgents();
    const dir = join(cdn.tmp.path, 'ca');
    mkdirSync(dir);
    const ca = makeTestCa(dir);
    for (const [domain, rsa] of [
      [SILENT, false],
      [RSA, true],
      [HSTS, false],
    ] as const) {
      const leaf = ca.issue(domain, [domain], { rsa });
      writeFileSync(join(dir, `${domain}.pem`), leaf.cert + ca.caCert);
      writeFileSync(join(dir, `${domain}.key.pem`), leaf.key, { mode: 0o600 });
      const before = await cdn.releases();
      const up = await cdn.cli([
        'cert',
        'upload',
        domain,
        '--cert',
        join(dir, `${domain}.pem`),
        '--key',
        join(dir, `${domain}.key.pem`),
      ]);
      expect(up.stderr).toBe('');
      await cdn.allApplied(before);
    }
  }, 120_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
    await ocspCa?.close();
  });

  const statuses = async (path: string, times = 3) => {
    const out: string[] = [];
    for (let i = 0; i < times; i++)
      out.push((await cdn.get('a', path, SILENT)).headers['x-cache-status'] ?? '?');
    return out;
  };

  it('caches a static file from an origin that sends no Cache-Control: MISS, then HIT', async () => {
    expect(await statuses('/assets/app.js')).toEqual(['MISS', 'HIT', 'HIT']);
    expect(origin.count('/assets/app.js')).toBe(1);
  });

  it('never stores a private, no-store or Set-Cookie answer, default TTL or not', async () => {
    expect(await statuses('/static/private.css')).toEqual(['MISS', 'MISS', 'MISS']);
    expect(await statuses('/assets/cookie.png')).toEqual(['MISS', 'MISS', 'MISS']);
    expect(await statuses('/assets/no-store.js')).toEqual(['MISS', 'MISS', 'MISS']);
    expect(origin.count('/static/private.css')).toBe(3);
    expect(origin.count('/assets/cookie.png')).toBe(3);
    // Not a static path: proxied uncached, as before.
    expect(await statuses('/page', 2)).toEqual(['BYPASS', 'BYPASS']);
  });

  const accepted = MOZILLA_INTERMEDIATE.ciphers;
  // A sample of what nginx + OpenSSL 3 accepted before the profile (docs/proxies.md), each one
  // the edge could negotiate with its certificate's key type.
  const refused: [string, string][] = [
    ['AES128-GCM-SHA256', RSA], // static RSA: no forward secrecy
    ['AES256-SHA256', RSA], // static RSA, CBC
    ['ECDHE-RSA-AES128-SHA', RSA], // CBC-SHA1
    ['ECDHE-ECDSA-AES256-SHA', SILENT], // CBC-SHA1
    ['CAMELLIA128-SHA', RSA],
    ['ECDHE-ECDSA-CAMELLIA128-SHA256', SILENT],
    ['ECDHE-ARIA128-GCM-SHA256', RSA],
    ['ECDHE-ECDSA-ARIA256-GCM-SHA384', SILENT],
    ['ECDHE-ECDSA-AES128-CCM8', SILENT],
    ['ECDHE-ECDSA-AES128-CCM', SILENT],
    ['DHE-RSA-AES128-GCM-SHA256', RSA], // not in the profile (guidelines 6.0)
  ];

  it.each(accepted.map((c) => [c]))('accepts the profile suite %s over TLS 1.2', async (cipher) => {
    const host = cipher.includes('ECDSA') ? SILENT : RSA;
    const r = await handshake(cdn.address('a'), tlsPort(), host, cipher);
    expect(r.output).toContain(`Cipher is ${cipher}`);
    expect(r.ok).toBe(true);
  });

  it.each(refused)('refuses %s (served name %s)', async (cipher, host) => {
    // The client does offer it (a name OpenSSL does not know would fail on this side).
    const known = await run('openssl', ['ciphers', `${cipher}:@SECLEVEL=0`]);
    expect(known.stdout.trim().split(':')).toContain(cipher);
    const r = await handshake(cdn.address('a'), tlsPort(), host, cipher);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/handshake failure|no shared cipher/);
  });

  it('offers the profile curves only, and no session tickets', async () => {
    // The RSA site: in TLS 1.2 the offered curves also bind an ECDSA certificate's curve.
    const suite = 'ECDHE-RSA-AES128-GCM-SHA256';
    const temp = { X25519: 'X25519', prime256v1: 'ECDH, prime256v1', secp384r1: 'ECDH, secp384r1' };
    for (const curve of MOZILLA_INTERMEDIATE.curves) {
      const r = await handshake(cdn.address('a'), tlsPort(), RSA, suite, curve);
      expect(r.ok, `${curve}: ${r.output.slice(-600)}`).toBe(true);
      expect(r.output).toContain(`Server Temp Key: ${temp[curve]}`);
    }
    for (const curve of ['secp521r1', 'X448']) {
      const other = await handshake(cdn.address('a'), tlsPort(), RSA, suite, curve);
      expect(other.ok, curve).toBe(false);
    }
    const r = await handshake(cdn.address('a'), tlsPort(), SILENT, suite);
    expect(r.output).not.toContain('TLS session ticket:');
    // TLS 1.3 works too (its suites are OpenSSL's defaults, the profile's three).
    const tls13 = await sClient([
      '-connect',
      `${cdn.address('a')}:${tlsPort()}`,
      '-servername',
      SILENT,
      '-tls1_3',
    ]);
    expect(tls13.ok).toBe(true);
    expect(tls13.output).toMatch(/TLSv1\.3/);
  });

  it('refuses `outpost cert rm` on a site that sends HSTS unless --force', async () => {
    const hsts = await sClient([
      '-connect',
      `${cdn.address('a')}:${tlsPort()}`,
      '-servername',
      HSTS,
    ]);
    expect(hsts.ok).toBe(true);
    const https = await httpsHeaders(cdn.address('a'), tlsPort(), HSTS);
    expect(https['strict-transport-security']).toBe('max-age=31536000');

    const refused = await cdn.cli(['cert', 'rm', HSTS]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/sends Strict-Transport-Security \(max-age 31536000 s\)/);
    expect(refused.stderr).toMatch(/--force/);
    const list = await cdn.cli(['cert', 'list', '--json']);
    expect(list.stdout).toContain(HSTS);
    const still = await sClient([
      '-connect',
      `${cdn.address('a')}:${tlsPort()}`,
      '-servername',
      HSTS,
    ]);
    expect(still.ok).toBe(true);

    // A site without HSTS: removed at once.
    const before = await cdn.releases();
    const plain = await cdn.cli(['cert', 'rm', RSA]);
    expect(plain.code).toBe(0);
    const forced = await cdn.cli(['cert', 'rm', HSTS, '--force']);
    expect(forced.stdout).toContain(`Removed the certificate of ${HSTS}.`);
    expect(forced.code).toBe(0);
    await cdn.allApplied(before);
    const gone = await sClient([
      '-connect',
      `${cdn.address('a')}:${tlsPort()}`,
      '-servername',
      HSTS,
    ]);
    expect(gone.ok).toBe(false);
  });

  it('staples the OCSP response the control plane fetched (the edge never asks the responder)', async () => {
    const dir = join(cdn.tmp.path, 'ocsp-ca');
    mkdirSync(dir);
    ocspCa = await startOcspCa(dir);
    const leaf = ocspCa.issue('ocsp', [OCSP]);
    writeFileSync(join(dir, 'chain.pem'), leaf.cert + ocspCa.caCert);
    writeFileSync(join(dir, 'leaf.key'), leaf.key, { mode: 0o600 });
    const up = await cdn.cli([
      'cert',
      'upload',
      OCSP,
      '--cert',
      join(dir, 'chain.pem'),
      '--key',
      join(dir, 'leaf.key'),
    ]);
    expect(up.stderr).toBe('');
    const status = () =>
      sClient(['-connect', `${cdn.address('a')}:${tlsPort()}`, '-servername', OCSP, '-status']);
    // The certificate first, then a release with its OCSP response.
    const stapled = await eventually(
      'the edge to staple the OCSP response',
      async () => {
        const r = await status();
        return r.output.includes('OCSP Response Status: successful') ? r : undefined;
      },
      60_000,
      500,
    );
    expect(stapled.output).toContain('Cert Status: good');
    expect(stapled.output).toContain(`Serial Number: ${leaf.serial}`);
    const asked = ocspCa.requests();
    expect(asked).toBeGreaterThanOrEqual(1);
    // Handshakes are answered from the file: the responder is not asked again, even when down.
    ocspCa.setDown(true);
    const again = await status();
    expect(again.output).toContain('Cert Status: good');
    expect(ocspCa.requests()).toBe(asked);
    // A site whose CA names no responder staples nothing.
    const none = await sClient([
      '-connect',
      `${cdn.address('a')}:${tlsPort()}`,
      '-servername',
      SILENT,
      '-status',
    ]);
    expect(none.output).toContain('OCSP response: no response sent');
  });
});
