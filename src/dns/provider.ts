// The small interface every DNS back end implements (PowerDNS, GCore, Cloudflare, DNSPod,
// Alibaba Cloud DNS). Plan/apply/prune and
// ACME DNS-01 talk only to this; a new provider is one file plus the shared contract test.
import type { DnsSettings } from '../spec/index.js';
import type { RRsetPlan } from './plan.js';
import type { WarmAnswer } from './warm.js';

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

/** A user-visible failure of a provider (bad credentials, missing zone, API error). */
export class DnsProviderError extends Error {
  constructor(
    readonly code: 'auth' | 'zone_missing' | 'api' | 'invalid_record' | 'network',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DnsProviderError';
  }
}

export interface DnsProvider {
  readonly kind: DnsProviderKind;
  /**
   * 'outpost': the provider serves plain records and checks no edge health that Outpost
   * drives, so the DNS sync checks the edges itself and publishes only the healthy ones
   * (edge-checks.ts, answer-sets.ts). Absent: the provider checks edge health (PowerDNS
   * `ifurlup`, GCore failover).
   */
  readonly healthChecks?: 'outpost';
  /** Record types Outpost writes here; unmanaged sets of these types are reported. */
  readonly managedTypes: readonly string[];
  /** Zones the account can edit (names without trailing dot). */
  listZones(): Promise<string[]>;
  /** Makes sure `zone` exists (PowerDNS creates it; GCore throws zone_missing). */
  ensureZone(zone: string): Promise<void>;
  /** Every record set of a zone, managed or not. */
  listRRsets(zone: string): Promise<ProviderRRset[]>;
  /**
   * The planned sets of one zone as this provider's sets (managed: true). May merge sets
   * (PowerDNS puts A and AAAA in one LUA set). Throws invalid_record when a generated
   * record does not check (e.g. Lua that does not parse): nothing broken is published.
   */
  render(rrsets: readonly RRsetPlan[]): ProviderRRset[];
  /** Creates a record set (marked as managed by Outpost). */
  createRRset(zone: string, rrset: ProviderRRset): Promise<void>;
  /** Replaces a record set wholesale (marked as managed by Outpost). */
  replaceRRset(zone: string, rrset: ProviderRRset): Promise<void>;
  /** Deletes a record set. */
  deleteRRset(zone: string, name: string, type: string): Promise<void>;
  /** After a zone's changes were written (PowerDNS: query each set once to start checks). */
  afterApply?(zone: string, written: readonly ProviderRRset[]): Promise<void>;
  /**
   * Queries each set once at the provider's own DNS service (PowerDNS: `dns_servers`), so
   * that its health checks run; returns what it answered. Absent: nothing to keep warm.
   */
  warm?(rrsets: readonly RRsetPlan[]): Promise<WarmAnswer[]>;
  /** Seconds since the DNS server started (PowerDNS statistics), to notice a restart. */
  uptimeSeconds?(): Promise<number | undefined>;
  /** ACME DNS-01: add `value` to the TXT RRset at `fqdn` (no trailing dot), keeping other values. */
  setTxt(fqdn: string, value: string): Promise<void>;
  /** Remove `value` from that TXT RRset (delete the RRset when empty). */
  removeTxt(fqdn: string, value: string): Promise<void>;
  /** "ip:port" of authoritative servers to check propagation against (may be empty). */
  authoritativeServers(fqdn: string): Promise<string[]>;
}

export type DnsProviderKind = DnsSettings['provider'];

export interface DnsProviderOptions {
  /** Variables `env:NAME` secret references read (the control plane's injected env). */
  secretVars: Readonly<Record<string, string | undefined>>;
  logger?: DnsLogger;
  fetch?: typeof globalThis.fetch;
  /** First retry delay in ms (doubles each try; Retry-After wins). Default 500. */
  retryBaseMs?: number;
}

/** A DNS name as providers compare it: lowercase, without the trailing dot. */
export function canonicalName(fqdn: string): string {
  return fqdn.toLowerCase().replace(/\.$/, '');
}

/** The zone among `zones` that holds `fqdn` (longest suffix), or undefined. */
export function zoneFor(fqdn: string, zones: readonly string[]): string | undefined {
  const name = canonicalName(fqdn);
  let best: string | undefined;
  for (const z of zones) {
    if ((name === z || name.endsWith(`.${z}`)) && (best === undefined || z.length > best.length))
      best = z;
  }
  return best;
}

/** zoneFor, or a zone_missing error naming the API and the name (ACME DNS-01 TXT records). */
export function requireZoneFor(fqdn: string, zones: readonly string[], api: string): string {
  const zone = zoneFor(fqdn, zones);
  if (zone === undefined)
    throw new DnsProviderError('zone_missing', `${api} has no zone that holds ${fqdn}`);
  return zone;
}

export const noopLogger: DnsLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export type { DnsSettings };
