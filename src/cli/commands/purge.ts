// `outpost purge`: drop objects from the caches of every edge of a site, and wait for each
// edge to confirm.
import type { Command } from 'commander';
import type { PurgeRequest } from '../../spec/index.js';
import type { StoredPurge } from '../../store/types.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';

export interface PurgeOptions {
  prefix?: string;
  all?: boolean;
  tag?: string[];
  wait: boolean;
  timeout: number;
}

/** `https://shop.test/a.js?v=1` or `/a.js?v=1` → `/a.js?v=1` (what the edge keys on). */
export function purgePath(arg: string): string {
  if (arg.startsWith('/')) return arg;
  try {
    const url = new URL(arg);
    return `${url.pathname}${url.search}`;
  } catch {
    throw new CliError(`"${arg}" is neither a URL nor a path starting with "/"`);
  }
}

export function purgeRequest(urls: string[], o: PurgeOptions): PurgeRequest {
  const kinds = [
    urls.length > 0,
    o.prefix !== undefined,
    o.all === true,
    (o.tag ?? []).length > 0,
  ].filter(Boolean);
  if (kinds.length !== 1)
    throw new CliError('give exactly one of: URLs, --prefix PATH, --all, --tag TAG');
  if (o.all) return { kind: 'all' };
  if (o.prefix !== undefined) return { kind: 'prefix', prefix: purgePath(o.prefix) };
  if (o.tag && o.tag.length > 0) return { kind: 'tags', tags: o.tag };
  return { kind: 'urls', paths: urls.map(purgePath) };
}

export async function runPurge(
  client: ApiClient,
  out: Output,
  site: string,
  urls: string[],
  o: PurgeOptions,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  const request = purgeRequest(urls, o);
  const created = await client.request<StoredPurge>(
    'POST',
    `v1/sites/${encodeURIComponent(site)}/purge`,
    request,
  );
  const id = created.job.id;
  out.line(
    `Purge ${id} of ${site} sent to ${created.edges.length} edge${created.edges.length === 1 ? '' : 's'}.`,
  );
  if (created.edges.length === 0 || !o.wait) return;
  const seen = new Map<string, string>();
  const deadline = Date.now() + o.timeout * 1000;
  let last = created;
  for (;;) {
    for (const e of last.edges) {
      if (seen.get(e.edge) === e.state) continue;
      seen.set(e.edge, e.state);
      if (e.state === 'done')
        out.line(`  ${e.edge}: done (${e.removed} object${e.removed === 1 ? '' : 's'} removed)`);
      else if (e.state === 'failed') out.line(`  ${e.edge}: failed: ${e.error ?? 'unknown error'}`);
      else out.line(`  ${e.edge}: pending`);
    }
    const pending = last.edges.filter((e) => e.state === 'pending');
    const failed = last.edges.filter((e) => e.state === 'failed');
    if (pending.length === 0) {
      if (failed.length > 0)
        throw new CliError(`purge ${id} failed on ${failed.map((e) => e.edge).join(', ')}`);
      out.line(`Purge ${id} done on every edge.`);
      return;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `purge ${id}: ${pending.map((e) => e.edge).join(', ')} did not confirm within ${o.timeout} s ` +
          '(an edge that is away purges when it comes back; follow with GET /v1/purges/' +
          `${id})`,
      );
    }
    await sleep(200);
    last = await client.request<StoredPurge>('GET', `v1/purges/${id}`);
  }
}

export function registerPurgeCommand(program: Command, client: () => ApiClient, out: Output): void {
  program
    .command('purge <site> [urls...]')
    .description('drop cached objects of a site from its edges: URLs, --prefix, --all or --tag')
    .option('--prefix <path>', 'every object whose path starts with this')
    .option('--all', 'every object of the site')
    .option('--tag <tag...>', 'objects the origin tagged (Cache-Tag or Surrogate-Key header)')
    .option('--no-wait', 'do not wait for the edges to confirm')
    .option('--timeout <seconds>', 'how long to wait for every edge', (v) => Number(v), 30)
    .action(async (site: string, urls: string[], o: PurgeOptions) =>
      runPurge(client(), out, site, urls, o),
    );
}
