// The edge API: an agent, with its own token, learns the signing key, pulls (long-polls) its
// bundle and reports its state. An edge only ever sees its own bundle.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BundleManifest, expandManifest, SignedBundle, SignedPurgeJob } from '../bundle/index.js';
import { docs } from '../http/openapi.js';
import {
  EDGE_NAME_HEADER,
  EdgeHello,
  EdgeLogAnswer,
  EdgeReport,
  LogRequest,
  MAX_LOG_ANSWER_BYTES,
  PurgeResult,
} from '../spec/index.js';
import type { PurgeService } from '../purge/service.js';
import type { Store } from '../store/types.js';
import { ApiError, toErrorBody } from '../http/errors.js';
import { bearerToken, hashToken } from '../http/tokens.js';
import { parseBody } from '../http/parse-body.js';
import type { BundleBuilder } from './builder.js';
import type { BundleSigner } from './signing-key.js';
import type { LogRequests } from './log-requests.js';
import type { EdgeTokenRevocations } from './token-revocations.js';

const MAX_WAIT_SECONDS = 60;

const PurgeResults = z.object({ results: z.array(PurgeResult).max(1000) }).strict();

/**
 * GET /v1/edge/poll: the bundle when it changed (else null), the purges not run yet (signed),
 * and the log requests waiting for this edge (docs/logs.md).
 */
const EdgePoll = z
  .object({
    bundle: SignedBundle.nullable(),
    purges: z.array(SignedPurgeJob),
    logs: z.array(LogRequest),
  })
  .strict();

/** `wait`: how long a long-poll may wait for a change, in seconds (0 to 60). */
const LongPollQuery = z.object({
  wait: z
    .string()
    .regex(/^[0-9]+$/)
    .optional()
    .describe('Seconds to wait for a change (0 to 60, default 0); with If-None-Match: "<hash>"'),
});

/** Contents an agent may ask for in one request (a new edge asks in several). */
export const MAX_FILES_PER_REQUEST = 2000;
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
const FilesRequest = z
  .object({ hashes: z.array(Sha256).min(1).max(MAX_FILES_PER_REQUEST) })
  .strict();
/** The contents asked for, base64 by SHA-256. */
const FilesAnswer = z.object({ files: z.record(z.string(), z.string()) }).strict();
const FileParams = z.object({ sha256: Sha256 }).strict();
/** `wait` as for the poll, and `full=1` for a bundle with every content inline. */
const BundleQuery = LongPollQuery.extend({
  full: z.enum(['1']).optional().describe('1: every content inline (`blobs`), for a new edge'),
});

declare module 'fastify' {
  interface FastifyRequest {
    edgeName?: string;
  }
}

function edgeOf(req: FastifyRequest): string {
  if (req.edgeName === undefined) throw new ApiError('unauthorized', 'missing or wrong edge token');
  return req.edgeName;
}

/**
 * What a long-poll asks for: the edge, the bundle hash it already has (If-None-Match), how long
 * it will wait (`wait`, seconds, clamped to 0..60) and a promise settled when it hangs up.
 */
function longPoll(req: FastifyRequest<{ Querystring: { wait?: string } }>) {
  const known = /^"?([0-9a-f]{64})"?$/.exec(req.headers['if-none-match'] ?? '')?.[1];
  const wait = Math.min(Math.max(Number(req.query.wait ?? 0) || 0, 0), MAX_WAIT_SECONDS);
  const closed = new Promise<undefined>((resolve) =>
    req.raw.once('close', () => resolve(undefined)),
  );
  return { edge: edgeOf(req), known, wait, closed };
}

/** A stored signed manifest with every content it names inline (`blobs`). */
async function fullBundle(store: Store, body: string): Promise<string> {
  const signed = SignedBundle.parse(JSON.parse(body));
  const manifest = BundleManifest.parse(JSON.parse(signed.manifest));
  const lists = await store.releaseFiles(manifest.lists.map((l) => l.sha256));
  const entries = expandManifest(manifest, lists);
  const contents = await store.releaseFiles(entries.map((e) => e.sha256));
  const blobs: Record<string, string> = {};
  for (const [h, c] of [...lists, ...contents]) blobs[h] = c.toString('base64');
  return JSON.stringify({ ...signed, blobs });
}

