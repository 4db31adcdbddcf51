// Secrets at rest: with a certificate uploaded, the signing key made, an ACME account stored
// and a DNS provider key configured, the database file and its WAL hold none of them in the
// clear; `secrets rotate-key` re-seals them all, and the old key no longer opens the store.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../support/tls.js';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { buildControlPlane } from '../../src/server/app.js';
import { loadSecretBox, openStore, type Store } from '../../src/store/index.js';

const SITE = 'rest.example';
const PROVIDER_KEY = 'pdns-api-key-0123456789abcdef';

describe('secrets at rest', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-rest-'));
  const dbFile = join(tmp, 'data', 'outpost.db');
  const keyFile = join(tmp, 'outpost-secret.key');
  let store: Store;
  let app: Awaited<ReturnType<typeof buildControlPlane>>;
  let admin = '';
  let certKeyPem = '';

  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${admin}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  /** The database and its WAL as text (what a copy of the data dir shows). */
  const onDisk = (): string =>
    [dbFile, `${dbFile}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');

  beforeAll(async () => {
    const { box, created } = loadSecretBox(keyFile);
    expect(created).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    store = await openStore({ url: `sqlite:${dbFile}`, secrets: box });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:1',
      version: 'test',
      secretKeyFile: keyFile,
      secretVars: { PDNS_KEY: PROVIDER_KEY },
    });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the database file and its WAL hold no private key, signing key or API key', async () => {
    const applied = await call('POST', '/v1/apply', {
      spec: {
        dns: {
          provider: 'powerdns',
          api_url: 'http://127.0.0.1:9',
          api_key: 'env:PDNS_KEY',
          server_id: 'localhost',
        },
        sites: [
          { domain: SITE, origins: [{ host: { v4: '127.0.0.1' }, port: 9 }], tls: { acme: false } },
        ],
      },
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // An inline key is refused: provider keys are references, never stored.
    const inline = await call('POST', '/v1/apply', {
      spec: {
        dns: {
          provider: 'powerdns',
          api_url: 'http://127.0.0.1:9',
          api_key: PROVIDER_KEY,
          server_id: 'x',
        },
      },
    });
    expect(inline.status).toBe(400);
    const { certFile, keyFile: certKeyFile } = selfSignedCertificate(tmp, [SITE]);
    certKeyPem = readFileSync(certKeyFile, 'utf8');
    const up = await call('PUT', `/v1/certificates/${SITE}`, {
      certificate: readFileSync(certFile, 'utf8'),
      key: certKeyPem,
    });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    // The ACME account as certs/acme.ts stores it (its key is a PEM private key).
    await store.setSetting(
      'acme.account',
      JSON.stringify({
        directory_url: 'https://127.0.0.1:14000/dir',
        key_pem: certKeyPem,
        url: 'x',
      }),
    );

    const signing = JSON.parse((await store.getSetting('bundle_signing_key')) ?? '{}') as {
      privateKeyPem?: string;
    };
    expect(signing.privateKeyPem).toContain('PRIVATE KEY');
    expect(await store.certificateKey(SITE)).toBe(certKeyPem);

    const disk = onDisk();
    expect(disk.length).toBeGreaterThan(1000);
    expect(disk).toContain(SITE); // the probe sees the file's text at all
    expect(disk).not.toContain('PRIVATE KEY');
    const keyBody = certKeyPem.split('\n')[1] ?? 'missing';
    expect(disk).not.toContain(keyBody);
    const signingBody = (signing.privateKeyPem ?? '').split('\n')[1] ?? 'missing';
    expect(disk).not.toContain(signingBody);
    expect(disk).not.toContain(PROVIDER_KEY);
    expect(disk).toContain('enc:v1:');
  });

  it('rotate-key re-seals every secret; the old key no longer opens them, the new one does', async () => {
    const before = readFileSync(keyFile, 'utf8');
    const rotated = await call('POST', '/v1/secrets/rotate-key');
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secrets).toBe(3);
    expect(readFileSync(keyFile, 'utf8')).not.toBe(before);
    expect(existsSync(`${keyFile}.new`)).toBe(false);
    expect(await store.certificateKey(SITE)).toBe(certKeyPem);
    expect(onDisk()).not.toContain('PRIVATE KEY');

    const again = await openStore({ url: `sqlite:${dbFile}`, secrets: loadSecretBox(keyFile).box });
    expect(await again.certificateKey(SITE)).toBe(certKeyPem);
    await again.close();

    const oldFile = join(tmp, 'old.key');
    writeFileSync(oldFile, before, { mode: 0o600 });
    const stale = await openStore({ url: `sqlite:${dbFile}`, secrets: loadSecretBox(oldFile).box });
    await expect(stale.certificateKey(SITE)).rejects.toThrow(/sealed with key/);
    await stale.close();
  });
});
