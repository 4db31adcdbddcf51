// `outpost dns plan|apply|status` (through the control plane: provider credentials never leave
// it) and `outpost geoip build` (local: converts the country database for PowerDNS).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { DnsPlanResult, ProviderRRset, ZoneApplyResult } from '../../dns/index.js';
import type { DnsStatus } from '../../dns/service.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { table, type Output } from '../output.js';

export interface DnsCommandContext {
  client: () => ApiClient;
  out: Output;
}

type PlanResponse = DnsPlanResult & { provider: string | null };

function body(r: ProviderRRset | null): string {
  return r === null ? '' : `ttl ${r.ttl} ${JSON.stringify(r.body)}`;
}

/** The exact changes per zone, Terraform-style. Returns the number of changes. */
export function printPlan(out: Output, plan: DnsPlanResult, prune: boolean): number {
  let total = 0;
  for (const p of plan.problems) out.line(`WARNING ${p.site}: ${p.message}`);
  for (const z of plan.zones) {
    if (z.error !== null) {
      out.line(`zone ${z.zone}: ERROR ${z.error}`);
      continue;
    }
    const count = (a: string) => z.changes.filter((c) => c.action === a).length;
    out.line(
      `zone ${z.zone}: ${count('create')} to create, ${count('replace')} to replace, ${count('delete')} to delete`,
    );
    for (const c of z.changes) {
      total++;
      if (c.action === 'create') out.line(`  + ${c.name} ${c.type}  ${body(c.after)}`);
      else if (c.action === 'delete') out.line(`  - ${c.name} ${c.type}  ${body(c.before)}`);
      else {
        out.line(`  ~ ${c.name} ${c.type}`);
        out.line(`      old: ${body(c.before)}`);
        out.line(`      new: ${body(c.after)}`);
      }
    }
    for (const o of z.obsolete)
      out.line(
        `  obsolete ${o.name} ${o.type} (managed by Outpost, no site needs it${prune ? '' : ': --prune deletes it'})`,
      );
    for (const u of z.unmanaged)
      out.line(
        `  unmanaged ${u.name} ${u.type}: not Outpost's, left alone${u.conflict ? ' (a site needs this name: remove or rename the record by hand)' : ''}`,
      );
  }
  return total;
}

