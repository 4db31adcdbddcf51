// ACME issuance on acme-client: one account per control plane (its key in the store), one
// order per site certificate, challenges through a ChallengeSolver, an ECDSA P-256 key per
// certificate.
//
// acme-client's settings are process-global, and by default it sleeps whatever Retry-After
// says, with no upper bound, inside a call. Outpost turns its own retries off (badNonce
// retries stay: they are immediate) and schedules retries itself with backoff and a capped
// Retry-After. Each call runs in an AsyncLocalStorage context, so the TLS trust for the
// directory (`acme.ca_file`) and what the CA's last error response said (status, problem
// type, Retry-After) belong to that call, not to the process.
import { AsyncLocalStorage } from 'node:async_hooks';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeSettings } from '../spec/index.js';
import { resolveSecret } from '../spec/index.js';
import type { Store } from '../store/types.js';
import type { ChallengeType } from './policy.js';

/** One step of an issuance, as shown live by `outpost cert issue`. */
export type ProgressStep =
  'started' | 'order' | 'challenge' | 'validated' | 'issued' | 'published' | 'failed';

export type Progress = (step: ProgressStep, message: string) => void;

/** One name's challenge, handed to a solver. */
export interface ChallengeTask {
  /** The site the certificate is for. */
  domain: string;
  /** The name being validated (without `*.` for a wildcard). */
  identifier: string;
  wildcard: boolean;
  token: string;
  /**
   * What must be published: the key authorization for http-01, its digest (the TXT value,
   * base64url of SHA-256) for dns-01, as acme-client computes them.
   */
  answer: string;
}

/** Publishes challenge answers where the CA looks, and removes them afterwards. */
export interface ChallengeSolver {
  readonly type: ChallengeType;
  present(task: ChallengeTask): Promise<void>;
  /** Resolves once every presented answer can be seen where the CA will look. */
  waitUntilVisible(tasks: readonly ChallengeTask[]): Promise<void>;
  cleanup(task: ChallengeTask): Promise<void>;
}

export interface IssueRequest {
  domain: string;
  names: string[];
}

export interface IssuedCertificate {
  chainPem: string;
  keyPem: string;
}

/** What issues certificates: acme-client against a real CA, or a test double. */
export interface CertificateIssuer {
  issue(req: IssueRequest, solver: ChallengeSolver, progress: Progress): Promise<IssuedCertificate>;
}

/** An ACME failure, classified from what the CA answered (acme-client keeps only text). */
export class AcmeError extends Error {
  readonly code = 'acme_failed';
  constructor(
    message: string,
    /** HTTP status of the CA's last error response, if any. */
    readonly status: number | undefined,
    /** The problem type, e.g. urn:ietf:params:acme:error:rateLimited. */
    readonly problemType: string | undefined,
    /** Seconds the CA asked us to wait (Retry-After), if it did. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
    this.name = 'AcmeError';
  }

  get rateLimited(): boolean {
    return this.status === 429 || this.problemType === 'urn:ietf:params:acme:error:rateLimited';
  }
}

interface CallContext {
  agent: Agent | undefined;
  lastError?: { status: number; type?: string; retryAfter?: number };
}

const calls = new AsyncLocalStorage<CallContext>();
let installed = false;

/** Once per process: our interceptors on acme-client's axios instance, its retries off. */
function installInterceptors(): void {
  if (installed) return;
  installed = true;
  const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } })
    .acmeSettings;
  if (settings) settings.retryMaxAttempts = 0;
  acme.axios.interceptors.request.use((config) => {
    const ctx = calls.getStore();
    if (ctx?.agent !== undefined) config.httpsAgent = ctx.agent;
    return config;
  });
  acme.axios.interceptors.response.use((response) => {
    const ctx = calls.getStore();
    if (ctx !== undefined && response.status < 400) ctx.lastError = undefined;
    if (ctx !== undefined && response.status >= 400) {
      const data = response.data as { type?: unknown } | undefined;
      const retryAfter = parseRetryAfter(response.headers['retry-after'], new Date());
      ctx.lastError = {
        status: response.status,
        ...(typeof data?.type === 'string' ? { type: data.type } : {}),
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      };
    }
    return response;
  });
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), if it says anything. */
export function parseRetryAfter(value: unknown, now: Date): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** A fresh ECDSA P-256 private key, PKCS#8 PEM. */
export function newCertificateKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

const ACCOUNT_SETTING = 'acme.account';

interface StoredAccount {
  directory_url: string;
  email: string;
  key_pem: string;
  account_url: string;
}

export interface AcmeIssuerOptions {
  store: Store;
  settings: AcmeSettings;
  secretVars: Readonly<Record<string, string | undefined>>;
  /** Polling of pending authorizations and orders (acme-client's backoff), in ms. */
  poll?: { minMs: number; maxMs: number; attempts: number };
}

/** Issues certificates from the CA in the spec's `acme` block with acme-client. */
export class AcmeIssuer implements CertificateIssuer {
  private readonly agent: Agent | undefined;

  constructor(private readonly opts: AcmeIssuerOptions) {
    installInterceptors();
    const caFile = opts.settings.ca_file;
    this.agent =
      caFile === undefined
        ? undefined
        : new Agent({ ca: [...rootCertificates, readCaFile(caFile)], keepAlive: false });
  }

