// Named network ("line", 线路) presets that edges and sites name in `networks.lines`: each
// expands to the autonomous systems of one carrier network, for GeoDNS steering by the
// client's ASN (GCore `asn` meta, PowerDNS `asnum()`), and carries the line name the Chinese
// DNS providers use for the same network (DNSPod's line name, Alibaba Cloud DNS's line code).
// The one data file of the presets: src/dns/network-lines.ts re-exports it for the providers
// (it lives in spec/ because validation, which may import nothing of ours, checks the names).
//
// How the lists were made: every ASN whose registered organisation is the carrier in the
// ip-location-db `asn` data set (npm @ip-location-db/asn 2.3.2026061719, built 2026-06-17 from
// RouteViews, the five RIRs' delegation files and DB-IP's IP-to-ASN Lite, CC BY 4.0), keeping
// the backbones the carriers publish as products (163/CHINANET, CN2, China169, CUII 9929, CMNET,
// CMI) and the provincial and IDC networks with the most announced ranges in that data set.
// A carrier has more ASNs than listed (small provincial ones); name them with `asns` beside
// the line. Refresh: re-run the same selection over a newer data set and change the date.

export interface NetworkLine {
  /** What the line is, in English. */
  title: string;
  /** The autonomous systems of the line, ascending. */
  asns: number[];
  /** Where the list comes from. */
  source: string;
  /** DNSPod's (Tencent Cloud) line name for the same network. */
  dnspod: string;
  /** Alibaba Cloud DNS's line code for the same network. */
  alidns: string;
}

/** The day the ASN lists were read from their source. */
export const NETWORK_LINES_DATE = '2026-06-17';

const SOURCE =
  'ASNs registered to the carrier in ip-location-db asn (npm @ip-location-db/asn 2.3.2026061719: RouteViews, RIR delegations, DB-IP ASN Lite; CC BY 4.0), 2026-06-17';

/** The presets by name. */
export const NETWORK_LINES: Readonly<Record<string, NetworkLine>> = {
  'china-telecom': {
    title:
      'China Telecom: CHINANET 163 backbone (AS4134), CN2 (AS4809), provincial and IDC networks, China Telecom Global (AS23764)',
    asns: [4134, 4809, 4811, 4812, 4816, 4835, 23724, 23764, 58461, 58466, 140292, 140293],
    source: SOURCE,
    dnspod: '电信',
    alidns: 'telecom',
  },
  'china-telecom-cn2': {
    title:
      'China Telecom CN2, the premium network (CN2 GT/GIA, AS4809) and China Telecom Global (AS23764) that carries it abroad',
    asns: [4809, 23764],
    source: SOURCE,
    dnspod: '电信',
    alidns: 'telecom',
  },
  'china-unicom': {
    title:
      'China Unicom: China169 backbone (AS4837), CUII/9929 (AS9929), China Unicom Hong Kong (AS10099) and provincial networks',
    asns: [4808, 4837, 9929, 10099, 17621, 17622, 17623, 17816, 136958],
    source: SOURCE,
    dnspod: '联通',
    alidns: 'unicom',
  },
  'china-unicom-9929': {
    title:
      'China Unicom CUII (Industrial Internet backbone, "9929", AS9929) and China Unicom Hong Kong (AS10099)',
    asns: [9929, 10099],
    source: SOURCE,
    dnspod: '联通',
    alidns: 'unicom',
  },
  'china-mobile': {
    title:
      'China Mobile: CMNET backbone (AS9808), provincial networks (AS56040-56048, AS24400, …), China TieTong (AS9394), CMI (AS58453, AS58807) and China Mobile Hong Kong (AS9231)',
    asns: [
      9231, 9394, 9808, 24400, 24444, 24445, 24547, 38019, 56040, 56041, 56044, 56046, 56047, 56048,
      58453, 58807,
    ],
    source: SOURCE,
    dnspod: '移动',
    alidns: 'mobile',
  },
  'china-mobile-cmi': {
    title: 'China Mobile International (CMI, AS58453; CMIN2, AS58807)',
    asns: [58453, 58807],
    source: SOURCE,
    dnspod: '移动',
    alidns: 'mobile',
  },
  'china-education': {
    title: 'CERNET, the China Education and Research Network (AS4538), and CERNET2 (AS23910)',
    asns: [4538, 23910],
    source: SOURCE,
    dnspod: '教育网',
    alidns: 'edu',
  },
};

/** The preset names, sorted (error messages, docs). */
export const NETWORK_LINE_NAMES: readonly string[] = Object.keys(NETWORK_LINES).sort();

export function isNetworkLineName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(NETWORK_LINES, name);
}

/** The ASNs of `asns` and of every line in `lines`, deduplicated and ascending. */
export function expandNetworks(networks: {
  asns?: readonly number[] | undefined;
  lines?: readonly string[] | undefined;
}): number[] {
  const out = new Set<number>(networks.asns ?? []);
  for (const l of networks.lines ?? []) {
    const line = isNetworkLineName(l) ? NETWORK_LINES[l] : undefined;
    for (const a of line?.asns ?? []) out.add(a);
  }
  return [...out].sort((a, b) => a - b);
}
