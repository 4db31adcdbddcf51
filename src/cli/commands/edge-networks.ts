// Issue 22: an edge's `networks` (the ASNs and line presets it serves best, for GeoDNS) from
// the command line: `--asn` and `--line` on `outpost edge add` and `outpost edge networks NAME`
// (which replaces them on an existing edge), and how `edge list`/`edge show` print them.
// The words of `--asn` must be numbers here (they go to the API as numbers); everything else
// (the range of an ASN, the preset names with the list of known ones) is checked by the API's
// schema, whose problems name the field (`networks.asns[0]`, `networks.lines[1]`).
import type { Command } from 'commander';
import type { Edge, EdgeNetworks } from '../../spec/index.js';
import { NETWORK_LINES } from '../../spec/network-lines.js';
import type { ApiClient } from '../client.js';
import { CliError, UsageError } from '../errors.js';
import type { Output } from '../output.js';

export interface NetworkFlags {
  asn?: string[];
  line?: string[];
}

/** A repeatable flag whose values may also be comma lists: `--asn 4134,4809 --asn 4837`. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((w) => w.trim())
      .filter((w) => w !== ''),
  ];
}

/** Adds `--asn` and `--line` to `cmd`. */
export function withNetworkOptions(cmd: Command): Command {
  return cmd
    .option(
      '--asn <asns>',
      'ASNs the edge serves best, for GeoDNS (comma list or repeated; 4134 or AS4134)',
      collect,
    )
    .option(
      '--line <lines>',
      `line presets the edge serves best (comma list or repeated): ${Object.keys(NETWORK_LINES).sort().join(', ')}`,
      collect,
    );
}

/**
 * The edge's `networks` from `--asn`/`--line`; undefined when neither is given. A word of
 * `--asn` that is not a number is refused here, named by its field.
 */
export function networksFromFlags(o: NetworkFlags): EdgeNetworks | undefined {
  if (o.asn === undefined && o.line === undefined) return undefined;
  const asns = (o.asn ?? []).map((word, i) => {
    const m = /^(?:AS)?(\d+)$/i.exec(word);
    if (m === null)
      throw new CliError(
        `networks.asns[${i}]: "${word}" (--asn) is not an AS number; give numbers like 4134 or AS4134`,
      );
    return Number(m[1]);
  });
  return {
    ...(asns.length > 0 ? { asns } : {}),
    ...(o.line !== undefined && o.line.length > 0 ? { lines: o.line } : {}),
  };
}

/** `china-unicom (9 ASNs), AS4134`, or `-` without networks. */
export function networksText(n: EdgeNetworks | undefined, withCounts = false): string {
  const lines = (n?.lines ?? []).map((l) => {
    const count = NETWORK_LINES[l]?.asns.length;
    return withCounts && count !== undefined ? `${l} (${count} ASNs)` : l;
  });
  const words = [...lines, ...(n?.asns ?? []).map((a) => `AS${a}`)];
  return words.length > 0 ? words.join(withCounts ? ', ' : ',') : '-';
}

/** `outpost edge networks NAME --asn … --line … | --none`: replaces the edge's networks. */
export function registerEdgeNetworksCommand(
  edge: Command,
  client: () => ApiClient,
  out: Output,
): void {
  withNetworkOptions(
    edge
      .command('networks <name>')
      .description(
        'replace the networks (ASNs, line presets) the edge serves best, for GeoDNS; --none clears them',
      ),
  )
    .option('--none', 'the edge names no networks')
    .action(async (name: string, o: NetworkFlags & { none?: boolean }) => {
      const networks = networksFromFlags(o);
      if (o.none === true && networks !== undefined)
        throw new UsageError('--none clears the networks: give it without --asn or --line');
      if (o.none !== true && networks === undefined)
        throw new UsageError('give --asn, --line or --none');
      const path = `v1/edges/${encodeURIComponent(name)}`;
      const current = await client().request<{ edge: Edge & { has_token?: boolean } }>('GET', path);
      const body: Partial<Edge & { has_token: boolean }> = { ...current.edge };
      delete body.has_token;
      delete body.name;
      delete body.networks;
      const r = await client().request<{ revision: number }>(
        'PUT',
        path,
        networks === undefined ? body : { ...body, networks },
      );
      out.line(
        `Edge ${name} serves ${networks === undefined ? 'no networks' : networksText(networks, true)} (revision ${r.revision}).`,
      );
    });
}
