// `outpost site`: list, show and remove sites.
import type { Site } from '../../spec/index.js';
import { table } from '../output.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerSiteCommands(program: Command, ctx: CommandContext): void {
  const site = program.command('site').description('list, show and remove sites');
  site
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { sites } = await ctx.client().request<{ sites: Site[] }>('GET', 'v1/sites');
      if (o.json) return ctx.out.json(sites);
      if (sites.length === 0) return ctx.out.line('No sites.');
      ctx.out.line(
        table([
          ['DOMAIN', 'ALIASES', 'ORIGINS', 'EDGES'],
          ...sites.map((s) => [
            s.domain,
            s.aliases.join(',') || '-',
            s.origins.map(originLabel).join(','),
            s.edges.join(','),
          ]),
        ]),
      );
    });
  site
    .command('show <domain>')
    .action(async (domain: string) =>
      ctx.out.json(
        (await ctx.client().request<{ site: Site }>('GET', `v1/sites/${enc(domain)}`)).site,
      ),
    );
  site.command('rm <domain>').action(async (domain: string) => {
    const r = await ctx.client().request<{ revision: number }>('DELETE', `v1/sites/${enc(domain)}`);
    ctx.out.line(`Removed site ${domain} (revision ${r.revision}).`);
  });
}

export function enc(s: string): string {
  return encodeURIComponent(s);
}

function originLabel(o: Site['origins'][number]): string {
  const host = typeof o.host === 'string' ? o.host : (o.host.v4 ?? `[${o.host.v6 ?? ''}]`);
  return `${o.protocol}://${host}${o.port ? `:${o.port}` : ''}${o.backup ? ' (backup)' : ''}`;
}