export function registerDnsCommands(program: Command, ctx: DnsCommandContext): void {
  const { out } = ctx;
  const dns = program
    .command('dns')
    .description('GeoDNS records: plan, apply (and prune), drift status');

  dns
    .command('plan')
    .description('show the exact record changes per zone, without making them')
    .option('--prune', 'also plan deleting managed record sets no site needs')
    .option('--json', 'print JSON')
    .action(async (o: { prune?: boolean; json?: boolean }) => {
      const plan = await ctx
        .client()
        .request<PlanResponse>('GET', `v1/dns/plan${o.prune ? '?prune=true' : ''}`);
      if (o.json) return out.json(plan);
      if (plan.provider === null) return out.line('No DNS provider configured (spec: dns).');
      const n = printPlan(out, plan, o.prune === true);
      out.line(
        n === 0
          ? 'No changes: DNS is in sync.'
          : `${n} change(s). Run \`outpost dns apply${o.prune ? ' --prune' : ''}\` to make them.`,
      );
    });

  dns
    .command('apply')
    .description('make the planned record changes now (idempotent)')
    .option('--prune', 'also delete managed record sets no site needs')
    .option('--json', 'print JSON')
    .action(async (o: { prune?: boolean; json?: boolean }) => {
      const res = await ctx.client().request<{
        provider: string | null;
        plan: DnsPlanResult;
        results: ZoneApplyResult[];
      }>('POST', 'v1/dns/apply', { prune: o.prune === true });
      if (o.json) return out.json(res);
      if (res.provider === null) return out.line('No DNS provider configured (spec: dns).');
      printPlan(out, res.plan, o.prune === true);
      let failed = 0;
      for (const r of res.results) {
        if (r.error !== null) {
          failed++;
          out.line(`zone ${r.zone}: FAILED after ${r.applied.length} change(s): ${r.error}`);
        } else if (r.applied.length > 0)
          out.line(`zone ${r.zone}: applied ${r.applied.length} change(s)`);
      }
      if (failed > 0) throw new CliError(`${failed} zone(s) failed; the others were applied`);
      out.line('DNS is in sync.');
    });

  dns
    .command('status')
    .description("each zone's drift: in_sync, pending or error")
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await ctx.client().request<DnsStatus>('GET', 'v1/dns/status');
      if (o.json) return out.json(s);
      if (s.provider === null && s.zones.length === 0) return out.line('No DNS sync has run yet.');
      out.line(
        `Provider: ${s.provider ?? '-'}; last sync: ${s.last_sync ?? 'never'}${s.syncing ? ' (syncing)' : ''}`,
      );
      out.line(
        table([
          ['ZONE', 'STATE', 'PENDING', 'OBSOLETE', 'UNMANAGED', 'ERROR'],
          ...s.zones.map((z) => [
            z.zone,
            z.state,
            String(z.pending_changes),
            String(z.obsolete),
            String(z.unmanaged),
            z.error ?? '',
          ]),
        ]),
      );
      for (const z of s.zones)
        for (const c of z.conflicts)
          out.line(
            `CONFLICT ${z.zone}: ${c} is not Outpost's, at a name Outpost publishes (its records are served too): remove it by hand`,
          );
    });

  program
    .command('geoip')
    .description('GeoIP data for PowerDNS')
    .command('build')
    .description(
      'convert the CC BY 4.0 ip-location-db country database (npm) into the GeoIP2 layout PowerDNS reads; with --asn, its ASN ranges (npm @ip-location-db/asn) into the GeoLite2-ASN layout asnum() reads',
    )
    .requiredOption('-o, --output <file>', 'where to write the .mmdb (atomically)')
    .option('--asn', 'build the ASN database (for networks: ASNs and line presets) instead')
    .option(
      '--source <file...>',
      'a flat country MMDB (default: @ip-location-db/geo-whois-asn-country-mmdb); with --asn, CSV files of start,end,asn,organisation (default: @ip-location-db/asn asn-ipv4.csv and asn-ipv6.csv)',
    )
    .action(async (o: { output: string; source?: string[]; asn?: boolean }) => {
      const output = resolve(o.output);
      if (o.asn === true) {
        const { buildAsnDatabase, defaultAsnSources } = await import('../../dns/geoip/asn.js');
        const sources =
          o.source !== undefined ? o.source.map((s) => resolve(s)) : defaultAsnSources();
        let r;
        try {
          r = buildAsnDatabase(sources, output);
        } catch (err) {
          throw new CliError(
            `cannot build the ASN database from ${sources.join(', ')}: ${(err as Error).message}`,
          );
        }
        out.line(
          `Wrote ${output}: ${r.ranges} ranges as ${r.networks} networks, ${r.asns} autonomous systems, ${r.bytes} bytes.`,
        );
        out.line(
          'Point PowerDNS at it after the country database: geoip-database-files=mmdb:/var/lib/outpost/geoip2.mmdb mmdb:' +
            output,
        );
        return;
      }
      const { buildGeoipDatabase, defaultGeoipSource } = await import('../../dns/geoip/build.js');
      if ((o.source?.length ?? 0) > 1)
        throw new CliError('--source takes one country MMDB (several files only with --asn)');
      const source = o.source?.[0] !== undefined ? resolve(o.source[0]) : defaultGeoipSource();
      let r;
      try {
        r = buildGeoipDatabase(source, output);
      } catch (err) {
        throw new CliError(
          `cannot build the GeoIP database from ${source}: ${(err as Error).message}`,
        );
      }
      out.line(
        `Wrote ${output}: ${r.networks} networks, ${r.countries} countries, ${r.bytes} bytes.`,
      );
      if (r.unknownCountries.length > 0)
        out.line(
          `No centre known for: ${r.unknownCountries.join(' ')} (written without coordinates).`,
        );
      out.line('Point PowerDNS at it: geoip-database-files=mmdb:' + output);
    });
}
