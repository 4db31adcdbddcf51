// planDnsRecords: desired state → the record sets GeoDNS should serve. Pure: no clock, I/O or
// randomness. Provider-neutral; it reproduces what the original system's GCore sync sent
// (see docs/dns.md), and each provider turns it into its own records.
import { getDomain } from 'tldts';
import { selectorMatch } from '../spec/selectors.js';
import { EDGE_HEALTH_MATCH, EDGE_HEALTH_PATH } from '../spec/edge-health.js';
import { expandNetworks } from '../spec/network-lines.js';
import type { Edge, EdgeMeta, Site, SiteNetworks, Spec } from '../spec/index.js';

export type RRType = 'A' | 'AAAA';

/** Meta of one resource record, keys as GCore names them (sorted when serialised). */
export interface RecordMeta {
  asn?: number[];
  backup?: true;
  continents?: string[];
  countries?: string[];
  latlong?: [number, number];
  notes?: string;
  weight?: number;
}

/** Addresses sharing identical meta form one record (as the original grouped them). */
export interface PlannedRecord {
  content: string[];
  meta: RecordMeta;
  enabled: boolean;
}

/**
 * The Host a DNS health check sends: a reserved name (RFC 2606) no site uses, so the check
 * reaches the edge's default server, which answers the health path itself.
 */
export const EDGE_HEALTH_HOST = 'health.outpost.invalid';

/** The check that decides whether an edge is in the answers: the edge's own health. */
export interface HealthCheckPicker {
  type: 'healthcheck';
  protocol: 'http';
  /** The edges' HTTP port. */
  port: number;
  uri: string;
  host: string;
  method: 'GET';
  /** Seconds between checks (the site's health_check.frequency). */
  frequency: number;
  timeout: number;
  /** Text the body must contain. */
  match: string;
}

/** An optional check through each edge to the origin: preferred edges, never the origin. */
export interface EndToEndCheck {
  url: string;
  match: string | null;
  timeout: number;
}

export type Picker =
  | HealthCheckPicker
  | { type: 'geodns' }
  | { type: 'weighted_shuffle' }
  | { type: 'geodistance' }
  | { type: 'first_n'; limit: number };

export interface RRsetPlan {
  zone: string;
  /** Fully qualified, without the trailing dot. */
  name: string;
  type: RRType;
  ttl: number;
  records: PlannedRecord[];
  pickers: Picker[];
  /** The edge health URL every check fetches (with each edge's address). */
  healthUrl: string;
  /** The site's end-to-end check, when it asks for one. */
  endToEnd: EndToEndCheck | null;
  /** The site this set serves (its primary domain). */
  site: string;
}

export interface PlanProblem {
  site: string;
  message: string;
}

export interface DnsRecordPlan {
  rrsets: RRsetPlan[];
  problems: PlanProblem[];
}

