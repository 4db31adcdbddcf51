// `outpost logs SITE`: the site's recent access-log lines from its edges (docs/logs.md "Logs on
// demand"), filtered on the edges. `--follow` keeps asking for the lines written since (each
// ask is bounded and forgotten by the control plane at its deadline, so a follow that stops
// leaves nothing running); SIGINT ends it cleanly.
import type { Command } from 'commander';
import type { SiteLogLine, SiteLogs } from '../../spec/index.js';
import type { ApiClient } from '../client.js';
import { CliError, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import type { CommandContext } from './context.js';

export interface LogsOptions {
  edge?: string;
  follow?: boolean;
  status?: string;
  path?: string;
  client?: string;
  cache?: string;
  limit?: number;
  json?: boolean;
}

/** How long one ask waits for the edges: a follow round with an edge down stays short. */
const FOLLOW_WAIT_SECONDS = 2;
const FOLLOW_PAUSE_MS = 1000;

/** One line: time, edge, status, cache, method, URI, client, bytes, request time. */
export function formatLogLine(l: SiteLogLine): string {
  return [
    l.time,
    l.edge,
    String(l.status),
    l.cache || '-',
    l.method,
    l.uri,
    l.remote,
    `${l.bytes}B`,
    `${l.request_time}s`,
  ].join(' ');
}

export function logsQuery(o: LogsOptions, cursor: string | undefined, wait?: number): string {
  const q = new URLSearchParams();
  for (const k of ['edge', 'status', 'path', 'client', 'cache'] as const) {
    const v = o[k];
    if (v !== undefined) q.set(k, v);
  }
  if (o.limit !== undefined) q.set('limit', String(o.limit));
  if (cursor !== undefined) q.set('cursor', cursor);
  if (wait !== undefined) q.set('wait', String(wait));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export async function runLogs(
  client: ApiClient,
  out: Output,
  site: string,
  o: LogsOptions,
  signal: AbortSignal,
): Promise<void> {
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > 1000))
    throw new UsageError('--limit must be a whole number from 1 to 1000');
  const url = `v1/sites/${encodeURIComponent(site)}/logs`;
  const print = (a: SiteLogs) => {
    for (const l of a.lines) {
      if (o.json) out.line(JSON.stringify(l));
      else out.line(formatLogLine(l));
    }
  };
  if (!o.follow) {
    const a = await client.request<SiteLogs>('GET', `${url}${logsQuery(o, undefined)}`);
    print(a);
    if (a.edges.length === 0) throw new CliError(`no edge serves ${site}`);
    for (const e of a.edges) {
      if (e.error !== null) out.error(`outpost: edge ${e.edge}: ${e.error}`);
      else if (e.truncated)
        out.error(
          `outpost: edge ${e.edge}: more lines matched than were sent (narrow the filter or raise --limit)`,
        );
    }
    if (a.edges.every((e) => !e.answered))
      throw new CliError(`no edge of ${site} answered: its lines cannot be shown`);
    return;
  }
  // Follow: the newest lines first, then what each edge writes after them.
  let cursor: string | undefined;
  const said = new Map<string, string | null>();
  while (!signal.aborted) {
    let a: SiteLogs;
    try {
      a = await client.request<SiteLogs>(
        'GET',
        `${url}${logsQuery(o, cursor, FOLLOW_WAIT_SECONDS)}`,
        undefined,
        { signal },
      );
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    print(a);
    cursor = a.cursor;
    if (a.edges.length === 0) throw new CliError(`no edge serves ${site}`);
    for (const e of a.edges) {
      // Said when it changes: an edge that stops answering, and when it answers again.
      if (said.get(e.edge) === e.error || (!said.has(e.edge) && e.error === null)) {
        said.set(e.edge, e.error);
        continue;
      }
      said.set(e.edge, e.error);
      out.error(`outpost: edge ${e.edge}: ${e.error ?? 'answering again'}`);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, FOLLOW_PAUSE_MS);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

export function registerLogsCommand(program: Command, ctx: CommandContext): void {
  program
    .command('logs <site>')
    .description("a site's recent access-log lines from its edges (filtered on the edges)")
    .option('--edge <edge>', 'only this edge')
    .option('--follow', 'keep showing new lines until Ctrl-C')
    .option('--status <status>', 'a status or class: 404, 5xx, or several: 404,5xx')
    .option('--path <prefix>', 'request URIs starting with this')
    .option('--client <ip>', 'one client address, as in the log')
    .option('--cache <status>', 'a cache status: HIT, MISS, EXPIRED, STALE, BYPASS, EDGE…')
    .option('--limit <n>', 'most lines (default 100, at most 1000)', Number)
    .option('--json', 'one JSON object a line')
    .action(async (site: string, o: LogsOptions) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runLogs(ctx.client(), ctx.out, site, o, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
