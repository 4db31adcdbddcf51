import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCa } from '../../test/support/tls.js';
import type { DnsProvider } from '../dns/index.js';
import { parseSpec, type SpecInput } from '../spec/index.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { AcmeError, type CertificateIssuer, type ChallengeTask } from './acme.js';
import { CertificateManager, type AttemptView } from './manager.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeTestCa(dir);
let serial = 0;

const origin = [{ host: { v4: '203.0.113.1' } }];
const SPEC: SpecInput = {
  edges: [{ name: 'a', host: { v4: '198.51.100.1' } }],
  acme: { email: 'ops@example.com' },
  sites: [{ domain: 'shop.test', aliases: ['www.shop.test'], origins: origin }],
};

/** An issuer that drives the solver like a CA would, then signs with the test CA. */
class FakeIssuer implements CertificateIssuer {
  calls = 0;
  failWith: Error | undefined;
  seenAnswers: (string | undefined)[] = [];
  constructor(private readonly store: Store) {}
  async issue(
    req: { domain: string; names: string[] },
    solver: Parameters<CertificateIssuer['issue']>[1],
    progress: Parameters<CertificateIssuer['issue']>[2],
  ) {
    this.calls++;
    progress('order', 'order created');
    const tasks: ChallengeTask[] = req.names.map((n, i) => ({
      domain: req.domain,
      identifier: n,
      wildcard: false,
      token: `tok${this.calls}x${i}`,
      answer: `tok${this.calls}x${i}.thumb`,
    }));
    for (const t of tasks) await solver.present(t);
    await solver.waitUntilVisible(tasks);
    if (solver.type === 'http-01')
      for (const t of tasks)
        this.seenAnswers.push(
          (await this.store.getAcmeChallenge(t.token, new Date(0)))?.key_authorization,
        );
    for (const t of tasks) await solver.cleanup(t);
    if (this.failWith) throw this.failWith;
    const issued = ca.issue(`leaf${++serial}`, req.names);
    return { chainPem: issued.cert + ca.caCert, keyPem: issued.key };
  }
}

