// The lab's hosts: who they are, where they stand and which addresses they have. Pure data:
// the network (netns.ts), the GeoIP database (geoip.ts) and the story read it. Every address
// is in 10.200.0.0/16 or fd00:200::/64 and exists only inside the lab's namespaces.
//
// To add a host: add a row here (a unique `id` 2-250 gives it 10.200.<block>.<id> and
// fd00:200::<block>:<id>), give it a place; an edge also needs a row in EDGE_META. See
// docs/lab.md.

export type HostKind = 'cp' | 'origin' | 'dns' | 'resolver' | 'acme' | 'edge' | 'client';

export interface Place {
  /** Where the host stands: latency between two hosts follows the distance. */
  latlong: [number, number];
  /** ISO 3166 code the lab's GeoIP data gives the host's /24. */
  country: string;
}

export interface LabHost {
  name: string;
  kind: HostKind;
  /** Third octet of the address: one /24 per country, so GeoIP can tell them apart. */
  block: number;
  id: number;
  place: Place;
}

const FRANKFURT: [number, number] = [50.1, 8.7];

export const HOSTS: readonly LabHost[] = [
  // infrastructure, in Frankfurt (block 1: DE)
  { name: 'cp', kind: 'cp', block: 1, id: 2, place: { latlong: FRANKFURT, country: 'DE' } },
  { name: 'dns', kind: 'dns', block: 1, id: 3, place: { latlong: FRANKFURT, country: 'DE' } },
  {
    name: 'resolver',
    kind: 'resolver',
    block: 1,
    id: 4,
    place: { latlong: FRANKFURT, country: 'DE' },
  },
  { name: 'acme', kind: 'acme', block: 1, id: 5, place: { latlong: FRANKFURT, country: 'DE' } },
  {
    name: 'origin',
    kind: 'origin',
    block: 1,
    id: 6,
    place: { latlong: [52.4, 4.9], country: 'NL' },
  },
  // edges (block 2)
  { name: 'fra', kind: 'edge', block: 2, id: 10, place: { latlong: FRANKFURT, country: 'DE' } },
  {
    name: 'iad',
    kind: 'edge',
    block: 2,
    id: 11,
    place: { latlong: [38.9, -77.0], country: 'US' },
  },
  {
    name: 'sin',
    kind: 'edge',
    block: 2,
    id: 12,
    place: { latlong: [1.35, 103.8], country: 'SG' },
  },
  {
    name: 'gru',
    kind: 'edge',
    block: 2,
    id: 13,
    place: { latlong: [-23.5, -46.6], country: 'BR' },
  },
  {
    name: 'hk',
    kind: 'edge',
    block: 2,
    id: 14,
    place: { latlong: [22.3, 114.2], country: 'HK' },
  },
  // clients, one /24 per country
  {
    name: 'de',
    kind: 'client',
    block: 10,
    id: 20,
    place: { latlong: [52.5, 13.4], country: 'DE' },
  },
  {
    name: 'us',
    kind: 'client',
    block: 11,
    id: 20,
    place: { latlong: [40.7, -74.0], country: 'US' },
  },
  {
    name: 'jp',
    kind: 'client',
    block: 12,
    id: 20,
    place: { latlong: [35.7, 139.7], country: 'JP' },
  },
  {
    name: 'br',
    kind: 'client',
    block: 13,
    id: 20,
    place: { latlong: [-22.9, -43.2], country: 'BR' },
  },
];

/** What the spec says about each edge (GeoDNS meta) and its bandwidth. */
export const EDGE_META: Record<
  string,
  { continents?: string[]; countries?: string[]; bandwidthMbps?: number }
> = {
  fra: { continents: ['EU'] },
  iad: { continents: ['NA'] },
  sin: { continents: ['AS'] },
  gru: { continents: ['SA'] },
  // the original system's slow node: 30 Mbit/s, shaped with tc tbf
  hk: { countries: ['HK', 'JP'], bandwidthMbps: 30 },
};

export const V4_PREFIX = '10.200';
export const V6_PREFIX = 'fd00:200::';

export function v4(h: LabHost): string {
  return `${V4_PREFIX}.${h.block}.${h.id}`;
}
export function v6(h: LabHost): string {
  return `${V6_PREFIX}${h.block.toString(16)}:${h.id.toString(16)}`;
}

export function host(name: string): LabHost {
  const h = HOSTS.find((x) => x.name === name);
  if (h === undefined) throw new Error(`no lab host "${name}"`);
  return h;
}

export const edges = (): LabHost[] => HOSTS.filter((h) => h.kind === 'edge');
export const clients = (): LabHost[] => HOSTS.filter((h) => h.kind === 'client');

/** Great-circle distance in km. */
export function distanceKm(a: [number, number], b: [number, number]): number {
  const r = (d: number) => (d * Math.PI) / 180;
  const dLat = r(b[0] - a[0]);
  const dLon = r(b[1] - a[1]);
  const s =
    Math.sin(dLat / 2) ** 2 + Math.cos(r(a[0])) * Math.cos(r(b[0])) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(s));
}

/**
 * Round-trip time between two places, as the internet adds it: 5 ms of access and routing
 * plus about 1 ms per 65 km (fibre paths are longer than great circles). FRA–SIN: ~163 ms;
 * a Berlin client to FRA: ~13 ms.
 */
export function rttMs(a: LabHost, b: LabHost): number {
  return Math.round(5 + distanceKm(a.place.latlong, b.place.latlong) / 65);
}

/** The edge a client should get with every edge up, and when one is down (by distance). */
export function nearestEdge(client: LabHost, down: readonly string[] = []): string {
  let best = '';
  let bestKm = Infinity;
  for (const e of edges()) {
    if (down.includes(e.name)) continue;
    const km = distanceKm(client.place.latlong, e.place.latlong);
    if (km < bestKm) {
      best = e.name;
      bestKm = km;
    }
  }
  return best;
}
