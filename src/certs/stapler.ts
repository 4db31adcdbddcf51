// Keeps an OCSP response for every stored certificate whose issuer names a responder, so nginx
// edges staple it from a file (the edge never reaches the responder). Run by the certificate
// worker on each of its checks: a response is fetched when missing, when the certificate
// changed, and halfway to its nextUpdate; one that can no longer be used (expired, or the
// certificate is revoked) is dropped. Any change publishes new bundles.
import { ocspSettingKey, parseOcspStaple, type StoredOcspStaple } from '../spec/index.js';
import type { Store } from '../store/types.js';
import {
  checkOcspResponse,
  fetchOcsp,
  leafAndIssuer,
  ocspRefreshAt,
  ocspRequest,
  ocspUrl,
} from './ocsp.js';

export interface StaplerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StaplerOptions {
  store: Pick<Store, 'listCertificates' | 'getSetting' | 'setSetting'>;
  logger: StaplerLogger;
  now: () => Date;
  /** Fetches the DER answer (default: HTTP POST to the responder). */
  fetch?: (url: string, request: Buffer) => Promise<Buffer>;
}

/** Why a domain has no usable staple now, by domain (the last failure, logged once). */
export class OcspStapler {
  private readonly failures = new Map<string, string>();

  constructor(private readonly opts: StaplerOptions) {}

  /** Refreshes what is due; true when a stored staple changed (bundles must be rebuilt). */
  async refresh(): Promise<boolean> {
    let changed = false;
    const now = this.opts.now();
    for (const cert of await this.opts.store.listCertificates()) {
      const key = ocspSettingKey(cert.domain);
      const stored = parseOcspStaple(await this.opts.store.getSetting(key));
      const pair = leafAndIssuer(cert.chain_pem);
      const url = pair === undefined ? undefined : ocspUrl(pair.leaf);
      const current = stored !== undefined && stored.serial === cert.serial.toUpperCase();
      if (pair === undefined || url === undefined) {
        // Nothing to staple (no issuer in the chain, or no OCSP URL: Let's Encrypt since 2025).
        if (stored !== undefined) changed = (await this.drop(key)) || changed;
        continue;
      }
      if (current && Date.parse(stored.refresh_at) > now.getTime()) continue;
      try {
        const der = await (this.opts.fetch ?? fetchOcsp)(url, ocspRequest(pair.leaf, pair.issuer));
        const staple = checkOcspResponse(der, pair.leaf, pair.issuer, now);
        const value: StoredOcspStaple = {
          der: der.toString('base64'),
          serial: staple.serial,
          this_update: staple.thisUpdate.toISOString(),
          next_update: staple.nextUpdate?.toISOString() ?? null,
          refresh_at: ocspRefreshAt(staple).toISOString(),
        };
        await this.opts.store.setSetting(key, JSON.stringify(value));
        this.failures.delete(cert.domain);
        this.opts.logger.info(
          { domain: cert.domain, next_update: value.next_update },
          'OCSP response stored for stapling',
        );
        changed = true;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (this.failures.get(cert.domain) !== reason)
          this.opts.logger.warn({ domain: cert.domain, url, reason }, 'OCSP response not fetched');
        this.failures.set(cert.domain, reason);
        // Keep a staple that is still current; never serve an expired or foreign one.
        const usable =
          current &&
          (stored.next_update === null || Date.parse(stored.next_update) > now.getTime()) &&
          !/revoked/.test(reason);
        if (stored !== undefined && !usable) changed = (await this.drop(key)) || changed;
      }
    }
    return changed;
  }

  private async drop(key: string): Promise<boolean> {
    await this.opts.store.setSetting(key, '');
    return true;
  }
}
