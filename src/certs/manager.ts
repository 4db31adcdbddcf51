// The certificate worker of the control plane: checks every site's certificate on a timer
// (and after each change of desired state), issues or renews what is due, one order at a
// time, backs off exponentially after failures (honouring the CA's Retry-After up to a cap),
// records every attempt in the event log, and has the bundle builder publish the result.
// Uploaded (bring-your-own) certificates are stored through it too.
//
// The clock is injected: tests move it past two thirds of a certificate's life.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DnsProvider } from '../dns/index.js';
import type { AcmeSettings, DnsSettings, Spec } from '../spec/index.js';
import type { NewAuditEvent, Store } from '../store/types.js';
import {
  AcmeError,
  AcmeIssuer,
  type CertificateIssuer,
  type ChallengeSolver,
  type ProgressStep,
} from './acme.js';
import { Dns01Solver, Http01Solver, type Dns01Options } from './challenges.js';
import { checkCertificate } from './pem.js';
import { OcspStapler } from './stapler.js';
import { OutpostError } from '../http/errors.js';
import {
  backoffDelay,
  certificateTargets,
  DEFAULT_BACKOFF,
  dueReason,
  type BackoffPolicy,
  type CertificateTarget,
} from './policy.js';

export interface CertificateLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CertificateManagerOptions {
  store: Store;
  logger: CertificateLogger;
  secretVars?: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
  /** How often every certificate is checked (default 10 minutes). */
  checkIntervalMs?: number;
  backoff?: BackoffPolicy;
  /** Publishes bundles after a certificate changed (the bundle builder's rebuild). */
  publish: () => Promise<void>;
  /** Resolves when the edges serving a site run a release that serves it (HTTP-01). */
  edgesReady?: (domain: string) => Promise<void>;
  /** DNS-01: the provider for the spec's `dns` block; none: DNS-01 is unavailable. */
  dnsProvider?: (settings: DnsSettings) => DnsProvider;
  dns01?: Dns01Options;
  /** The issuer for the spec's `acme` block (default: acme-client against that CA). */
  issuer?: (settings: AcmeSettings) => CertificateIssuer;
  /** Fetches an OCSP answer for stapling (default: HTTP POST to the certificate's responder). */
  fetchOcsp?: (url: string, request: Buffer) => Promise<Buffer>;
  /** acme-client's polling of pending authorizations and orders. */
  poll?: { minMs: number; maxMs: number; attempts: number };
}

export type AttemptTrigger = 'missing' | 'names-changed' | 'renewal' | 'manual';

export interface AttemptEvent {
  seq: number;
  at: string;
  step: ProgressStep;
  message: string;
  /** With `published`: the release of each edge of the site that carries the certificate. */
  releases?: Record<string, number>;
}

export interface AttemptView {
  id: string;
  domain: string;
  trigger: AttemptTrigger;
  done: boolean;
  ok: boolean | null;
  events: AttemptEvent[];
}

export class CertificateRequestError extends OutpostError {
  constructor(
    override readonly code: 'not_found' | 'invalid_request' | 'conflict',
    message: string,
  ) {
    super(code, message, { path: 'domain' });
    this.name = 'CertificateRequestError';
  }
}

/** How many finished attempts are kept in memory for progress queries. */
const KEEP_ATTEMPTS = 50;

export class CertificateManager {
  readonly name = 'certificates';
  readonly now: () => Date;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly attempts = new Map<string, AttemptView>();
  /** Domain → id of its queued or running attempt. */
  private readonly pending = new Map<string, string>();
  private readonly changes = new EventEmitter();

  private readonly stapler: OcspStapler;

