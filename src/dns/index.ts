export type { DnsLogger, DnsProvider, DnsProviderOptions, ProviderRRset } from './provider.js';
