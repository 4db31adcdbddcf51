// Named network presets ("线路"): the ASNs of China's carriers and what DNSPod and Alibaba
// Cloud DNS call their line. MINIMAL VERSION written by the DNS-providers branch for its line
// mapping; the steering-by-network branch owns the full file (same shape, more presets and
// sources) and replaces this one at merge.
//
// Sources: each ASN's holder as registered at APNIC (whois.apnic.net, "as-name"/"descr");
// line names from DNSPod's "解析线路" list (DescribeRecordLineList: 电信, 联通, 移动, 教育网)
// and Alibaba Cloud DNS's line enumeration (解析线路枚举: telecom, unicom, mobile, edu).

export interface NetworkLine {
  /** What a person reads. */
  readonly title: string;
  /** The networks' autonomous system numbers. */
  readonly asns: readonly number[];
  /** Where the ASN list comes from. */
  readonly source: string;
  /** DNSPod's RecordLine for these networks. */
  readonly dnspod: string;
  /** Alibaba Cloud DNS's Line for these networks. */
  readonly alidns: string;
}

/** When the lists below were last checked against their sources. */
export const NETWORK_LINES_DATE = '2026-12-01';

export const NETWORK_LINES: Readonly<Record<string, NetworkLine>> = {
  'china-telecom': {
    title: 'China Telecom (163 backbone AS4134, CN2 AS4809)',
    asns: [4134, 4809, 4812],
    source: 'APNIC whois: AS4134 CHINANET-BACKBONE, AS4809 CHINATELECOM-CN2, AS4812 CHINANET-SH-AP',
    dnspod: '电信',
    alidns: 'telecom',
  },
  'china-unicom': {
    title: 'China Unicom (AS4837, AS9929)',
    asns: [4837, 9929, 17621, 17816],
    source:
      'APNIC whois: AS4837 CHINA169-BACKBONE, AS9929 CNCNET-CN, AS17621 CNCGROUP-SH, AS17816 CHINA169-GZ',
    dnspod: '联通',
    alidns: 'unicom',
  },
  'china-mobile': {
    title: 'China Mobile (AS9808, AS56040, CMI AS58453)',
    asns: [9808, 56040, 56041, 56046, 58453],
    source: 'APNIC whois: AS9808 CMNET-GD, AS56040/56041/56046 CMNET provinces, AS58453 CMI-INT',
    dnspod: '移动',
    alidns: 'mobile',
  },
  'china-education': {
    title: 'CERNET, China Education and Research Network (AS4538, AS23910)',
    asns: [4538, 23910],
    source: 'APNIC whois: AS4538 ERX-CERNET-BKB, AS23910 CNGI-CERNET2',
    dnspod: '教育网',
    alidns: 'edu',
  },
};