describe('CertificateManager', () => {
  let store: Store;
  let issuer: FakeIssuer;
  let now: Date;
  let published = 0;
  let manager: CertificateManager;

  const make = (extra: Partial<ConstructorParameters<typeof CertificateManager>[0]> = {}) =>
    new CertificateManager({
      store,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      now: () => now,
      publish: async () => void published++,
      issuer: () => issuer,
      ...extra,
    });

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    await store.writeState(parseSpec(SPEC), {
      actor: 'test',
      action: 'x',
      subject: '',
      detail: {},
    });
    issuer = new FakeIssuer(store);
    now = new Date();
    published = 0;
    manager = make();
  });
  afterEach(async () => {
    await manager.stop();
    await store.close();
  });

  const finished = async (view: AttemptView) => {
    let v = view;
    while (!v.done) v = await manager.waitForAttempt(view.id, v.events.length, 5000);
    return v;
  };

  const attempts = async () =>
    (await store.listEvents()).filter((e) => e.action === 'certificate.attempt');

  it('issues a missing certificate over HTTP-01, stores it, publishes, logs the attempt', async () => {
    await manager.check();
    expect(issuer.calls).toBe(1);
    // The answers were in the store while the CA looked, and are gone afterwards.
    expect(issuer.seenAnswers).toEqual(['tok1x0.thumb', 'tok1x1.thumb']);
    expect(await store.getAcmeChallenge('tok1x0', new Date(0))).toBeUndefined();
    const cert = await store.getCertificate('shop.test');
    expect(cert).toMatchObject({ source: 'acme', names: ['shop.test', 'www.shop.test'] });
    expect(await store.certificateKey('shop.test')).toContain('PRIVATE KEY');
    expect(published).toBe(1);
    const [event] = await attempts();
    expect(event?.detail).toMatchObject({
      result: 'issued',
      trigger: 'missing',
      challenge: 'http-01',
    });
    expect(JSON.stringify(await store.listEvents())).not.toContain('PRIVATE KEY');

    // Not due again until two thirds of its life.
    await manager.check();
    expect(issuer.calls).toBe(1);
    const from = Date.parse(cert!.not_before);
    const life = Date.parse(cert!.not_after) - from;
    now = new Date(from + life * 0.66);
    await manager.check();
    expect(issuer.calls).toBe(1);
    now = new Date(from + life * 0.67);
    await manager.check();
    expect(issuer.calls).toBe(2);
    expect((await store.getCertificate('shop.test'))?.serial).not.toBe(cert!.serial);
    expect((await attempts())[0]?.detail).toMatchObject({ result: 'issued', trigger: 'renewal' });
  });

  it("backs off exponentially after failures and honours the CA's Retry-After, capped", async () => {
    issuer.failWith = new AcmeError(
      'too many certificates',
      429,
      'urn:ietf:params:acme:error:rateLimited',
      7200,
    );
    const t0 = now.getTime();
    await manager.check();
    let [renewal] = await store.listCertificateRenewals();
    expect(renewal).toMatchObject({ failures: 1, last_error: 'too many certificates' });
    expect(Date.parse(renewal!.next_attempt_at!)).toBe(t0 + 7_200_000);
    expect((await attempts())[0]?.detail).toMatchObject({
      result: 'failed',
      rate_limited: true,
      retry_after_seconds: 7200,
    });

    now = new Date(t0 + 7_199_000);
    await manager.check();
    expect(issuer.calls).toBe(1); // still backing off

    issuer.failWith = new Error('connection refused');
    now = new Date(t0 + 7_200_000);
    await manager.check();
    expect(issuer.calls).toBe(2);
    [renewal] = await store.listCertificateRenewals();
    expect(renewal?.failures).toBe(2);
    expect(Date.parse(renewal!.next_attempt_at!)).toBe(now.getTime() + 120_000); // 1 min × 2

    issuer.failWith = new AcmeError('slow down', 503, undefined, 90 * 86_400);
    now = new Date(now.getTime() + 120_000);
    await manager.check();
    [renewal] = await store.listCertificateRenewals();
    expect(Date.parse(renewal!.next_attempt_at!)).toBe(now.getTime() + 86_400_000); // capped

    // `cert issue` ignores the backoff; a success resets it.
    issuer.failWith = undefined;
    const done = await finished(await manager.issueNow('shop.test'));
    await manager.check(); // issued now: nothing due
    expect(issuer.calls).toBe(4);
    [renewal] = await store.listCertificateRenewals();
    expect(renewal).toMatchObject({ failures: 0, last_error: null, next_attempt_at: null });
    expect(done.events.map((e) => e.step)).toContain('order');
    expect((await attempts()).map((e) => e.detail.result)).toEqual([
      'issued',
      'failed',
      'failed',
      'failed',
    ]);
  });

  it('reports progress of a manual issue, ending with the edges that get it', async () => {
    const v = await finished(await manager.issueNow('shop.test'));
    expect(v.ok).toBe(true);
    expect(v.events.map((e) => e.step)).toEqual(['started', 'order', 'issued', 'published']);
  });

  it('refuses to issue without an acme block, for an opted-out site, or an unknown site', async () => {
    await store.writeState(
      parseSpec({
        ...SPEC,
        sites: [
          ...(SPEC.sites ?? []),
          { domain: 'byo.test', origins: origin, tls: { acme: false } },
        ],
      }),
      { actor: 'test', action: 'x', subject: '', detail: {} },
    );
    await expect(manager.issueNow('byo.test')).rejects.toThrow(/tls.acme: false/);
    await expect(manager.issueNow('nope.test')).rejects.toThrow(/no site "nope.test"/);
    await store.writeState(parseSpec({ ...SPEC, acme: undefined }), {
      actor: 'test',
      action: 'x',
      subject: '',
      detail: {},
    });
    await expect(manager.issueNow('shop.test')).rejects.toThrow(/no acme block/);
    await manager.check();
    expect(issuer.calls).toBe(0);
  });

  it('refuses to remove the certificate of a site that sends HSTS unless forced', async () => {
    const hsts = {
      ...SPEC,
      sites: [{ ...SPEC.sites![0]!, https: { hsts: { max_age: 31_536_000 } } }],
    } as SpecInput;
    await store.writeState(parseSpec(hsts), {
      actor: 'test',
      action: 'x',
      subject: '',
      detail: {},
    });
    const byo = ca.issue('hsts', ['shop.test', 'www.shop.test']);
    await manager.upload('shop.test', { certificate: byo.cert + ca.caCert, key: byo.key });
    const refused = manager.remove('shop.test');
    await expect(refused).rejects.toMatchObject({ code: 'conflict', status: 409, path: 'force' });
    await expect(refused).rejects.toThrow(
      /sends Strict-Transport-Security \(max-age 31536000 s\).*365 days.*--force/,
    );
    expect(await store.getCertificate('shop.test')).toBeDefined();
    expect(published).toBe(1); // nothing half-applied: the edges still have it
    // A set_header modifier sending HSTS counts too.
    const byHeader = {
      ...SPEC,
      sites: [
        {
          ...SPEC.sites![0]!,
          modifiers: [
            {
              match: {},
              action: {
                type: 'set_header',
                name: 'strict-transport-security',
                value: 'max-age=600',
              },
            },
          ],
        },
      ],
    } as SpecInput;
    await store.writeState(parseSpec(byHeader), {
      actor: 'test',
      action: 'x',
      subject: '',
      detail: {},
    });
    await expect(manager.remove('shop.test')).rejects.toThrow(/max-age 600 s/);
    expect(await manager.remove('shop.test', { force: true })).toBe(true);
    expect(await store.getCertificate('shop.test')).toBeUndefined();
    expect(published).toBe(2);
  });

  it('validates an upload: stored as "upload", never renewed by ACME', async () => {
    const byo = ca.issue('byo', ['shop.test', 'www.shop.test']);
    await manager.upload('shop.test', { certificate: byo.cert + ca.caCert, key: byo.key });
    expect(await store.getCertificate('shop.test')).toMatchObject({ source: 'upload' });
    expect(published).toBe(1);
    now = new Date(Date.now() + 40 * 3_600_000); // past two thirds of its 2 days
    await manager.check();
    expect(issuer.calls).toBe(0);
    expect(await manager.remove('shop.test')).toBe(true);
    expect(published).toBe(2); // the edges drop it
    expect(await store.certificateKey('shop.test')).toBeUndefined();
    expect(await manager.remove('shop.test')).toBe(false);
    const wrong = ca.issue('wrong', ['shop.test']);
    await expect(
      manager.upload('shop.test', { certificate: wrong.cert, key: wrong.key }),
    ).rejects.toThrow('the certificate does not cover www.shop.test (it covers shop.test)');
  });

  it('DNS-01 through the provider interface (an in-memory double; real PowerDNS in e2e)', async () => {
    const records = new Map<string, Set<string>>();
    const log: string[] = [];
    const provider = {
      kind: 'powerdns',
      setTxt: async (fqdn: string, value: string) => {
        log.push(`set ${fqdn}`);
        records.set(fqdn, new Set([...(records.get(fqdn) ?? []), value]));
      },
      removeTxt: async (fqdn: string, value: string) => {
        log.push(`remove ${fqdn}`);
        records.get(fqdn)?.delete(value);
      },
      authoritativeServers: async () => [],
    } as unknown as DnsProvider;
    await store.writeState(
      parseSpec({
        ...SPEC,
        dns: { provider: 'gcore', api_token: 'env:T' },
        sites: [{ domain: 'wild.test', aliases: ['*.wild.test'], origins: origin }],
      }),
      { actor: 'test', action: 'x', subject: '', detail: {} },
    );
    let seen: string[] = [];
    issuer.issue = async function (req, solver) {
      const tasks = req.names.map((n, i) => ({
        domain: req.domain,
        identifier: n.replace(/^\*\./, ''),
        wildcard: n.startsWith('*.'),
        token: `t${i}`,
        answer: `ka${i}`,
      }));
      for (const t of tasks) await solver.present(t);
      await solver.waitUntilVisible(tasks);
      seen = [...(records.get('_acme-challenge.wild.test') ?? [])];
      for (const t of tasks) await solver.cleanup(t);
      const issued = ca.issue('wild', req.names);
      return { chainPem: issued.cert, keyPem: issued.key };
    };
    manager = make({ dnsProvider: () => provider, dns01: { timeoutMs: 10 } });
    await manager.check();
    expect(seen.sort()).toEqual(['ka0', 'ka1']);
    expect(records.get('_acme-challenge.wild.test')?.size).toBe(0);
    expect(log).toEqual([
      'set _acme-challenge.wild.test',
      'set _acme-challenge.wild.test',
      'remove _acme-challenge.wild.test',
      'remove _acme-challenge.wild.test',
    ]);
    expect((await store.getCertificate('wild.test'))?.names).toEqual(['wild.test', '*.wild.test']);
  });
});
