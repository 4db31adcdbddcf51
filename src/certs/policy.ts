// Which certificate each site needs, when it is due, how long to back off after a failure,
// and which certificates are alerts. Pure: the clock is an argument.
import { codeOf, type CodedMessage } from '../spec/messages.js';
import { selectorMatch } from '../spec/selectors.js';
import type { Site, Spec } from '../spec/index.js';
import type { CertificateRenewal, StoredCertificate } from '../store/types.js';
import { uncoveredNames } from './pem.js';

export type ChallengeType = 'http-01' | 'dns-01';

/** What a site needs: its names, and how Outpost would get it. */
export interface CertificateTarget {
  domain: string;
  /** Domain first, then aliases. */
  names: string[];
  /** False when the site opted out of ACME (uploads only) or the spec has no `acme` block. */
  acme: boolean;
  /** The challenge to use, or null with `problem` saying why none can be. */
  challenge: ChallengeType | null;
  problem: string | null;
  /** Edges (not paused) that serve the site: they receive its certificate. */
  edges: string[];
}

const DAY_MS = 86_400_000;
/** A certificate with this little life left is an alert (its renewal has not worked). */
export const ALERT_DAYS = 7;

export function edgesServing(spec: Spec, site: Site): string[] {
  return spec.edges
    .filter((e) => !e.paused && selectorMatch(site.edges, e) !== undefined)
    .map((e) => e.name);
}

export function certificateTargets(spec: Spec): CertificateTarget[] {
  return spec.sites.map((site) => {
    const names = [site.domain, ...site.aliases];
    const edges = edgesServing(spec, site);
    const wanted = site.tls?.challenge ?? 'auto';
    const wildcard = names.some((n) => n.startsWith('*.'));
    let challenge: ChallengeType | null;
    let problem: string | null = null;
    if (wanted === 'http-01' || (wanted === 'auto' && !wildcard && edges.length > 0)) {
      challenge = 'http-01';
      if (wildcard) problem = 'wildcard names need the dns-01 challenge';
      else if (edges.length === 0) problem = 'no edge serves the site to answer http-01';
    } else {
      challenge = 'dns-01';
      if (spec.dns === undefined)
        problem = wildcard
          ? 'wildcard names need dns-01, and the spec has no dns provider'
          : 'no edge serves the site and the spec has no dns provider for dns-01';
    }
    if (problem !== null) challenge = null;
    return {
      domain: site.domain,
      names,
      acme: spec.acme !== undefined && (site.tls?.acme ?? true),
      challenge,
      problem,
      edges,
    };
  });
}

/** When an ACME certificate should be renewed: two thirds into its lifetime. */
export function renewalTime(cert: Pick<StoredCertificate, 'not_before' | 'not_after'>): Date {
  const from = Date.parse(cert.not_before);
  const to = Date.parse(cert.not_after);
  return new Date(from + Math.floor(((to - from) * 2) / 3));
}

export type DueReason = 'missing' | 'names-changed' | 'renewal';

/** Why the site's certificate should be (re)issued now, or null when not. */
export function dueReason(
  target: CertificateTarget,
  cert: StoredCertificate | undefined,
  now: Date,
): DueReason | null {
  if (!target.acme) return null;
  if (cert === undefined) return 'missing';
  // An uploaded certificate is the operator's: it is replaced by an upload or `cert issue`.
  if (cert.source === 'upload') return null;
  if (uncoveredNames(cert.names, target.names).length > 0) return 'names-changed';
  return now >= renewalTime(cert) ? 'renewal' : null;
}

/** The next time Outpost will try, for `cert list`: the renewal time or the backoff. */
export function nextAttempt(
  target: CertificateTarget,
  cert: StoredCertificate | undefined,
  renewal: CertificateRenewal | undefined,
  now: Date,
): string | null {
  if (!target.acme || target.challenge === null) return null;
  if (cert?.source === 'upload') return null;
  const due = dueReason(target, cert, now) === null && cert ? renewalTime(cert) : now;
  const backoff = renewal?.next_attempt_at ? new Date(renewal.next_attempt_at) : undefined;
  return (backoff !== undefined && backoff > due ? backoff : due).toISOString();
}

export interface BackoffPolicy {
  /** Wait after the first failure; doubles with each failure in a row. */
  baseMs: number;
  maxMs: number;
  /** The CA's Retry-After is honoured up to this (a bogus header must not stop renewals). */
  retryAfterCapMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseMs: 60_000,
  maxMs: 6 * 3_600_000,
  retryAfterCapMs: 24 * 3_600_000,
};

