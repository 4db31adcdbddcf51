// GET /v1/sites/:domain/logs (docs/logs.md "Logs on demand"): asks every edge that serves the
// site (or the one named) for its matching recent lines through the poll channel, waits a few
// seconds for their answers, and answers with the lines oldest first, each with its edge, and
// how each edge answered (an edge that is down is named, the others' lines still shown).
// `cursor` in the answer, passed back, asks for the lines written since (`--follow`).
import { badQuery, queryParams, wholeNumber } from '../http/query.js';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { docs } from '../http/openapi.js';
import { ApiError } from '../http/errors.js';
import { edgesOfSite } from '../purge/service.js';
import {
  LogCursor,
  LogFilter,
  MAX_LOG_LINES,
  SiteLogs,
  type LogRequest,
  type SiteLogEdge,
  type SiteLogLine,
} from '../spec/index.js';
import type { Store } from '../store/types.js';
import type { LogRequests } from './log-requests.js';

const DEFAULT_LIMIT = 100;
const DEFAULT_WAIT_SECONDS = 5;
const MAX_WAIT_SECONDS = 15;

const Digits = z.string().regex(/^[0-9]{1,6}$/);

/** The query, as documented (every field a string; parsed by `parseLogQuery`). */
const SiteLogsQuery = z.object({
  edge: z.string().optional().describe('Only this edge (one that serves the site)'),
  status: z.string().optional().describe('404, 5xx, or several with commas: 404,5xx'),
  path: z.string().optional().describe('A prefix of the request URI, starting with "/"'),
  client: z.string().optional().describe('The client address, exactly as in the log'),
  cache: z.string().optional().describe('A cache status: HIT, MISS, EXPIRED, STALE, BYPASS, EDGE…'),
  limit: Digits.optional().describe(`Most lines (1 to ${MAX_LOG_LINES}, default ${DEFAULT_LIMIT})`),
  cursor: z.string().optional().describe('The cursor of an earlier answer: only newer lines'),
  wait: Digits.optional().describe(
    `Seconds to wait for the edges (1 to ${MAX_WAIT_SECONDS}, default ${DEFAULT_WAIT_SECONDS})`,
  ),
});

const Cursors = z.record(z.string(), LogCursor);

export interface LogQuery {
  edge: string | undefined;
  filter: LogFilter;
  limit: number;
  cursors: Record<string, LogCursor>;
  waitSeconds: number;
}

/** The query of a log request, every problem named by its field. */
export function parseLogQuery(query: unknown): LogQuery {
  const s = queryParams(query, SiteLogsQuery.shape);
  const filter: Record<string, string> = {};
  for (const k of ['status', 'path', 'client', 'cache'] as const) {
    const v = s[k];
    if (v !== undefined && v !== '') filter[k] = v;
  }
  const parsed = LogFilter.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'query');
    throw badQuery(field, issue?.message ?? 'is not valid');
  }
  let cursors: Record<string, LogCursor> = {};
  if (s.cursor !== undefined && s.cursor !== '') {
    try {
      cursors = Cursors.parse(JSON.parse(Buffer.from(s.cursor, 'base64url').toString('utf8')));
    } catch {
      throw badQuery('cursor', 'is not a cursor this API gave');
    }
  }
  return {
    edge: s.edge === '' ? undefined : s.edge,
    filter: parsed.data,
    limit: wholeNumber(s.limit, 'limit', 1, MAX_LOG_LINES) ?? DEFAULT_LIMIT,
    cursors,
    waitSeconds: wholeNumber(s.wait, 'wait', 1, MAX_WAIT_SECONDS) ?? DEFAULT_WAIT_SECONDS,
  };
}

export function encodeCursor(cursors: Record<string, LogCursor>): string {
  return Buffer.from(JSON.stringify(cursors), 'utf8').toString('base64url');
}

export const logRoutes =
  (store: Store, logs: LogRequests): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { domain: string } }>(
      '/v1/sites/:domain/logs',
      {
        schema: docs({
          tag: 'logs',
          summary:
            "A site's recent access-log lines from its edges, filtered on the edges (status, path, client, cache)",
          query: SiteLogsQuery,
          answers: { 200: SiteLogs },
          errors: ['invalid_request', 'not_found', 'too_many_requests'],
        }),
      },
      async (req) => {
        const domain = req.params.domain;
        const q = parseLogQuery(req.query);
        const { spec } = await store.readSharedState();
        if (!spec.sites.some((s) => s.domain === domain))
          throw new ApiError('not_found', `no site "${domain}"`, 'domain');
        let edges = edgesOfSite(spec, domain);
        if (q.edge !== undefined) {
          if (!edges.includes(q.edge))
            throw badQuery('edge', `"${q.edge}" is not an edge that serves ${domain}`);
          edges = [q.edge];
        }
        const answers = await logs.ask(
          edges,
          (edge, id): LogRequest => {
            const after = q.cursors[edge];
            return {
              id,
              site: domain,
              filter: q.filter,
              limit: q.limit,
              ...(after !== undefined ? { after } : {}),
            };
          },
          q.waitSeconds * 1000,
        );
        const lines: SiteLogLine[] = [];
        const byEdge: SiteLogEdge[] = [];
        const cursors = { ...q.cursors };
        for (const edge of edges) {
          const a = answers.get(edge);
          if (a === undefined) {
            byEdge.push({
              edge,
              answered: false,
              lines: 0,
              truncated: false,
              error: `did not answer within ${q.waitSeconds} s`,
            });
            continue;
          }
          for (const l of a.lines) lines.push({ ...l, edge });
          cursors[edge] = a.cursor;
          byEdge.push({
            edge,
            answered: true,
            lines: a.lines.length,
            truncated: a.truncated,
            error: a.error,
          });
        }
        // Oldest first across the edges (each edge's own order kept within a second).
        const at = (l: SiteLogLine) => Date.parse(l.time) || 0;
        const sorted = lines
          .map((l, i) => ({ l, i }))
          .sort((x, y) => at(x.l) - at(y.l) || x.i - y.i)
          .map((x) => x.l);
        return {
          site: domain,
          lines: sorted.slice(-q.limit),
          edges: byEdge,
          cursor: encodeCursor(cursors),
        };
      },
    );
  };
