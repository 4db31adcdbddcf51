// Access logs on demand (docs/logs.md): what `outpost logs` and the UI may filter on, the log
// request a control plane puts into an edge's poll answer, and what the agent answers with.
// The lines stay on the edges; only the ones asked for, bounded in count and bytes, travel.
import { z } from 'zod';
import { SITE_CACHE_STATUSES } from './history.js';
import { PurgePath } from './purge.js';
import { sentence } from './problems.js';

/** Most lines one answer carries (per edge and in all). */
export const MAX_LOG_LINES = 1000;
/** Most bytes of lines one edge sends in one answer (its JSON lines as nginx wrote them). */
export const MAX_LOG_ANSWER_BYTES = 512 * 1024;
/** Most bytes an edge reads back through its logs for one request: its cost stays bounded. */
export const MAX_LOG_SCAN_BYTES = 32 * 1024 * 1024;

/** One line of the `outpost_json` access log (proxy-check/nginx-main.ts), as nginx wrote it. */
export const AccessLogLine = z
  .object({
    time: z.string(),
    site: z.string(),
    host: z.string(),
    /** The client address as nginx saw it ($remote_addr), shown as in the log. */
    remote: z.string(),
    method: z.string(),
    uri: z.string(),
    status: z.number().int(),
    bytes: z.number().int().nonnegative(),
    cache: z.string(),
    request_time: z.number().nonnegative(),
    upstream_time: z.string(),
    upstream: z.string(),
    block: z.string().optional(),
    limit: z.string().optional(),
  })
  .strip();
export type AccessLogLine = z.infer<typeof AccessLogLine>;

/** `404`, `5xx`, or several of them: `404,5xx`. */
export const LogStatusFilter = z
  .string()
  .regex(/^([1-5](xx|[0-9]{2}))(,[1-5](xx|[0-9]{2})){0,9}$/, sentence('log_status_format'));

/** What a log request keeps: every given field must match (path: a prefix of the URI). */
export const LogFilter = z
  .object({
    status: LogStatusFilter.optional(),
    /** A prefix of the request URI (path and query), starting with "/". */
    path: PurgePath.optional(),
    /** The client address, exactly as in the log. */
    client: z
      .string()
      .regex(/^[0-9A-Fa-f:.]{2,45}$/, sentence('ip_address_format'))
      .optional(),
    cache: z.enum(SITE_CACHE_STATUSES).optional(),
  })
  .strict();
export type LogFilter = z.infer<typeof LogFilter>;

/** Where an edge stopped reading: the live log file (its inode) and the offset in it. */
export const LogCursor = z
  .object({ file: z.number().int().nonnegative(), offset: z.number().int().nonnegative() })
  .strict();
export type LogCursor = z.infer<typeof LogCursor>;

/** A log request in an edge's poll answer: the site's lines matching `filter`. */
export const LogRequest = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    site: z.string().min(1).max(253),
    filter: LogFilter,
    limit: z.number().int().min(1).max(MAX_LOG_LINES),
    /** Lines after this point only (`--follow`); absent: the newest lines. */
    after: LogCursor.optional(),
  })
  .strict();
export type LogRequest = z.infer<typeof LogRequest>;

/** What an agent POSTs back for one log request. */
export const EdgeLogAnswer = z
  .object({
    id: LogRequest.shape.id,
    /** Oldest first. */
    lines: z.array(AccessLogLine).max(MAX_LOG_LINES),
    /** Where the next follow request starts. */
    cursor: LogCursor,
    /** More lines matched than the bounds let through (the newest were kept). */
    truncated: z.boolean(),
    /** The log could not be read (the lines are then empty). */
    error: z.string().max(500).nullable(),
  })
  .strict();
export type EdgeLogAnswer = z.infer<typeof EdgeLogAnswer>;

/** Whether one log line matches a filter (the edge filters; the UI reuses it for display). */
export function logLineMatches(line: AccessLogLine, site: string, f: LogFilter): boolean {
  if (line.site !== site) return false;
  if (f.client !== undefined && line.remote !== f.client) return false;
  if (f.cache !== undefined && line.cache !== f.cache) return false;
  if (f.path !== undefined && !line.uri.startsWith(f.path)) return false;
  if (f.status !== undefined) {
    const s = String(line.status);
    const ok = f.status
      .split(',')
      .some((want) => (want.endsWith('xx') ? s[0] === want[0] && s.length === 3 : s === want));
    if (!ok) return false;
  }
  return true;
}