  async issue(
    req: IssueRequest,
    solver: ChallengeSolver,
    progress: Progress,
  ): Promise<IssuedCertificate> {
    const ctx: CallContext = { agent: this.agent };
    return calls.run(ctx, async () => {
      try {
        return await this.issueInContext(req, solver, progress);
      } catch (err) {
        if (err instanceof AcmeError || ctx.lastError !== undefined) throw classify(err, ctx);
        // With its retries off, acme-client turns a network error into a TypeError of its own
        // (its interceptor reads the missing response): ask the directory what is wrong.
        const unreachable = await probe(this.opts.settings.directory_url, this.agent);
        throw unreachable === undefined
          ? classify(err, ctx)
          : new AcmeError(
              `cannot reach the CA at ${this.opts.settings.directory_url}: ${unreachable}`,
              undefined,
              undefined,
              undefined,
            );
      }
    });
  }

  private async issueInContext(
    req: IssueRequest,
    solver: ChallengeSolver,
    progress: Progress,
  ): Promise<IssuedCertificate> {
    const client = await this.client();
    let order = await client.createOrder({
      identifiers: req.names.map((value) => ({ type: 'dns', value })),
    });
    progress('order', `order created at the CA for ${req.names.join(', ')}`);
    const authorizations = await client.getAuthorizations(order);
    const tasks: { task: ChallengeTask; authz: acme.Authorization; challenge: Challenge }[] = [];
    try {
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((c) => c.type === solver.type);
        if (challenge === undefined)
          throw new AcmeError(
            `the CA offers no ${solver.type} challenge for ${authz.identifier.value}`,
            undefined,
            undefined,
            undefined,
          );
        const task: ChallengeTask = {
          domain: req.domain,
          identifier: authz.identifier.value,
          wildcard: authz.wildcard === true,
          token: challenge.token,
          answer: await client.getChallengeKeyAuthorization(challenge),
        };
        await solver.present(task);
        tasks.push({ task, authz, challenge });
      }
      await solver.waitUntilVisible(tasks.map((t) => t.task));
      progress(
        'challenge',
        `${solver.type} challenge published for ${tasks.length} name${tasks.length === 1 ? '' : 's'}`,
      );
      for (const t of tasks) await client.completeChallenge(t.challenge);
      for (const t of tasks) {
        try {
          await client.waitForValidStatus(t.authz);
        } catch (err) {
          throw new Error(
            `validation of ${t.task.identifier} failed: ${challengeError(err, solver.type)}`,
            { cause: err },
          );
        }
      }
      progress('validated', `the CA validated ${req.names.join(', ')}`);
    } finally {
      for (const t of tasks) await solver.cleanup(t.task).catch(() => undefined);
    }
    const keyPem = newCertificateKey();
    const [, csr] = await acme.crypto.createCsr(
      { commonName: req.names[0] ?? req.domain, altNames: req.names },
      keyPem,
    );
    order = await client.finalizeOrder(order, csr);
    const chainPem = await client.getCertificate(order);
    return { chainPem, keyPem };
  }

  /** The control plane's account at this directory: stored, or created (with EAB) once. */
  private async client(): Promise<acme.Client> {
    const { settings, store } = this.opts;
    const poll = this.opts.poll ?? { minMs: 1000, maxMs: 10_000, attempts: 30 };
    const base = {
      directoryUrl: settings.directory_url,
      backoffMin: poll.minMs,
      backoffMax: poll.maxMs,
      backoffAttempts: poll.attempts,
    };
    const raw = await store.getSetting(ACCOUNT_SETTING);
    const stored = raw === undefined ? undefined : (JSON.parse(raw) as StoredAccount);
    if (
      stored !== undefined &&
      stored.directory_url === settings.directory_url &&
      stored.email === settings.email
    ) {
      return new acme.Client({
        ...base,
        accountKey: stored.key_pem,
        accountUrl: stored.account_url,
      });
    }
    const accountKey =
      stored?.directory_url === settings.directory_url ? stored.key_pem : newCertificateKey();
    const eab = settings.eab;
    const client = new acme.Client({
      ...base,
      accountKey,
      ...(eab
        ? {
            externalAccountBinding: {
              kid: eab.kid,
              hmacKey: resolveSecret(eab.hmac_key, this.opts.secretVars),
            },
          }
        : {}),
    });
    // With a known key, newAccount returns the existing account; the contact is then updated.
    await client.createAccount({
      termsOfServiceAgreed: true,
      contact: [`mailto:${settings.email}`],
    });
    if (stored?.directory_url === settings.directory_url)
      await client.updateAccount({ contact: [`mailto:${settings.email}`] });
    const account: StoredAccount = {
      directory_url: settings.directory_url,
      email: settings.email,
      key_pem: accountKey,
      account_url: client.getAccountUrl(),
    };
    await store.setSetting(ACCOUNT_SETTING, JSON.stringify(account));
    return client;
  }
}

type Challenge = acme.Authorization['challenges'][number];

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AcmeError(
      `cannot read acme.ca_file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      undefined,
      undefined,
      undefined,
    );
  }
}

/** acme-client reports an invalid authorization as its JSON: pull out the challenge's error. */
function challengeError(err: unknown, type: string): string {
  const text = err instanceof Error ? err.message : String(err);
  try {
    const authz = JSON.parse(text) as {
      challenges?: { type?: string; error?: { detail?: string } }[];
    };
    const detail = authz.challenges?.find((c) => c.type === type)?.error?.detail;
    if (detail !== undefined) return detail;
  } catch {
    // Not JSON: the message is the CA's own text.
  }
  return text;
}

function classify(err: unknown, ctx: CallContext): AcmeError {
  if (err instanceof AcmeError) return err;
  const last = ctx.lastError;
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return new AcmeError(message, last?.status, last?.type, last?.retryAfter);
}

/** Why the directory cannot be fetched (a network error code), or undefined when it can. */
function probe(url: string, agent: Agent | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = get(url, { timeout: 5000, ...(agent ? { agent } : {}) }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}
