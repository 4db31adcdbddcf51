// Reading and checking PEM certificates and keys with node:crypto: what a certificate covers,
// whether a key belongs to it, whether a chain links up. Error messages never quote a key.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { OutpostError } from '../http/errors.js';

/** A certificate or key that cannot be used: a bad request naming the field at fault. */
export class CertificateError extends OutpostError {
  constructor(
    message: string,
    /** The request field at fault: `certificate` or `key`. */
    readonly field: 'certificate' | 'key',
  ) {
    super('invalid_request', message, { path: field });
    this.name = 'CertificateError';
  }
}

/** What Outpost records about a certificate (all public). */
export interface CertificateSummary {
  /** DNS subject alternative names, in the certificate's order. */
  names: string[];
  /** The issuer's common name (or its whole distinguished name when it has none). */
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
}

/** A certificate issued a moment ago by a CA whose clock runs a little ahead is accepted. */
const CLOCK_SKEW_MS = 5 * 60_000;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM chain, leaf first. */
export function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0)
    throw new CertificateError('the certificate is not a PEM certificate chain', 'certificate');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new CertificateError(
        `certificate ${i + 1} of the chain cannot be parsed`,
        'certificate',
      );
    }
  });
}

/** The PEM text of a chain, normalised: one block per certificate, newline-terminated. */
export function chainPem(chain: readonly X509Certificate[]): string {
  return chain.map((c) => c.toString().trim()).join('\n') + '\n';
}

export function dnsNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .filter((part) => part.startsWith('DNS:'))
    .map((part) => part.slice(4).toLowerCase());
}

function issuerName(cert: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)?.[1];
  return cn ?? cert.issuer.replace(/\n/g, ', ');
}

export function summarize(cert: X509Certificate): CertificateSummary {
  return {
    names: dnsNames(cert),
    issuer: issuerName(cert),
    serial: cert.serialNumber,
    not_before: new Date(cert.validFrom).toISOString(),
    not_after: new Date(cert.validTo).toISOString(),
  };
}

/** Whether a certificate name covers `name` (a `*.` name covers exactly one more label). */
export function nameCovers(certName: string, name: string): boolean {
  const c = certName.toLowerCase();
  const n = name.toLowerCase();
  if (c === n) return true;
  if (!c.startsWith('*.') || n.startsWith('*.')) return false;
  const dot = n.indexOf('.');
  return dot > 0 && n.slice(dot + 1) === c.slice(2);
}

/** The names in `wanted` that no name of the certificate covers. */
export function uncoveredNames(certNames: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((w) => !certNames.some((c) => nameCovers(c, w)));
}

function parseKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // Never echo the input: it is a private key, or meant to be one.
    throw new CertificateError(
      'the key is not an unencrypted PEM private key (an encrypted key must be decrypted first)',
      'key',
    );
  }
}

export interface CheckedCertificate {
  summary: CertificateSummary;
  /** Normalised PEM chain. */
  chainPem: string;
  /** The key as unencrypted PKCS#8 PEM. */
  keyPem: string;
}

/**
 * Validates a certificate chain and key for a site: the chain parses and links up (each
 * certificate issued by the next), the key is the leaf's, the leaf covers every one of
 * `names`, and it is valid at `now`.
 */
export function checkCertificate(input: {
  chainPem: string;
  keyPem: string;
  names: readonly string[];
  now: Date;
}): CheckedCertificate {
  const chain = parseChain(input.chainPem);
  const leaf = chain[0] as X509Certificate;
  const key = parseKey(input.keyPem);
  if (key.asymmetricKeyType !== leaf.publicKey.asymmetricKeyType || !leaf.checkPrivateKey(key))
    throw new CertificateError('the key does not belong to the certificate', 'key');
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
      throw new CertificateError(
        `certificate ${i + 2} of the chain did not issue certificate ${i + 1}: give the leaf first, then its intermediates in order`,
        'certificate',
      );
  }
  const summary = summarize(leaf);
  const missing = uncoveredNames(summary.names, input.names);
  if (missing.length > 0)
    throw new CertificateError(
      `the certificate does not cover ${missing.join(', ')} (it covers ${summary.names.join(', ') || 'no DNS name'})`,
      'certificate',
    );
  if (Date.parse(summary.not_after) <= input.now.getTime())
    throw new CertificateError(`the certificate expired on ${summary.not_after}`, 'certificate');
  if (Date.parse(summary.not_before) > input.now.getTime() + CLOCK_SKEW_MS)
    throw new CertificateError(
      `the certificate is not valid before ${summary.not_before}`,
      'certificate',
    );
  return {
    summary,
    chainPem: chainPem(chain),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