export const edgeRoutes =
  (
    store: Store,
    builder: BundleBuilder,
    signer: BundleSigner,
    onReport: (edge: string, report: EdgeReport) => Promise<void>,
    purges: PurgeService,
    revocations: EdgeTokenRevocations,
    /** A request naming this edge (X-Outpost-Edge) was refused for its token. */
    onTokenRefused: (claimedEdge: string) => Promise<void>,
    /** Log requests waiting for the edges, and their answers. */
    logs: LogRequests,
  ): FastifyPluginAsync =>
  async (app) => {
    const edgeOfToken = async (req: FastifyRequest): Promise<string | undefined> => {
      const token = bearerToken(req.headers.authorization);
      return token ? await store.findEdgeByTokenHash(hashToken(token)) : undefined;
    };
    const revoked = () => new ApiError('unauthorized', 'missing, wrong or revoked edge token');
    app.addHook('onRequest', async (req) => {
      const edge = await edgeOfToken(req);
      if (edge === undefined) {
        // Agents name their edge in a header, so that `outpost status` can say that this edge's
        // token is refused (after a rotation the agent still holds the old one).
        const claimed = req.headers[EDGE_NAME_HEADER];
        if (typeof claimed === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(claimed))
          await onTokenRefused(claimed);
        throw revoked();
      }
      req.edgeName = edge;
    });
    // Every answer re-checks the token at send time: a token revoked or rotated while the
    // request waited (a long-poll) gets 401, never the bundle with its keys.
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.edgeName === undefined || reply.statusCode === 401) return payload;
      if ((await edgeOfToken(req)) !== req.edgeName) {
        req.edgeName = undefined;
        void reply.status(401).type('application/json; charset=utf-8').removeHeader('etag');
        void reply.removeHeader('x-outpost-release');
        return JSON.stringify(toErrorBody(revoked()).body);
      }
      return payload;
    });

    const edgeDocs = (
      summary: string,
      more: Omit<Parameters<typeof docs>[0], 'tag' | 'summary'>,
    ) => ({ schema: docs({ tag: 'edge agent', summary, door: 'edge', ...more }) });

    app.get(
      '/v1/edge/hello',
      edgeDocs('Which edge this token is, and the public key that signs its bundles', {
        answers: { 200: EdgeHello },
      }),
      async (req) => ({
        edge: edgeOf(req),
        public_key: signer.publicKeyPem,
        fingerprint: signer.fingerprint,
      }),
    );

    // Release file contents by SHA-256 (the agent fetches those it lacks): only contents the
    // edge's latest release names, so an edge never reads another edge's files (keys).
    const servedFiles = async (edge: string, hashes: string[]): Promise<Map<string, Buffer>> => {
      if (!(await builder.serves(edge, hashes)))
        throw new ApiError(
          'not_found',
          `a requested file is not part of edge "${edge}"'s latest release`,
        );
      const found = await store.releaseFiles(hashes);
      const missing = hashes.find((h) => !found.has(h));
      if (missing !== undefined)
        throw new ApiError('not_found', `the content ${missing} is no longer stored`);
      return found;
    };

    app.post(
      '/v1/edge/files',
      edgeDocs("Contents of the edge's latest release by SHA-256 (the ones the agent lacks)", {
        body: FilesRequest,
        answers: { 200: FilesAnswer },
        errors: ['not_found'],
      }),
      async (req, reply) => {
        const edge = edgeOf(req);
        const { hashes } = parseBody(FilesRequest, req.body);
        const found = await servedFiles(edge, [...new Set(hashes)]);
        const files: Record<string, string> = {};
        for (const [h, content] of found) files[h] = content.toString('base64');
        return reply.header('cache-control', 'no-store').send({ files });
      },
    );

    app.get<{ Params: { sha256: string } }>(
      '/v1/edge/files/:sha256',
      edgeDocs("One content of the edge's latest release, by SHA-256", {
        answers: {
          200: { media: 'application/octet-stream', description: 'the content, as stored' },
        },
        errors: ['not_found'],
      }),
      async (req, reply) => {
        const edge = edgeOf(req);
        const { sha256: hash } = parseBody(FileParams, req.params);
        const found = await servedFiles(edge, [hash]);
        return reply
          .header('cache-control', 'no-store')
          .type('application/octet-stream')
          .send(found.get(hash));
      },
    );

    // The bundle alone (no purges); the agent uses /v1/edge/poll. With `full=1` the signed
    // manifest carries every content it names (`blobs`): a whole release in one answer.
    app.get<{ Querystring: { wait?: string; full?: string } }>(
      '/v1/edge/bundle',
      edgeDocs('The signed bundle alone (long-poll); agents use /v1/edge/poll', {
        query: BundleQuery,
        answers: { 200: SignedBundle, 304: null },
        errors: ['not_found'],
      }),
      async (req, reply) => {
        const { edge, known, wait, closed } = longPoll(req);
        const watch = revocations.watch(edge);
        const bundle = await Promise.race([
          builder.waitForChange(edge, known, wait * 1000),
          closed,
          watch.changed,
        ]).finally(watch.stop);
        if (bundle === 'revoked') throw revoked();
        if (bundle === undefined) {
          if (known !== undefined) return reply.status(304).send();
          throw new ApiError('not_found', `no bundle has been built for edge "${edge}" yet`);
        }
        const body = req.query.full === '1' ? await fullBundle(store, bundle.body) : bundle.body;
        return reply
          .header('etag', `"${bundle.hash}"`)
          .header('x-outpost-release', String(bundle.release))
          .header('cache-control', 'no-store')
          .type('application/json')
          .send(body);
      },
    );

    // The edge's one channel: its bundle when it changed, the purges it has not run yet, and
    // the log requests waiting for it.
    app.get<{ Querystring: { wait?: string } }>(
      '/v1/edge/poll',
      edgeDocs(
        "The edge's channel (long-poll): its bundle when it changed, pending purges and log requests",
        {
          query: LongPollQuery,
          answers: { 200: EdgePoll, 304: null },
          errors: ['not_found'],
        },
      ),
      async (req, reply) => {
        const { edge, known, wait, closed } = longPoll(req);
        let pending = await purges.pending(edge);
        let bundle = await builder.waitForChange(edge, known, 0);
        let asks = logs.take(edge);
        if (bundle === undefined && pending.length === 0 && asks.length === 0 && wait > 0) {
          const watch = revocations.watch(edge);
          const woken = await Promise.race([
            builder.waitForChange(edge, known, wait * 1000),
            purges.wait(edge, wait * 1000, Promise.race([closed, watch.changed])),
            logs.wait(edge, wait * 1000, Promise.race([closed, watch.changed])),
            closed,
            watch.changed,
          ]).finally(watch.stop);
          if (woken === 'revoked') throw revoked();
          if (woken !== undefined) {
            // ---- issue 14 (w6-publish): woken by its new bundle, the poll answers with the
            // bundle as it was published (the stored body, not read or parsed again); a purge
            // that came at the same moment is in the next poll's answer, right after this one.
            bundle = woken;
          } else {
            pending = await purges.pending(edge);
            bundle = await builder.waitForChange(edge, known, 0);
          }
          asks = logs.take(edge);
        }
        const current = bundle ?? (await store.latestBundle(edge));
        if (current) void reply.header('etag', `"${current.hash}"`);
        if (bundle === undefined && pending.length === 0 && asks.length === 0) {
          if (known !== undefined || current !== undefined) return reply.status(304).send();
          throw new ApiError('not_found', `no bundle has been built for edge "${edge}" yet`);
        }
        // The stored bundle is sent as the bytes that were stored (a signed JSON document), not
        // parsed and serialized again: `{"bundle": <stored body>|null, "purges": [...], "logs": [...]}`.
        return reply
          .header('cache-control', 'no-store')
          .type('application/json; charset=utf-8')
          .send(
            `{"bundle":${bundle ? bundle.body : 'null'},"purges":${JSON.stringify(pending)},"logs":${JSON.stringify(asks)}}`,
          );
      },
    );

    // The lines of a log request (docs/logs.md): handed to the admin request that waits for
    // them, never stored or logged here. A late answer (nobody waits any more) is dropped.
    app.post(
      '/v1/edge/logs',
      {
        // The lines (at most MAX_LOG_ANSWER_BYTES as written) and their JSON around them.
        bodyLimit: MAX_LOG_ANSWER_BYTES * 2 + 64 * 1024,
        ...edgeDocs("The lines of a log request, from the edge's own access log", {
          body: EdgeLogAnswer,
          answers: { 204: null },
        }),
      },
      async (req, reply) => {
        const edge = edgeOf(req);
        logs.answer(edge, parseBody(EdgeLogAnswer, req.body));
        return reply.status(204).send();
      },
    );

    app.post(
      '/v1/edge/purges',
      edgeDocs('The results of purges the edge ran', {
        body: PurgeResults,
        answers: { 204: null },
      }),
      async (req, reply) => {
        const edge = edgeOf(req);
        const body = parseBody(PurgeResults, req.body);
        await purges.record(edge, body.results);
        return reply.status(204).send();
      },
    );

    app.post(
      '/v1/edge/report',
      edgeDocs("The agent's report: applied release, errors, proxy, traffic", {
        body: EdgeReport,
        answers: { 204: null },
      }),
      async (req, reply) => {
        const edge = edgeOf(req);
        const report = parseBody(EdgeReport, req.body);
        await onReport(edge, report);
        return reply.status(204).send();
      },
    );
  };
