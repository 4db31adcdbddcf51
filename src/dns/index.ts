// DNS: desired record sets (pure), providers behind one interface, plan/apply/prune, sync.
import type { DnsSettings } from '../spec/index.js';
import { AlidnsProvider } from './alidns.js';
import { CloudflareProvider } from './cloudflare.js';
import { DnspodProvider } from './dnspod.js';
import { GcoreProvider } from './gcore.js';
import { PowerDnsProvider } from './powerdns.js';
import type { DnsProvider, DnsProviderOptions } from './provider.js';

export type { DnsLogger, DnsProvider, DnsProviderOptions, ProviderRRset } from './provider.js';
export { DnsProviderError, zoneFor } from './provider.js';
export { EdgeChecks } from './edge-checks.js';
export { planDnsRecords, zoneOf } from './plan.js';
export type { DnsRecordPlan, RRsetPlan, PlannedRecord, Picker, RecordMeta } from './plan.js';
export { planDnsChanges, applyDnsPlan, diffZone } from './sync.js';
export type { DnsPlanResult, ZonePlan, DnsChange, ZoneApplyResult } from './sync.js';

/** Providers by settings type; each adapter is checked against the interface. */
const registry = {
  powerdns: (s: Extract<DnsSettings, { provider: 'powerdns' }>, o: DnsProviderOptions) =>
    new PowerDnsProvider(s, o),
  gcore: (s: Extract<DnsSettings, { provider: 'gcore' }>, o: DnsProviderOptions) =>
    new GcoreProvider(s, o),
  cloudflare: (s: Extract<DnsSettings, { provider: 'cloudflare' }>, o: DnsProviderOptions) =>
    new CloudflareProvider(s, o),
  dnspod: (s: Extract<DnsSettings, { provider: 'dnspod' }>, o: DnsProviderOptions) =>
    new DnspodProvider(s, o),
  alidns: (s: Extract<DnsSettings, { provider: 'alidns' }>, o: DnsProviderOptions) =>
    new AlidnsProvider(s, o),
} satisfies {
  [K in DnsSettings['provider']]: (
    s: Extract<DnsSettings, { provider: K }>,
    o: DnsProviderOptions,
  ) => DnsProvider;
};

/** The provider the spec's `dns` settings name. Resolves the credential reference now. */
export function createDnsProvider(settings: DnsSettings, opts: DnsProviderOptions): DnsProvider {
  switch (settings.provider) {
    case 'powerdns':
      return registry.powerdns(settings, opts);
    case 'gcore':
      return registry.gcore(settings, opts);
    case 'cloudflare':
      return registry.cloudflare(settings, opts);
    case 'dnspod':
      return registry.dnspod(settings, opts);
    case 'alidns':
      return registry.alidns(settings, opts);
  }
}
