// The certificates API: list and show (never a key), upload (bring your own), issue now with
// live progress, remove; and the public HTTP-01 answers that edges proxy to the control plane.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../http/errors.js';
import { docs } from '../http/openapi.js';
import { parseBody } from '../http/parse-body.js';
import {
  AttemptAnswer,
  CertificateDeleted,
  CertificateDetail,
  CertificateList,
  CertificateUploaded,
} from '../spec/index.js';
import type { Store } from '../store/types.js';
import type { CertificateManager } from './manager.js';
import { certificateRows } from './policy.js';

/** A PEM chain (leaf first) and its unencrypted private key. */
export const CertificateUpload = z
  .object({
    certificate: z.string().min(1).max(65_536),
    key: z.string().min(1).max(16_384),
  })
  .strict();
export type CertificateUpload = z.infer<typeof CertificateUpload>;

export const certificateRoutes =
  (store: Store, manager: CertificateManager): FastifyPluginAsync =>
  async (app) => {
    const rows = async () => {
      const [{ spec }, certificates, renewals] = await Promise.all([
        store.readSharedState(),
        store.listCertificates(),
        store.listCertificateRenewals(),
      ]);
      return certificateRows({ spec, certificates, renewals, now: manager.now() });
    };

    app.get(
      '/v1/certificates',
      {
        schema: docs({
          tag: 'certificates',
          summary: 'Every site: certificate, expiry, next renewal, last error',
          answers: { 200: CertificateList },
        }),
      },
      async () => ({ certificates: await rows() }),
    );

    app.get<{ Params: { domain: string } }>(
      '/v1/certificates/:domain',
      {
        schema: docs({
          tag: 'certificates',
          summary: "A site's certificate and its public chain",
          answers: { 200: CertificateDetail },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const row = (await rows()).find((r) => r.domain === req.params.domain);
        if (row === undefined)
          throw new ApiError('not_found', `no site "${req.params.domain}"`, 'domain');
        const cert = await store.getCertificate(row.domain);
        return { certificate: { ...row, chain_pem: cert?.chain_pem ?? null } };
      },
    );

    app.put<{ Params: { domain: string } }>(
      '/v1/certificates/:domain',
      {
        schema: docs({
          tag: 'certificates',
          summary: 'Upload a certificate (PEM chain and key) for a site instead of ACME',
          body: CertificateUpload,
          answers: { 200: CertificateUploaded },
          errors: ['invalid_request', 'not_found'],
        }),
      },
      async (req) => {
        const body = parseBody(CertificateUpload, req.body);
        await manager.upload(req.params.domain, body);
        const row = (await rows()).find((r) => r.domain === req.params.domain);
        return { certificate: row };
      },
    );

    app.delete<{ Params: { domain: string }; Querystring: { force?: string } }>(
      '/v1/certificates/:domain',
      {
        schema: docs({
          tag: 'certificates',
          summary:
            "Remove a site's stored certificate (and its key); refused with 409 while the site sends HSTS unless `force=true`",
          query: z.object({
            force: z
              .enum(['true', 'false'])
              .optional()
              .describe('`true`: remove it even while the site sends HSTS'),
          }),
          answers: { 200: CertificateDeleted },
          errors: ['invalid_request', 'not_found', 'conflict'],
        }),
      },
      async (req) => {
        const domain = req.params.domain;
        const force = req.query.force;
        if (force !== undefined && force !== 'true' && force !== 'false')
          throw new ApiError('invalid_request', 'must be "true" or "false"', 'force');
        if (!(await manager.remove(domain, { force: force === 'true' })))
          throw new ApiError('not_found', `no certificate for "${domain}"`, 'domain');
        return { deleted: domain };
      },
    );

    app.post<{ Params: { domain: string } }>(
      '/v1/certificates/:domain/issue',
      {
        schema: docs({
          tag: 'certificates',
          summary: 'Issue (or renew) a certificate now; follow its attempt',
          answers: { 202: AttemptAnswer },
          errors: ['invalid_request', 'not_found'],
        }),
      },
      async (req, reply) => {
        const attempt = await manager.issueNow(req.params.domain);
        return reply.status(202).send({ attempt });
      },
    );

    app.get<{
      Params: { domain: string; id: string };
      Querystring: { after?: string; wait?: string };
    }>(
      '/v1/certificates/:domain/attempts/:id',
      {
        schema: docs({
          tag: 'certificates',
          summary: 'Progress of an attempt; waits up to `wait` seconds for events after `after`',
          query: z.object({
            after: z
              .string()
              .regex(/^[0-9]+$/)
              .optional()
              .describe('Wait for events with a seq above this (default 0)'),
            wait: z
              .string()
              .regex(/^[0-9]+$/)
              .optional()
              .describe('Seconds to wait for such an event (0 to 30, default 0)'),
          }),
          answers: { 200: AttemptAnswer },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const after = Number(req.query.after ?? 0) || 0;
        const wait = Math.min(30, Math.max(0, Number(req.query.wait ?? 0) || 0));
        const attempt = await manager.waitForAttempt(req.params.id, after, wait * 1000);
        if (attempt.domain !== req.params.domain)
          throw new ApiError('not_found', `no attempt "${req.params.id}"`, 'id');
        return { attempt };
      },
    );
  };

/**
 * Public (no auth): `/.well-known/acme-challenge/<token>`, which every edge proxies here for
 * its sites. A key authorization is public by design; nothing else is served.
 */
export const acmeChallengeRoutes =
  (store: Store, now: () => Date): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { token: string } }>(
      '/.well-known/acme-challenge/:token',
      {
        schema: docs({
          tag: 'certificates',
          summary: 'The key authorization of a pending HTTP-01 challenge (no auth; edges proxy it)',
          door: 'open',
          answers: {
            200: { media: 'text/plain', description: 'The key authorization' },
            404: { media: 'text/plain', description: 'no such challenge' },
          },
        }),
      },
      async (req, reply) => {
        const token = req.params.token;
        const found = /^[A-Za-z0-9_-]{1,256}$/.test(token)
          ? await store.getAcmeChallenge(token, now())
          : undefined;
        if (found === undefined)
          return reply.status(404).type('text/plain').send('no such challenge\n');
        return reply.type('text/plain').send(found.key_authorization);
      },
    );
  };