  constructor(private readonly opts: CertificateManagerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.stapler = new OcspStapler({
      store: opts.store,
      logger: opts.logger,
      now: () => this.now(),
      ...(opts.fetchOcsp !== undefined ? { fetch: opts.fetchOcsp } : {}),
    });
    this.changes.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs ?? 600_000);
    this.timer.unref();
    this.scheduleCheck();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.changes.emit('change');
    // An order in flight is left to finish, but a shutdown does not wait on a slow CA for long.
    await Promise.race([this.chain, new Promise((r) => setTimeout(r, 10_000).unref())]);
  }

  onDesiredStateChange(): void {
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    if (this.stopped) return;
    clearTimeout(this.soon);
    this.soon = setTimeout(() => void this.check(), 100);
    this.soon.unref();
  }

  /** Checks every site now and runs what is due; resolves when those attempts finished. */
  check(): Promise<void> {
    return this.enqueue(async () => {
      await this.renewDue();
      await this.refreshStaples();
    });
  }

  /** OCSP responses for stapling (certs/stapler.ts); publishes when one changed. */
  private async refreshStaples(): Promise<void> {
    if (this.stopped) return;
    if (await this.stapler.refresh()) await this.opts.publish();
  }

  /** Issues or renews what is due (ACME). */
  private async renewDue(): Promise<void> {
    const { spec } = await this.opts.store.readSharedState();
    if (spec.acme === undefined) return;
    const certificates = await this.opts.store.listCertificates();
    const renewals = await this.opts.store.listCertificateRenewals();
    for (const target of certificateTargets(spec)) {
      if (this.stopped) return;
      if (target.challenge === null || this.pending.has(target.domain)) continue;
      const cert = certificates.find((c) => c.domain === target.domain);
      const reason = dueReason(target, cert, this.now());
      if (reason === null) continue;
      const next = renewals.find((r) => r.domain === target.domain)?.next_attempt_at;
      if (next && Date.parse(next) > this.now().getTime()) continue;
      await this.attempt(spec.acme, spec.dns, target, reason, this.newAttempt(target, reason));
    }
  }

  /**
   * Queues an issuance for `domain` now, whatever its schedule or backoff; returns the attempt
   * to follow with `waitForAttempt()`. An attempt already queued is returned.
   */
  async issueNow(domain: string): Promise<AttemptView> {
    const { spec } = await this.opts.store.readSharedState();
    const target = certificateTargets(spec).find((t) => t.domain === domain);
    if (target === undefined) throw new CertificateRequestError('not_found', `no site "${domain}"`);
    if (spec.acme === undefined)
      throw new CertificateRequestError(
        'invalid_request',
        'the spec has no acme block: add one (email, directory_url) to issue certificates',
      );
    if (!target.acme)
      throw new CertificateRequestError(
        'invalid_request',
        `site "${domain}" has tls.acme: false; upload its certificate instead`,
      );
    if (target.challenge === null)
      throw new CertificateRequestError(
        'invalid_request',
        `cannot issue for "${domain}": ${target.problem ?? 'no challenge available'}`,
      );
    const queued = this.pending.get(domain);
    if (queued !== undefined) {
      const view = this.attempts.get(queued);
      if (view) return view;
    }
    const view = this.newAttempt(target, 'manual');
    const acme = spec.acme;
    const dns = spec.dns;
    void this.enqueue(async () => {
      await this.attempt(acme, dns, target, 'manual', view);
      await this.refreshStaples();
    });
    return view;
  }

  attemptView(id: string): AttemptView | undefined {
    return this.attempts.get(id);
  }

  /** The attempt once it has events after `after` (or is done), or as it is after `timeoutMs`. */
  async waitForAttempt(id: string, after: number, timeoutMs: number): Promise<AttemptView> {
    const ready = () => {
      const a = this.attempts.get(id);
      return a === undefined || a.done || a.events.some((e) => e.seq > after);
    };
    if (!ready() && timeoutMs > 0 && !this.stopped) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.changes.off('change', onChange);
          resolve();
        };
        const onChange = () => {
          if (ready() || this.stopped) done();
        };
        const timer = setTimeout(done, timeoutMs);
        this.changes.on('change', onChange);
      });
    }
    const a = this.attempts.get(id);
    if (a === undefined) throw new CertificateRequestError('not_found', `no attempt "${id}"`);
    return a;
  }

  /** Validates and stores an uploaded certificate for a site, then publishes it. */
  async upload(
    domain: string,
    input: { certificate: string; key: string },
    actor = 'admin',
  ): Promise<void> {
    const { spec } = await this.opts.store.readSharedState();
    const site = spec.sites.find((s) => s.domain === domain);
    if (site === undefined) throw new CertificateRequestError('not_found', `no site "${domain}"`);
    const checked = checkCertificate({
      chainPem: input.certificate,
      keyPem: input.key,
      names: [site.domain, ...site.aliases],
      now: this.now(),
    });
    await this.opts.store.saveCertificate(
      {
        domain,
        source: 'upload',
        ...checked.summary,
        chain_pem: checked.chainPem,
        key_pem: checked.keyPem,
      },
      {
        actor,
        action: 'certificate.upload',
        subject: domain,
        detail: {
          issuer: checked.summary.issuer,
          serial: checked.summary.serial,
          not_after: checked.summary.not_after,
        },
      },
    );
    await this.opts.store.saveCertificateRenewal({
      domain,
      failures: 0,
      last_attempt_at: null,
      last_error: null,
      next_attempt_at: null,
    });
    this.opts.logger.info(
      { domain, serial: checked.summary.serial, not_after: checked.summary.not_after },
      'certificate uploaded',
    );
    await this.opts.publish();
    this.scheduleCheck(); // its OCSP response, for stapling
  }

  /**
   * Forgets a site's certificate and key, and publishes: its edges serve it over HTTP only
   * until ACME (if enabled for the site) issues a new one. False when there was none. Refused (409, path `force`) while the site
   * sends HSTS, unless `force`: without the certificate its edges serve no HTTPS, and every
   * browser that saw the header refuses plain HTTP to the site until its max-age runs out.
   */
  async remove(domain: string, opts: { actor?: string; force?: boolean } = {}): Promise<boolean> {
    const actor = opts.actor ?? 'admin';
    if (opts.force !== true && (await this.opts.store.getCertificate(domain)) !== undefined) {
      const maxAge = hstsMaxAge((await this.opts.store.readSharedState()).spec, domain);
      if (maxAge !== undefined)
        throw new OutpostError(
          'conflict',
          `site "${domain}" sends Strict-Transport-Security (max-age ${maxAge} s): without its certificate every edge stops serving HTTPS for it, and every browser that saw the header refuses plain HTTP to it for up to ${maxAge} s (${Math.round(maxAge / 86_400)} days). Upload or issue a new certificate instead, or remove it anyway with force (outpost cert rm --force).`,
          { path: 'force' },
        );
    }
    const removed = await this.opts.store.deleteCertificate(domain, {
      actor,
      action: 'certificate.delete',
      subject: domain,
      detail: {},
    });
    if (!removed) return false;
    this.opts.logger.info({ domain }, 'certificate removed');
    await this.opts.publish();
    this.scheduleCheck();
    return true;
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch((err: unknown) =>
      this.opts.logger.error({ err }, 'certificate check failed'),
    );
    return run;
  }

  private newAttempt(target: CertificateTarget, trigger: AttemptTrigger): AttemptView {
    const view: AttemptView = {
      id: randomBytes(8).toString('hex'),
      domain: target.domain,
      trigger,
      done: false,
      ok: null,
      events: [],
    };
    this.attempts.set(view.id, view);
    this.pending.set(target.domain, view.id);
    for (const [id, a] of this.attempts) {
      if (this.attempts.size <= KEEP_ATTEMPTS) break;
      if (a.done) this.attempts.delete(id);
    }
    return view;
  }

  private record(view: AttemptView, step: ProgressStep, message: string, extra = {}): void {
    view.events.push({
      seq: view.events.length + 1,
      at: this.now().toISOString(),
      step,
      message,
      ...extra,
    });
    this.changes.emit('change');
  }

  private solver(dns: DnsSettings | undefined, target: CertificateTarget): ChallengeSolver {
    if (target.challenge === 'http-01')
      return new Http01Solver(this.opts.store, this.now, this.opts.edgesReady);
    if (dns === undefined || this.opts.dnsProvider === undefined)
      throw new AcmeError(
        'dns-01 needs a DNS provider, and none is configured',
        undefined,
        undefined,
        undefined,
      );
    return new Dns01Solver(this.opts.dnsProvider(dns), this.opts.dns01);
  }

  private issuer(settings: AcmeSettings): CertificateIssuer {
    if (this.opts.issuer) return this.opts.issuer(settings);
    return new AcmeIssuer({
      store: this.opts.store,
      settings,
      secretVars: this.opts.secretVars ?? {},
      ...(this.opts.poll ? { poll: this.opts.poll } : {}),
    });
  }

  private async attempt(
    acme: AcmeSettings,
    dns: DnsSettings | undefined,
    target: CertificateTarget,
    trigger: AttemptTrigger,
    view: AttemptView,
  ): Promise<void> {
    const { store, logger } = this.opts;
    const startedAt = this.now().toISOString();
    const challenge = target.challenge ?? 'http-01';
    this.record(view, 'started', `${trigger}: ${challenge} for ${target.names.join(', ')}`);
    const event = (detail: Record<string, unknown>): NewAuditEvent => ({
      actor: 'system',
      action: 'certificate.attempt',
      subject: target.domain,
      detail: { trigger, challenge, names: target.names, ...detail },
    });
    try {
      const issued = await this.issuer(acme).issue(
        { domain: target.domain, names: target.names },
        this.solver(dns, target),
        (step, message) => this.record(view, step, message),
      );
      const checked = checkCertificate({
        chainPem: issued.chainPem,
        keyPem: issued.keyPem,
        names: target.names,
        now: new Date(), // the CA's clock, not the test clock, dates what it issues
      });
      const s = checked.summary;
      await store.saveCertificate(
        {
          domain: target.domain,
          source: 'acme',
          ...s,
          chain_pem: checked.chainPem,
          key_pem: checked.keyPem,
        },
        event({ result: 'issued', issuer: s.issuer, serial: s.serial, not_after: s.not_after }),
      );
      await store.saveCertificateRenewal({
        domain: target.domain,
        failures: 0,
        last_attempt_at: startedAt,
        last_error: null,
        next_attempt_at: null,
      });
      logger.info(
        { domain: target.domain, serial: s.serial, not_after: s.not_after, trigger },
        'certificate issued',
      );
      this.record(view, 'issued', `issued by ${s.issuer}, valid until ${s.not_after}`);
      await this.opts.publish();
      const releases: Record<string, number> = {};
      const bundles = await store.latestBundles();
      for (const edge of target.edges) {
        const b = bundles.find((x) => x.edge === edge);
        if (b) releases[edge] = b.release;
      }
      this.record(
        view,
        'published',
        `published to ${Object.keys(releases).length} edge${Object.keys(releases).length === 1 ? '' : 's'}`,
        { releases },
      );
      view.ok = true;
    } catch (err) {
      const renewals = await store.listCertificateRenewals();
      const failures = (renewals.find((r) => r.domain === target.domain)?.failures ?? 0) + 1;
      const acmeErr = err instanceof AcmeError ? err : undefined;
      const message = err instanceof Error ? err.message : String(err);
      const delay = backoffDelay(
        failures,
        acmeErr?.retryAfterSeconds,
        this.opts.backoff ?? DEFAULT_BACKOFF,
      );
      const next = new Date(this.now().getTime() + delay).toISOString();
      await store.saveCertificateRenewal({
        domain: target.domain,
        failures,
        last_attempt_at: startedAt,
        last_error: message,
        next_attempt_at: next,
      });
      await store.appendEvent(
        event({
          result: 'failed',
          error: message,
          failures,
          next_attempt_at: next,
          ...(acmeErr?.rateLimited ? { rate_limited: true } : {}),
          ...(acmeErr?.retryAfterSeconds !== undefined
            ? { retry_after_seconds: acmeErr.retryAfterSeconds }
            : {}),
        }),
      );
      logger.warn(
        { domain: target.domain, trigger, failures, next_attempt_at: next, error: message },
        'certificate attempt failed',
      );
      this.record(view, 'failed', `${message} (attempt ${failures}; next try at ${next})`);
      view.ok = false;
    } finally {
      view.done = true;
      this.pending.delete(target.domain);
      this.changes.emit('change');
    }
  }
}

/**
 * The HSTS max-age (seconds) a site's HTTPS answers carry: its `https.hsts`, or a set_header
 * modifier that sets Strict-Transport-Security; undefined when it sends none (or is unknown).
 */
export function hstsMaxAge(spec: Spec, domain: string): number | undefined {
  const site = spec.sites.find((s) => s.domain === domain);
  if (site === undefined) return undefined;
  if (site.https.hsts !== false) return site.https.hsts.max_age;
  for (const m of site.modifiers) {
    const a = m.action;
    if (a.type !== 'set_header' || a.name.toLowerCase() !== 'strict-transport-security') continue;
    const age = /max-age\s*=\s*"?(\d+)/i.exec(a.value)?.[1];
    if (age !== undefined && Number(age) > 0) return Number(age);
  }
  return undefined;
}
