// TLS of an nginx edge's HTTPS servers: Mozilla's "intermediate" profile, and OCSP stapling
// from a response the control plane fetched (the edge needs no outbound access at run time).
// Pure: data in, text out. What each line does and how it was measured: docs/proxies.md.
import type { Conf } from './nginx-conf.js';

/**
 * Mozilla's Server Side TLS recommendations, "intermediate" configuration, as the SSL
 * Configuration Generator (ssl-config.mozilla.org, guidelines 6.0) renders it for nginx.
 * TLS 1.2 and 1.3 (`ssl_protocols` is in the main nginx.conf, proxy-check/nginx-main.ts);
 * TLS 1.3 suites are OpenSSL's defaults, which are the profile's three.
 */
export const MOZILLA_INTERMEDIATE = {
  name: 'Mozilla intermediate (guidelines 6.0)',
  /** TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only. */
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ],
  curves: ['X25519', 'prime256v1', 'secp384r1'],
  /** The client picks among the suites (all of them are strong). */
  preferServerCiphers: false,
  /**
   * Off: nginx never rotates its ticket key (it lives until a restart), which would break the
   * forward secrecy of every session; resumption goes through the shared session cache.
   */
  sessionTickets: false,
} as const;

/** The http-level TLS lines of edge.conf (they apply to every HTTPS server of the edge). */
export function renderEdgeTls(c: Conf): void {
  const p = MOZILLA_INTERMEDIATE;
  c.line(`# TLS: ${p.name}; docs/proxies.md.`);
  c.line(`ssl_ciphers ${p.ciphers.join(':')};`);
  c.line(`ssl_ecdh_curve ${p.curves.join(':')};`);
  c.line(`ssl_prefer_server_ciphers ${p.preferServerCiphers ? 'on' : 'off'};`);
  c.line(`ssl_session_tickets ${p.sessionTickets ? 'on' : 'off'};`);
}
