// Security headers on every answer (issue 15, 5): the UI and the API. The UI is built by Vite
// into files of its own origin (no inline script or style, no eval), so a strict CSP holds;
// React's style props go through the CSSOM, which style-src does not govern. /docs (Swagger
// UI, a third-party page) gets everything but the script/style rules.
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const docs = /^\/docs(\/|$|\?)/.test(req.url);
    void reply.header(
      'content-security-policy',
      docs ? "frame-ancestors 'none'; object-src 'none'; base-uri 'none'" : CONTENT_SECURITY_POLICY,
    );
    void reply.header('x-frame-options', 'DENY');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    if (req.protocol === 'https')
      void reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}
