// `outpost edge`: add, list, rotate tokens of and remove edges.
import { Option } from 'commander';
import type { Edge } from '../../spec/index.js';
import { table, type Output } from '../output.js';
import { enc } from './site.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';
import { registerEdgeDrainCommands } from './edge-drain.js';
import {
  networksFromFlags,
  networksText,
  registerEdgeNetworksCommand,
  withNetworkOptions,
  type NetworkFlags,
} from './edge-networks.js';

export function registerEdgeCommands(program: Command, ctx: CommandContext): void {
  const edge = program.command('edge').description('add, list, rotate tokens of and remove edges');
  withNetworkOptions(
    edge
      .command('add <name>')
      .description('add an edge; prints its token once and the command the edge runs to join'),
  )
    .option('--ipv4 <address>', 'public IPv4 address')
    .option('--ipv6 <address>', 'public IPv6 address')
    .option('--tag <tag...>', 'tags (repeatable)')
    .option('--paused', 'add it paused (not in DNS, empty config)')
    .option(
      '--listen-address <address...>',
      'local addresses the proxy binds (repeatable; default: every address)',
    )
    .option('--http-port <port>', 'port the proxy serves HTTP on (default 80)', Number)
    .option('--https-port <port>', 'port the proxy serves HTTPS on (default 443)', Number)
    .addOption(
      new Option('--proxy <proxy>', 'proxy on the edge')
        .choices(['nginx', 'caddy'])
        .default('nginx'),
    )
    .action(
      async (
        name: string,
        o: NetworkFlags & {
          ipv4?: string;
          ipv6?: string;
          tag?: string[];
          paused?: boolean;
          proxy: string;
          listenAddress?: string[];
          httpPort?: number;
          httpsPort?: number;
        },
      ) => {
        // The spec's edge.listen; the server validates it (a bad port names listen.http).
        const listen = {
          ...(o.listenAddress ? { addresses: o.listenAddress } : {}),
          ...(o.httpPort !== undefined ? { http: o.httpPort } : {}),
          ...(o.httpsPort !== undefined ? { https: o.httpsPort } : {}),
        };
        const networks = networksFromFlags(o);
        const body = {
          name,
          host: { ...(o.ipv4 ? { v4: o.ipv4 } : {}), ...(o.ipv6 ? { v6: o.ipv6 } : {}) },
          listen,
          tags: o.tag ?? [],
          paused: o.paused === true,
          proxy: o.proxy,
          ...(networks !== undefined ? { networks } : {}),
        };
        const r = await ctx
          .client()
          .request<{ token: string; join_command: string; revision: number }>(
            'POST',
            'v1/edges',
            body,
          );
        ctx.out.line(`Added edge ${name} (revision ${r.revision}).`);
        printToken(ctx.out, name, r.token, r.join_command);
      },
    );
  edge
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { edges } = await ctx
        .client()
        .request<{ edges: (Edge & { has_token: boolean })[] }>('GET', 'v1/edges');
      if (o.json) return ctx.out.json(edges);
      if (edges.length === 0) return ctx.out.line('No edges.');
      ctx.out.line(
        table([
          ['NAME', 'IPV4', 'IPV6', 'LISTEN', 'TAGS', 'NETWORKS', 'STATE', 'TOKEN'],
          ...edges.map((e) => [
            e.name,
            e.host.v4 ?? '-',
            e.host.v6 ?? '-',
            listenText(e.listen),
            e.tags.join(',') || '-',
            networksText(e.networks),
            e.paused ? 'paused' : e.drain ? 'drained' : 'active',
            e.has_token ? 'set' : 'revoked',
          ]),
        ]),
      );
    });
  edge
    .command('show <name>')
    .description("one edge's settings, with its networks and the ASN count of each line preset")
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const { edge: e } = await ctx
        .client()
        .request<{ edge: Edge & { has_token: boolean } }>('GET', `v1/edges/${enc(name)}`);
      if (o.json) return ctx.out.json(e);
      const rows: [string, string][] = [
        ['name', e.name],
        ['ipv4', e.host.v4 ?? '-'],
        ['ipv6', e.host.v6 ?? '-'],
        ['listen', listenText(e.listen)],
        ['proxy', e.proxy],
        ['tags', e.tags.join(', ') || '-'],
        ['state', e.paused ? 'paused' : e.drain ? 'drained' : 'active'],
        ['countries', e.meta.countries?.join(', ') ?? '-'],
        ['continents', e.meta.continents?.join(', ') ?? '-'],
        ['location', e.meta.latlong?.join(', ') ?? '-'],
        ['networks', networksText(e.networks, true)],
        ['token', e.has_token ? 'set' : 'revoked'],
      ];
      for (const [k, v] of rows) ctx.out.line(`${`${k}:`.padEnd(12)}${v}`);
    });
  registerEdgeNetworksCommand(edge, ctx.client, ctx.out);
  edge
    .command('rotate-token <name>')
    .description('issue a new token for the edge; the old one stops working at once')
    .action(async (name: string) => {
      const r = await ctx
        .client()
        .request<{ token: string; join_command: string }>('POST', `v1/edges/${enc(name)}/token`);
      ctx.out.line(`Rotated the token of edge ${name}; the old token no longer works.`);
      printToken(ctx.out, name, r.token, r.join_command);
    });
  edge
    .command('revoke-token <name>')
    .description('revoke the edge token: the edge can no longer pull')
    .action(async (name: string) => {
      await ctx.client().request('DELETE', `v1/edges/${enc(name)}/token`);
      ctx.out.line(`Revoked the token of edge ${name}.`);
    });
  registerEdgeDrainCommands(edge, ctx.client, ctx.out);
  edge.command('rm <name>').action(async (name: string) => {
    const r = await ctx.client().request<{ revision: number }>('DELETE', `v1/edges/${enc(name)}`);
    ctx.out.line(`Removed edge ${name} (revision ${r.revision}).`);
  });
}

/** `*:80,443` or `127.0.0.2,::1:8081,8443`: the addresses (all: `*`) and the two ports. */
function listenText(l: Edge['listen']): string {
  return `${l.addresses.length ? l.addresses.join(',') : '*'}:${l.http},${l.https}`;
}

function printToken(out: Output, name: string, token: string, joinCommand: string): void {
  out.line('');
  out.line(`Token for edge ${name} (shown once; stored only as a hash):`);
  out.line(`  ${token}`);
  out.line('On the edge, run this and paste the token when asked:');
  out.line(`  ${joinCommand}`);
}
