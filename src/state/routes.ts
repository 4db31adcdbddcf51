// Admin API for the whole desired state: apply a document (validate, diff, apply in one
// transaction), export it back as YAML, and the audit log.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ChangeResult, EventList, StateAnswer, sentence, stringifySpec } from '../spec/index.js';
import type { Store } from '../store/types.js';
import { parseBody } from '../http/parse-body.js';
import type { DesiredState } from './service.js';
import { docs } from '../http/openapi.js';
import { noneMatch, revisionTag } from '../http/etag.js';

export const ApplyRequest = z
  .object({
    /** The document as YAML text (problems then carry line numbers)… */
    yaml: z.string().optional(),
    /** …or as a JSON object. */
    spec: z.unknown().optional(),
    dry_run: z.boolean().default(false),
  })
  .strict()
  .refine((r) => (r.yaml === undefined) !== (r.spec === undefined), sentence('yaml_or_spec'));

export const stateRoutes =
  (state: DesiredState, store: Store): FastifyPluginAsync =>
  async (app) => {
    // ---- GET /v1/state's text made once per state (w6-sites; measured in bench:admin-reads:
    // ~14 ms of CPU per request at 1,000 sites to stringify the same state again). Keyed on
    // the frozen object the store hands out for a revision (a copy is never kept).
    const answers = new WeakMap<object, { body: string; etag: string }>();
    app.get(
      '/v1/state',
      {
        schema: docs({
          tag: 'state',
          summary: 'The whole desired state and its revision; ETag and If-None-Match (304)',
          answers: { 200: StateAnswer, 304: null },
        }),
      },
      async (req, reply) => {
        const current = await state.read();
        let answer = answers.get(current);
        if (answer === undefined) {
          const body = JSON.stringify({ spec: current.spec, revision: current.revision });
          answer = { body, etag: revisionTag(current.revision, body) };
          if (Object.isFrozen(current)) answers.set(current, answer);
        }
        void reply.header('etag', answer.etag).header('cache-control', 'private, no-cache');
        if (noneMatch(req.headers['if-none-match'], answer.etag)) return reply.status(304).send();
        return reply.type('application/json; charset=utf-8').send(answer.body);
      },
    );
    // ---- end GET /v1/state ----

    app.get(
      '/v1/state/yaml',
      {
        schema: docs({
          tag: 'state',
          summary: 'Export the desired state as outpost.yaml (its revision in X-Outpost-Revision)',
          answers: { 200: { media: 'application/yaml', description: 'outpost.yaml' } },
        }),
      },
      async (_req, reply) => {
        const { spec, revision } = await state.read();
        return reply
          .header('content-type', 'application/yaml; charset=utf-8')
          .header('x-outpost-revision', String(revision))
          .send(stringifySpec(spec));
      },
    );

    app.post(
      '/v1/apply',
      {
        schema: docs({
          tag: 'state',
          summary: 'Apply a whole outpost.yaml: validate, diff, apply in one transaction',
          body: ApplyRequest,
          answers: { 200: ChangeResult },
          errors: ['revision_conflict'],
        }),
      },
      async (req) => {
        const body = parseBody(ApplyRequest, req.body);
        return state.apply(body.yaml !== undefined ? { yaml: body.yaml } : { spec: body.spec }, {
          dryRun: body.dry_run,
          actor: actorOf(req),
          address: req.ip,
        });
      },
    );

    app.get<{ Querystring: { limit?: string; before?: string } }>(
      '/v1/events',
      {
        schema: docs({
          tag: 'state',
          summary: 'The audit log, newest first',
          query: z.object({
            limit: z
              .string()
              .regex(/^[0-9]+$/)
              .optional()
              .describe('How many events (1 to 1000, default 100)'),
            before: z
              .string()
              .regex(/^[0-9]+$/)
              .optional()
              .describe('Only events with an id below this (the next page)'),
          }),
          answers: { 200: EventList },
        }),
      },
      async (req) => {
        const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1000);
        const before = req.query.before !== undefined ? Number(req.query.before) : undefined;
        return {
          events: await store.listEvents(
            before !== undefined ? { limit, beforeId: before } : { limit },
          ),
        };
      },
    );
  };