/** Milliseconds to wait after the `failures`-th failure in a row. */
export function backoffDelay(
  failures: number,
  retryAfterSeconds: number | undefined,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  if (retryAfterSeconds === undefined) return exponential;
  return Math.max(exponential, Math.min(retryAfterSeconds * 1000, policy.retryAfterCapMs));
}

export interface CertificateAlert {
  domain: string;
  kind: 'expiring' | 'expired';
  not_after: string;
  days_left: number;
  last_error: string | null;
  message: string;
}

export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

/** Certificates of current sites within ALERT_DAYS of expiry (or past it). */
export function certificateAlerts(input: {
  spec: Spec;
  certificates: readonly StoredCertificate[];
  renewals: readonly CertificateRenewal[];
  now: Date;
}): CertificateAlert[] {
  const alerts: CertificateAlert[] = [];
  // By domain once, not a search per site (every GET /v1/status asks, issue 14).
  const certOf = new Map<string, StoredCertificate>();
  for (const c of input.certificates) if (!certOf.has(c.domain)) certOf.set(c.domain, c);
  const failing = new Map<string, string | null>();
  for (const r of input.renewals)
    if (r.failures > 0 && !failing.has(r.domain)) failing.set(r.domain, r.last_error);
  for (const site of input.spec.sites) {
    const cert = certOf.get(site.domain);
    if (cert === undefined) continue;
    const left = daysLeft(cert.not_after, input.now);
    if (Date.parse(cert.not_after) - input.now.getTime() > ALERT_DAYS * DAY_MS) continue;
    const lastError = failing.get(site.domain) ?? null;
    const expired = Date.parse(cert.not_after) <= input.now.getTime();
    const when = expired
      ? `expired on ${cert.not_after}`
      : `expires in ${left} day${left === 1 ? '' : 's'}`;
    const why =
      cert.source === 'upload'
        ? 'it was uploaded: upload a new one'
        : lastError !== null
          ? `renewal keeps failing: ${lastError}`
          : 'it has not been renewed';
    alerts.push({
      domain: site.domain,
      kind: expired ? 'expired' : 'expiring',
      not_after: cert.not_after,
      days_left: left,
      last_error: lastError,
      message: `certificate of ${site.domain} ${when}; ${why}`,
    });
  }
  return alerts;
}

/** One line of `outpost cert list` / GET /v1/certificates. Never a key. */
export interface CertificateRow {
  domain: string;
  /** The names the site needs. */
  names: string[];
  /** The names the stored certificate covers, or null without one. */
  certificate_names: string[] | null;
  source: 'acme' | 'upload' | null;
  issuer: string | null;
  serial: string | null;
  not_before: string | null;
  not_after: string | null;
  days_left: number | null;
  /** When Outpost will next try to issue or renew (null: it will not by itself). */
  next_renewal: string | null;
  failures: number;
  last_attempt_at: string | null;
  last_error: string | null;
  acme: boolean;
  challenge: ChallengeType | null;
  /** Why Outpost cannot get a certificate for this site by ACME, if it cannot. */
  problem: string | null;
  /** `problem`'s code (spec/messages.ts), for the UI's catalogues (issue 22). */
  problem_code?: CodedMessage | null;
  /** Edges that receive the certificate. */
  edges: string[];
}

export function certificateRows(input: {
  spec: Spec;
  certificates: readonly StoredCertificate[];
  renewals: readonly CertificateRenewal[];
  now: Date;
}): CertificateRow[] {
  return certificateTargets(input.spec).map((t) => {
    const cert = input.certificates.find((c) => c.domain === t.domain);
    const renewal = input.renewals.find((r) => r.domain === t.domain);
    return {
      domain: t.domain,
      names: t.names,
      certificate_names: cert?.names ?? null,
      source: cert?.source ?? null,
      issuer: cert?.issuer ?? null,
      serial: cert?.serial ?? null,
      not_before: cert?.not_before ?? null,
      not_after: cert?.not_after ?? null,
      days_left: cert ? daysLeft(cert.not_after, input.now) : null,
      next_renewal: nextAttempt(t, cert, renewal, input.now),
      failures: renewal?.failures ?? 0,
      last_attempt_at: renewal?.last_attempt_at ?? null,
      last_error: renewal?.last_error ?? null,
      acme: t.acme,
      challenge: t.challenge,
      problem: t.acme ? t.problem : null,
      problem_code: codeOf(t.acme ? t.problem : null),
      edges: t.edges,
    };
  });
}
