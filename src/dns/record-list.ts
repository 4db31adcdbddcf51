// The shared half of the providers that hold one record per address (Cloudflare, DNSPod,
// Alibaba Cloud DNS): a planned set becomes plain records (answer-sets.ts: the healthy edges,
// per ISP line where the provider has lines), read back grouped by name and type into one
// ProviderRRset whose body is the sorted list of (line, value). Each record carries the
// provider's comment/remark field with the ownership mark; a set is Outpost's when every
// record of it is marked. A replace writes record by record: new records first, then updates,
// then deletions, so a name is never left without an answer between two calls.
import { answerRecords, type LineRecord, type LineVocabulary } from './answer-sets.js';
import type { RRsetPlan } from './plan.js';
import {
  canonicalName,
  DnsProviderError,
  requireZoneFor,
  type DnsProvider,
  type DnsProviderKind,
  type ProviderRRset,
} from './provider.js';

/** The mark in every record's comment/remark: how Outpost knows what it owns. */
export const OUTPOST_MARK = '[outpost]';
export const OUTPOST_REMARK = `managed by Outpost ${OUTPOST_MARK}`;

export interface ListedRecord {
  id: string;
  /** Fully qualified, lowercase, without the trailing dot. */
  name: string;
  type: string;
  /** The provider's line ('' where it has none). */
  line: string;
  value: string;
  ttl: number;
  /** The comment/remark carries OUTPOST_MARK. */
  owned: boolean;
}

export interface RecordWrite {
  name: string;
  type: string;
  line: string;
  value: string;
  ttl: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortRecords = (rs: LineRecord[]): LineRecord[] =>
  [...rs].sort((a, b) => byString(a.line, b.line) || byString(a.value, b.value));

export abstract class RecordListProvider implements DnsProvider {
  abstract readonly kind: DnsProviderKind;
  readonly healthChecks = 'outpost' as const;
  readonly managedTypes: readonly string[] = ['A', 'AAAA'];
  /** Names the API in errors. */
  protected abstract readonly api: string;
  /** The provider's lines; undefined: one answer set per name. */
  protected abstract readonly lines: LineVocabulary | undefined;
  /** TTL of ACME TXT records (the provider's smallest on a basic plan). */
  protected abstract readonly txtTtl: number;

  abstract listZones(): Promise<string[]>;
  /** Every record of the zone (all types), paginated by the implementation. */
  protected abstract listRecords(zone: string): Promise<ListedRecord[]>;
  protected abstract createRecord(zone: string, r: RecordWrite): Promise<void>;
  protected abstract updateRecord(zone: string, id: string, r: RecordWrite): Promise<void>;
  protected abstract deleteRecord(zone: string, id: string): Promise<void>;

  async ensureZone(zone: string): Promise<void> {
    if (!(await this.listZones()).includes(zone))
      throw new DnsProviderError(
        'zone_missing',
        `${this.api} has no zone ${zone} that this credential can edit: add it in ${this.api} first`,
      );
  }

  async listRRsets(zone: string): Promise<ProviderRRset[]> {
    const groups = new Map<string, ListedRecord[]>();
    for (const r of await this.listRecords(zone)) {
      const k = `${r.name} ${r.type}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    return [...groups.values()].map((rs) => ({
      name: rs[0]?.name ?? '',
      type: rs[0]?.type ?? '',
      ttl: Math.min(...rs.map((r) => r.ttl)),
      body: sortRecords(rs.map((r) => ({ line: r.line, value: r.value }))),
      managed: rs.every((r) => r.owned),
    }));
  }

  render(rrsets: readonly RRsetPlan[]): ProviderRRset[] {
    return rrsets.map((r) => ({
      name: r.name,
      type: r.type,
      ttl: r.ttl,
      body: answerRecords(r, this.lines),
      managed: true,
    }));
  }

  private wanted(rrset: ProviderRRset): RecordWrite[] {
    return (rrset.body as LineRecord[]).map((r) => ({
      name: rrset.name,
      type: rrset.type,
      line: r.line,
      value: r.value,
      ttl: rrset.ttl,
    }));
  }

  private async current(zone: string, name: string, type: string): Promise<ListedRecord[]> {
    return (await this.listRecords(zone)).filter((r) => r.name === name && r.type === type);
  }

  async createRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    for (const w of this.wanted(rrset)) await this.createRecord(zone, w);
  }

  async replaceRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    const current = await this.current(zone, rrset.name, rrset.type);
    const key = (r: { line: string; value: string }) => `${r.line}\u0000${r.value}`;
    const have = new Map(current.map((r) => [key(r), r]));
    const want = this.wanted(rrset);
    const missing = want.filter((w) => !have.has(key(w)));
    const wantKeys = new Set(want.map(key));
    const extra = current.filter((r) => !wantKeys.has(key(r)));
    for (const w of missing) await this.createRecord(zone, w);
    for (const w of want) {
      const h = have.get(key(w));
      if (h !== undefined && (h.ttl !== w.ttl || !h.owned)) await this.updateRecord(zone, h.id, w);
    }
    for (const r of extra) await this.deleteRecord(zone, r.id);
  }

  async deleteRRset(zone: string, name: string, type: string): Promise<void> {
    for (const r of await this.current(zone, name, type)) await this.deleteRecord(zone, r.id);
  }

  async setTxt(fqdn: string, value: string): Promise<void> {
    const zone = requireZoneFor(fqdn, await this.listZones(), this.api);
    const name = canonicalName(fqdn);
    if ((await this.current(zone, name, 'TXT')).some((r) => r.value === value)) return;
    await this.createRecord(zone, {
      name,
      type: 'TXT',
      line: this.lines?.default ?? '',
      value,
      ttl: this.txtTtl,
    });
  }

  async removeTxt(fqdn: string, value: string): Promise<void> {
    const zone = requireZoneFor(fqdn, await this.listZones(), this.api);
    const name = canonicalName(fqdn);
    for (const r of await this.current(zone, name, 'TXT'))
      if (r.value === value) await this.deleteRecord(zone, r.id);
  }

  authoritativeServers(_fqdn: string): Promise<string[]> {
    return Promise.resolve([]);
  }
}

/** A relative host record (DNSPod SubDomain, Alibaba RR): '@' for the apex. */
export function relativeName(name: string, zone: string): string {
  if (name === zone) return '@';
  if (!name.endsWith(`.${zone}`))
    throw new DnsProviderError('invalid_record', `${name} is not in the zone ${zone}`);
  return name.slice(0, -zone.length - 1);
}

/** The fully qualified name of a relative host record. */
export function absoluteName(rr: string, zone: string): string {
  return rr === '@' || rr === '' ? zone : canonicalName(`${rr}.${zone}`);
}
