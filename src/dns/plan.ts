// planDnsRecords: desired state → the record sets GeoDNS should serve. Pure: no clock, I/O or
// randomness. Provider-neutral; it reproduces what the original system's GCore sync sent
// (see docs/dns.md), and each provider turns it into its own records.
import { getDomain } from 'tldts';
import { selectorMatch } from '../spec/selectors.js';
import type { Edge, EdgeMeta, Site, Spec } from '../spec/index.js';

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

export interface HealthCheckPicker {
  type: 'healthcheck';
  protocol: 'http' | 'https';
  port: number;
  uri: string;
  method: 'GET';
  frequency: number;
  timeout: number;
}

export type Picker =
  | { type: 'geodns' }
  | HealthCheckPicker
  | { type: 'weighted_shuffle' }
  | { type: 'first_n'; limit: number };

export interface RRsetPlan {
  zone: string;
  /** Fully qualified, without the trailing dot. */
  name: string;
  type: RRType;
  ttl: number;
  records: PlannedRecord[];
  pickers: Picker[];
  /** The full health-check URL (scheme, host, port, path) when the site has one. */
  healthUrl: string | null;
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
  /** Edges whose records are kept but disabled (drained), e.g. failing health. */
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

export function edgeRecordMeta(edge: Edge): RecordMeta {
  const m: EdgeMeta = edge.meta;
  const meta: RecordMeta = {};
  if (m.asn !== undefined) meta.asn = [...m.asn];
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

export function healthCheckPicker(site: Site): HealthCheckPicker | undefined {
  const hc = site.health_check;
  if (hc === undefined) return undefined;
  const url = new URL(hc.uri);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port !== '' ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return {
    type: 'healthcheck',
    protocol,
    port,
    uri: url.pathname + url.search,
    method: 'GET',
    frequency: hc.frequency,
    timeout: hc.timeout,
  };
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
 * `edge:<name>`; identical meta grouped. Pickers: geodns, healthcheck (when the site has a
 * health check), weighted_shuffle, first_n 1. TTL: the site's dns_ttl. A set without any
 * address is not planned. Sorted by zone, name, type.
 */
export function planDnsRecords(spec: Spec, opts: PlanDnsOptions = {}): DnsRecordPlan {
  const rrsets: RRsetPlan[] = [];
  const problems: PlanProblem[] = [];
  const seen = new Map<string, string>();
  const drained = (m: RecordMeta): boolean => {
    const e = recordEdge(m);
    return e !== undefined && (opts.drainedEdges?.has(e) ?? false);
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
    for (const edge of spec.edges) {
      if (edge.paused || selectorMatch(site.edges, edge) === undefined) continue;
      const meta = edgeRecordMeta(edge);
      if (edge.host.v4 !== undefined) v4.push({ content: edge.host.v4, meta });
      if (edge.host.v6 !== undefined) v6.push({ content: edge.host.v6, meta });
    }
    const hc = healthCheckPicker(site);
    const pickers: Picker[] = [
      { type: 'geodns' },
      ...(hc ? [hc] : []),
      { type: 'weighted_shuffle' },
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
          healthUrl: site.health_check?.uri ?? null,
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
