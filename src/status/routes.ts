// `outpost status`, the dashboard's data and its live stream, Prometheus metrics, and an
// edge's compiled plan.
import type { FastifyPluginAsync } from 'fastify';
import { compileEdgePlan } from '../compile/index.js';
import type { Store } from '../store/types.js';
import { ApiError } from '../http/errors.js';
import type { Metrics } from './metrics.js';
import type { StatusService } from './service.js';
import { docs } from '../http/openapi.js';
import { EdgePlanAnswer, SiteEdgesStatus, StatusSnapshot } from '../spec/index.js';
import { z } from 'zod';
import { parseBody } from '../http/parse-body.js';
import { EdgesHistory, HistoryRange, SiteHistory, StatusSettings } from '../spec/index.js';
import { edgeSeries, RANGES, siteSeries } from './history.js';

/** `?range=` of the history routes: 1h (default), 24h, 7d or 90d. */
function rangeOf(query: unknown): HistoryRange {
  const raw = (query as { range?: unknown } | undefined)?.range ?? '1h';
  const r = HistoryRange.safeParse(raw);
  if (!r.success)
    throw new ApiError('invalid_request', 'range: must be one of 1h, 24h, 7d, 90d', 'range');
  return r.data;
}

export const statusRoutes =
  (store: Store, status: StatusService, metrics: Metrics): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/status',
      {
        schema: docs({
          tag: 'status',
          summary:
            'Each edge (release, reports, probes, traffic), each site (health, its edges counted by health, the edges where it is down), and the alerts',
          answers: { 200: StatusSnapshot },
        }),
      },
      async () => status.snapshot(),
    );

    app.get<{ Params: { domain: string } }>(
      '/v1/status/sites/:domain',
      {
        schema: docs({
          tag: 'status',
          summary: "One site's health with its probe through every edge serving it",
          answers: { 200: SiteEdgesStatus },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const site = await status.siteEdges(req.params.domain);
        if (!site) throw new ApiError('not_found', `no site "${req.params.domain}"`, 'domain');
        return site;
      },
    );

    app.get(
      '/v1/events/stream',
      {
        schema: docs({
          tag: 'status',
          summary:
            'Server-sent events: `status` with the same JSON as /v1/status whenever it changes',
          answers: {
            200: {
              media: 'text/event-stream',
              description: '`event: status` and `data: <StatusSnapshot JSON>`, and keep-alives',
            },
          },
        }),
      },
      async (req, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        let closed = false;
        const send = async () => {
          if (closed) return;
          const snapshot = await status.snapshot().catch(() => undefined);
          if (snapshot && !closed)
            res.write(`event: status\ndata: ${JSON.stringify(snapshot)}\n\n`);
        };
        const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
        const onChange = () => void send();
        status.on('changed', onChange);
        req.raw.once('close', () => {
          closed = true;
          clearInterval(keepAlive);
          status.off('changed', onChange);
        });
        await send();
      },
    );

    app.get(
      '/metrics',
      {
        schema: docs({
          tag: 'status',
          summary: 'Prometheus metrics (scrape with a token that has read as bearer token)',
          answers: {
            200: { media: 'text/plain', description: 'Prometheus text exposition format 0.0.4' },
          },
        }),
      },
      async (_req, reply) => {
        const text = await metrics.render();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );

    app.get(
      '/v1/history/edges',
      {
        schema: docs({
          tag: 'status',
          summary: "Every edge's series over ?range=1h|24h|7d|90d",
          query: z.object({ range: HistoryRange.optional() }),
          answers: { 200: EdgesHistory },
          errors: ['invalid_request'],
        }),
      },
      async (req) => {
        const range = rangeOf(req.query);
        const { spec } = await store.readSharedState();
        const edges = await edgeSeries(store, spec, range, new Date());
        return { range, step_seconds: RANGES[range].step, edges };
      },
    );

    app.get<{ Params: { name: string } }>(
      '/v1/history/edges/:name',
      {
        schema: docs({
          tag: 'status',
          summary: "One edge's series over ?range=1h|24h|7d|90d",
          query: z.object({ range: HistoryRange.optional() }),
          answers: { 200: EdgesHistory },
          errors: ['invalid_request', 'not_found'],
        }),
      },
      async (req) => {
        const range = rangeOf(req.query);
        const { spec } = await store.readSharedState();
        if (!spec.edges.some((e) => e.name === req.params.name))
          throw new ApiError('not_found', `no edge "${req.params.name}"`, 'name');
        const edges = await edgeSeries(store, spec, range, new Date(), req.params.name);
        return { range, step_seconds: RANGES[range].step, edges };
      },
    );

    app.get<{ Params: { domain: string } }>(
      '/v1/history/sites/:domain',
      {
        schema: docs({
          tag: 'status',
          summary: "One site's traffic, hit ratio and health over ?range=1h|24h|7d|90d",
          query: z.object({ range: HistoryRange.optional() }),
          answers: { 200: SiteHistory },
          errors: ['invalid_request', 'not_found'],
        }),
      },
      async (req) => {
        const range = rangeOf(req.query);
        const { spec } = await store.readSharedState();
        if (!spec.sites.some((s) => s.domain === req.params.domain))
          throw new ApiError('not_found', `no site "${req.params.domain}"`, 'domain');
        const points = await siteSeries(store, req.params.domain, range, new Date());
        return { range, step_seconds: RANGES[range].step, site: req.params.domain, points };
      },
    );

    app.get(
      '/v1/status/settings',
      {
        schema: docs({
          tag: 'status',
          summary: 'The public status page and bandwidth alert settings',
          answers: { 200: StatusSettings },
        }),
      },
      async () => status.settings(),
    );

    app.put(
      '/v1/status/settings',
      {
        schema: docs({
          tag: 'status',
          summary: 'Sets the public status page and bandwidth alert settings',
          body: StatusSettings,
          answers: { 200: StatusSettings },
          errors: ['invalid_request'],
        }),
      },
      async (req) => status.saveSettings(parseBody(StatusSettings, req.body)),
    );

    app.get<{ Params: { name: string } }>(
      '/v1/edges/:name/plan',
      {
        schema: docs({
          tag: 'edges',
          summary: "The edge's compiled plan, its newest release and its last report",
          answers: { 200: EdgePlanAnswer },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const { spec } = await store.readSharedState();
        if (!spec.edges.some((e) => e.name === req.params.name))
          throw new ApiError('not_found', `no edge "${req.params.name}"`, 'name');
        const plan = compileEdgePlan(spec, req.params.name);
        const bundle = await store.latestBundle(req.params.name);
        const snapshot = await status.snapshot();
        return {
          plan,
          release: bundle
            ? {
                release: bundle.release,
                revision: bundle.revision,
                hash: bundle.hash,
                created_at: bundle.created_at,
              }
            : null,
          status: snapshot.edges.find((e) => e.name === req.params.name) ?? null,
        };
      },
    );
  };
