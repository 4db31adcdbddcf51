// The network line presets (ISP lines, 线路) for the DNS providers: GeoDNS steering by ASN
// (GCore, PowerDNS) and the line names of DNSPod and Alibaba Cloud DNS. The data lives in
// src/spec/network-lines.ts, its one file, because the spec's validation (which may import
// nothing of ours: docs/architecture.md) refuses unknown line names with the known ones.
export {
  expandNetworks,
  isNetworkLineName,
  NETWORK_LINE_NAMES,
  NETWORK_LINES,
  NETWORK_LINES_DATE,
  type NetworkLine,
} from '../spec/network-lines.js';