export interface PlanDnsOptions {
  /** Edges whose records are kept but disabled, besides those the spec drains (`drain: true`). */
  drainedEdges?: ReadonlySet<string>;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The zone a name belongs to, by the public suffix list; undefined when it has none. */
export function zoneOf(name: string): string | undefined {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return getDomain(bare) ?? undefined;
}

/** JSON with sorted keys: the original's grouping key (`json.dumps(meta, sort_keys=True)`). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => sortKeys(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(byString))
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out as T;
  }
  return value;
}

/**
 * The site's `networks` entry for `edge`: the first naming it, else the first selecting it by
 * tag or `*` (the precedence of modifiers and WAF overrides); undefined when none does.
 */
export function siteNetworksFor(site: Site, edge: Edge): SiteNetworks | undefined {
  const entries = site.networks ?? [];
  return (
    entries.find((n) => selectorMatch(n.edges, edge)?.level === 'edge') ??
    entries.find((n) => selectorMatch(n.edges, edge) !== undefined)
  );
}

/**
 * The ASNs GeoDNS answers with `edge` first (issue 22): the site's `networks` entry for the
 * edge when it has one, else the edge's `networks` and `meta.asn`; line presets expanded,
 * sorted, deduplicated. Precedence of the answer (docs/dns.md, the same on every provider):
 * network match first, then country, continent, nearest by coordinates.
 */
export function edgeAsns(edge: Edge, site?: Site): number[] {
  const override = site !== undefined ? siteNetworksFor(site, edge) : undefined;
  if (override !== undefined) return expandNetworks(override);
  return expandNetworks({
    asns: [...(edge.meta.asn ?? []), ...(edge.networks?.asns ?? [])],
    lines: edge.networks?.lines,
  });
}

/** The record meta of `edge` (in `site`'s records, whose `networks` may override the edge's). */
export function edgeRecordMeta(edge: Edge, site?: Site): RecordMeta {
  const m: EdgeMeta = edge.meta;
  const meta: RecordMeta = {};
  const asn = edgeAsns(edge, site);
  if (asn.length > 0) meta.asn = asn;
  if (m.continents !== undefined) meta.continents = [...m.continents];
  if (m.countries !== undefined) meta.countries = [...m.countries];
  if (m.latlong !== undefined) meta.latlong = [m.latlong[0], m.latlong[1]];
  if (m.weight !== undefined) meta.weight = m.weight;
  meta.notes =
    m.notes !== undefined && m.notes !== '' ? `${m.notes}; edge:${edge.name}` : `edge:${edge.name}`;
  return sortKeys(meta);
}

/** The edge a record stands for, from its `edge:<name>` note; undefined for origins. */
export function recordEdge(meta: RecordMeta): string | undefined {
  return /(?:^|; )edge:([a-z0-9-]+)$/.exec(meta.notes ?? '')?.[1];
}

/** The edge self-health check of a site whose edges listen for HTTP on `port`. */
export function healthCheckPicker(site: Site, port: number): HealthCheckPicker {
  return {
    type: 'healthcheck',
    protocol: 'http',
    port,
    uri: EDGE_HEALTH_PATH,
    host: EDGE_HEALTH_HOST,
    method: 'GET',
    frequency: site.health_check?.frequency ?? 60,
    timeout: site.health_check?.timeout ?? 5,
    match: EDGE_HEALTH_MATCH,
  };
}

export function endToEndCheck(site: Site): EndToEndCheck | null {
  const hc = site.health_check;
  if (hc?.uri === undefined) return null;
  return { url: hc.uri, match: hc.match ?? null, timeout: hc.timeout };
}

function group(
  values: { content: string; meta: RecordMeta }[],
  drained: (m: RecordMeta) => boolean,
): PlannedRecord[] {
  const groups = new Map<string, PlannedRecord>();
  for (const v of values) {
    const enabled = !drained(v.meta);
    const key = canonicalJson({ meta: v.meta, enabled });
    const g = groups.get(key);
    if (g) g.content.push(v.content);
    else groups.set(key, { content: [v.content], meta: v.meta, enabled });
  }
  return [...groups.values()];
}

/**
 * The record sets for every site: per name (the domain, then each alias) an A and an AAAA
 * set in the zone found with the public suffix list. Records: the site's origin addresses as
 * `backup`, then every non-paused edge that serves the site, with its meta and a note
 * `edge:<name>`; identical meta grouped; drained edges (spec `drain` or `opts`) disabled.
 * Pickers: healthcheck (the edge's own health), geodns, weighted_shuffle, geodistance,
 * first_n 1. TTL: the site's dns_ttl. A set without any
 * address is not planned. Sorted by zone, name, type.
 */
export function planDnsRecords(spec: Spec, opts: PlanDnsOptions = {}): DnsRecordPlan {
  const rrsets: RRsetPlan[] = [];
  const problems: PlanProblem[] = [];
  const seen = new Map<string, string>();
  const specDrained = new Set(spec.edges.filter((e) => e.drain).map((e) => e.name));
  const drained = (m: RecordMeta): boolean => {
    const e = recordEdge(m);
    return e !== undefined && (specDrained.has(e) || (opts.drainedEdges?.has(e) ?? false));
  };

  for (const site of spec.sites) {
    const v4: { content: string; meta: RecordMeta }[] = [];
    const v6: { content: string; meta: RecordMeta }[] = [];
    for (const origin of site.origins) {
      if (typeof origin.host === 'string') {
        problems.push({
          site: site.domain,
          message: `origin ${origin.host} is a hostname, not addresses: it is not published as a DNS backup`,
        });
        continue;
      }
      if (origin.host.v4 !== undefined)
        v4.push({ content: origin.host.v4, meta: { backup: true } });
      if (origin.host.v6 !== undefined)
        v6.push({ content: origin.host.v6, meta: { backup: true } });
    }
    const ports = new Set<number>();
    for (const edge of spec.edges) {
      if (edge.paused || selectorMatch(site.edges, edge) === undefined) continue;
      const meta = edgeRecordMeta(edge, site);
      ports.add(edge.listen.http);
      if (edge.host.v4 !== undefined) v4.push({ content: edge.host.v4, meta });
      if (edge.host.v6 !== undefined) v6.push({ content: edge.host.v6, meta });
    }
    const port = Math.min(...ports, ...(ports.size === 0 ? [80] : []));
    if (ports.size > 1)
      problems.push({
        site: site.domain,
        message: `its edges listen for HTTP on different ports (${[...ports].sort((a, b) => a - b).join(', ')}): DNS health checks use one port, ${port}`,
      });
    const hc = healthCheckPicker(site, port);
    const healthUrl = `http://${hc.host}${port === 80 ? '' : `:${port}`}${hc.uri}`;
    // The order is GCore's ("What Healthcheck are and how to configure them", "Dynamic
    // response": pickers run in the order given, each narrowing what the previous left), and
    // PowerDNS's Lua follows the same steps: (1) healthcheck first, so that a dead edge is
    // gone before geo narrowing (geodns first would leave a user in Germany whose only
    // match is a dead Frankfurt edge with that dead edge); backups (the origins) only when no
    // edge is healthy; (2) geodns: the edges listing the client's ASN (the edge's `networks`:
    // ASNs and line presets, expanded by edgeAsns; GCore's "Create RRset", "geodns filter":
    // a record's `ip`, then `asn`, then countries, continents are considered in that order),
    // else country, else continent, else all that are left (not strict); (3) weighted_shuffle
    // by weight, then
    // (4) geodistance: nearest by coordinates (a stable sort, so the weights order edges at
    // equal distance or without coordinates); (5) first_n 1.
    const pickers: Picker[] = [
      hc,
      { type: 'geodns' },
      { type: 'weighted_shuffle' },
      { type: 'geodistance' },
      { type: 'first_n', limit: 1 },
    ];
    for (const name of [site.domain, ...site.aliases]) {
      const zone = zoneOf(name);
      if (zone === undefined) {
        problems.push({
          site: site.domain,
          message: `${name} has no registrable domain: no zone to publish it in`,
        });
        continue;
      }
      const owner = seen.get(name);
      if (owner !== undefined) {
        problems.push({
          site: site.domain,
          message: `${name} is already published for site ${owner}`,
        });
        continue;
      }
      seen.set(name, site.domain);
      for (const [type, values] of [
        ['A', v4],
        ['AAAA', v6],
      ] as const) {
        if (values.length === 0) continue;
        rrsets.push({
          zone,
          name,
          type,
          ttl: site.dns_ttl,
          records: group(values, drained),
          pickers: pickers.map((p) => ({ ...p })),
          healthUrl,
          endToEnd: endToEndCheck(site),
          site: site.domain,
        });
      }
    }
  }
  rrsets.sort(
    (a, b) => byString(a.zone, b.zone) || byString(a.name, b.name) || byString(a.type, b.type),
  );
  return { rrsets, problems };
}
