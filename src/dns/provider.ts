// The small interface every DNS back end implements (PowerDNS, GCore). Plan/apply/prune and
// ACME DNS-01 talk only to this; a new provider is one file plus the shared contract test.
import type { DnsSettings } from '../spec/index.js';

/** The logger subset providers use (pino-compatible). */
export interface DnsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * One record set as the provider stores it, normalised so that two equal sets are deeply
 * equal (`body` holds the provider-native records, pickers, meta, in a canonical order).
 */
export interface ProviderRRset {
  /** Fully qualified, lowercase, without the trailing dot. */
  name: string;
  /** The provider's record type: 'A', 'AAAA', 'TXT', 'LUA', … */
  type: string;
  ttl: number;
  /** Provider-native content, canonical: compared with deep equality to decide a change. */
  body: unknown;
  /** Outpost wrote this set and marked it as its own (only such sets are ever replaced or pruned). */
  managed: boolean;
}

export interface DnsProvider {
  readonly kind: 'powerdns' | 'gcore';
  /** Zones the account can edit (names without trailing dot). */
  listZones(): Promise<string[]>;
  /** Every record set of a zone, managed or not. */
  listRRsets(zone: string): Promise<ProviderRRset[]>;
  /** Creates a record set (marked as managed by Outpost). */
  createRRset(zone: string, rrset: ProviderRRset): Promise<void>;
  /** Replaces a record set wholesale (marked as managed by Outpost). */
  replaceRRset(zone: string, rrset: ProviderRRset): Promise<void>;
  /** Deletes a record set. */
  deleteRRset(zone: string, name: string, type: string): Promise<void>;
  /** ACME DNS-01: add `value` to the TXT RRset at `fqdn` (no trailing dot), keeping other values. */
  setTxt(fqdn: string, value: string): Promise<void>;
  /** Remove `value` from that TXT RRset (delete the RRset when empty). */
  removeTxt(fqdn: string, value: string): Promise<void>;
  /** "ip:port" of authoritative servers to check propagation against (may be empty). */
  authoritativeServers(fqdn: string): Promise<string[]>;
}

export interface DnsProviderOptions {
  /** Variables `env:NAME` secret references read (the control plane's injected env). */
  secretVars: Readonly<Record<string, string | undefined>>;
  logger?: DnsLogger;
  fetch?: typeof globalThis.fetch;
}

export type { DnsSettings };
