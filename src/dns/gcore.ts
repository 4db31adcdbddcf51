// GCore Managed DNS through its documented API (REST under /dns/v2, `Authorization: APIKey …`).
// A planned set becomes one GCore RRset: one resource record per address (meta is per record),
// pickers healthcheck → geodns → weighted_shuffle → geodistance → first_n 1 (the reason for
// the order is beside planDnsRecords), and the edge health check in the RRset's
// `meta.failover`. GCore's guide "What Healthcheck are and how to configure them" turns health
// checks on with a `healthcheck` picker plus `meta.failover` (the API schema's picker list
// omits that type; the guide is what a real account does), and uses `backup` records only
// together with health checks: without the picker the origins would be shuffled in like edges.
import type { DnsSettings } from '../spec/index.js';
import { resolveSecret } from '../spec/index.js';
import { requestJson, type HttpOptions } from './http.js';
import { sortKeys, type RRsetPlan, type RecordMeta } from './plan.js';
import {
  canonicalName,
  DnsProviderError,
  noopLogger,
  requireZoneFor,
  type DnsProvider,
  type DnsProviderOptions,
  type ProviderRRset,
} from './provider.js';

type GcoreSettings = Extract<DnsSettings, { provider: 'gcore' }>;

/** Every record Outpost writes carries this in its `notes`: how it knows what it owns. */
export const OUTPOST_NOTE = '[outpost]';

export interface GcoreRecord {
  content: unknown[];
  enabled?: boolean;
  meta?: Record<string, unknown>;
  id?: number;
}
export interface GcorePicker {
  type: string;
  limit?: number;
  strict?: boolean;
}
export interface GcoreRRsetBody {
  ttl?: number;
  resource_records: GcoreRecord[];
  pickers?: GcorePicker[];
  /** The same list under its older name: some responses and older clients use it. */
  filters?: GcorePicker[];
  meta?: Record<string, unknown>;
}

/**
 * Outpost's record meta in GCore's vocabulary. Continents as the geodns picker documents them
 * ("Dynamic response": codes af an as eu na sa oc, not names); countries as lowercase ISO
 * codes; `notes` as a list, as GCore's own SDKs and Terraform provider write it, ending with
 * the ownership mark.
 */
export function gcoreMeta(meta: RecordMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // The edge's networks (issue 22): GCore's "Create RRset", "geodns filter": "`asn` - list of
  // autonomous system numbers, e.g. `[1234, 5678]`", considered after `ip` and before
  // countries and continents, the requestor's ASN taken from its ECS subnet or resolver.
  if (meta.asn) out.asn = meta.asn;
  if (meta.backup) out.backup = true;
  if (meta.continents) out.continents = meta.continents.map((c) => c.toLowerCase());
  if (meta.countries) out.countries = meta.countries.map((c) => c.toLowerCase());
  if (meta.latlong) out.latlong = meta.latlong;
  if (meta.weight !== undefined) out.weight = meta.weight;
  out.notes = [meta.notes ?? 'origin', OUTPOST_NOTE];
  return out;
}

/** `notes` in either form GCore may hold (a list, or the string older Outposts wrote) as a list. */
export function notesList(notes: unknown): string[] | undefined {
  if (Array.isArray(notes)) return notes.filter((n): n is string => typeof n === 'string');
  if (typeof notes !== 'string') return undefined;
  if (notes.endsWith(` ${OUTPOST_NOTE}`))
    return [notes.slice(0, -OUTPOST_NOTE.length - 1), OUTPOST_NOTE];
  return [notes];
}

/** Outpost owns a record whose notes (either form) end with its mark. */
export function ownedRecord(r: GcoreRecord): boolean {
  return notesList(r.meta?.notes)?.at(-1) === OUTPOST_NOTE;
}

/** A literal text as a regular expression (GCore's failover `regexp` matches the body). */
const regexpLiteral = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The request body GCore gets for a planned set (create and replace alike). */
export function gcoreBody(rrset: RRsetPlan): GcoreRRsetBody {
  const resource_records: GcoreRecord[] = rrset.records.flatMap((r) =>
    r.content.map((ip) => ({ content: [ip], enabled: r.enabled, meta: gcoreMeta(r.meta) })),
  );
  const pickers: GcorePicker[] = rrset.pickers.map((p): GcorePicker => {
    if (p.type === 'first_n') return { type: 'first_n', limit: p.limit };
    return { type: p.type };
  });
  const hc = rrset.pickers.find((p) => p.type === 'healthcheck');
  const meta: Record<string, unknown> = {};
  if (hc) {
    // "What Healthcheck are and how to configure them": HTTP check fields. The edge's own
    // health is probed (not the origin through the edge), with the body match PowerDNS uses.
    // The timeout was checked against GCore's limit at validation (spec GCORE_MAX_TIMEOUT).
    meta.failover = {
      protocol: 'HTTP',
      port: hc.port,
      frequency: hc.frequency,
      timeout: hc.timeout,
      method: hc.method,
      url: hc.uri,
      tls: false,
      host: hc.host,
      http_status_code: 200,
      regexp: regexpLiteral(hc.match),
    };
  }
  return { ttl: rrset.ttl, resource_records, pickers, meta };
}

/** Canonical form for comparing what GCore holds with what Outpost wants. */
export function normaliseBody(b: GcoreRRsetBody): unknown {
  return sortKeys({
    resource_records: b.resource_records
      .map((r) => {
        const meta: Record<string, unknown> = { ...(r.meta ?? {}) };
        const notes = notesList(meta.notes);
        if (notes !== undefined) meta.notes = notes;
        return { content: r.content, enabled: r.enabled ?? true, meta };
      })
      .sort((x, y) => {
        const a = JSON.stringify(x);
        const c = JSON.stringify(y);
        return a < c ? -1 : a > c ? 1 : 0;
      }),
    pickers: (b.pickers ?? b.filters ?? []).map((p) => ({
      type: p.type,
      ...(p.limit ? { limit: p.limit } : {}),
      ...(p.strict ? { strict: true } : {}),
    })),
    meta: b.meta ?? {},
  });
}

interface ListedRRset extends GcoreRRsetBody {
  name: string;
  type: string;
}

export class GcoreProvider implements DnsProvider {
  readonly kind = 'gcore' as const;
  readonly managedTypes = ['A', 'AAAA'] as const;
  private readonly http: HttpOptions;
  private readonly base: string;
  /** The bodies last rendered, by "name type": what create/replace send. */
  private readonly wire = new Map<string, GcoreRRsetBody>();

  constructor(settings: GcoreSettings, opts: DnsProviderOptions) {
    this.base = `${settings.api_url.replace(/\/+$/, '')}/v2`;
    this.http = {
      fetch: opts.fetch ?? globalThis.fetch,
      headers: { Authorization: `APIKey ${resolveSecret(settings.api_token, opts.secretVars)}` },
      logger: opts.logger ?? noopLogger,
      retryBaseMs: opts.retryBaseMs ?? 500,
      api: 'GCore',
    };
  }

  private path(zone: string, name: string, type: string): string {
    return `${this.base}/zones/${encodeURIComponent(zone)}/${encodeURIComponent(name)}/${encodeURIComponent(type)}`;
  }

  async listZones(): Promise<string[]> {
    const zones: string[] = [];
    for (let offset = 0; ; offset += 100) {
      const res = await requestJson(
        this.http,
        'GET',
        `${this.base}/zones?limit=100&offset=${offset}`,
      );
      const body = res.body as { zones?: { name: string }[]; total_amount?: number };
      const page = body.zones ?? [];
      zones.push(...page.map((z) => canonicalName(z.name)));
      if (page.length < 100 || zones.length >= (body.total_amount ?? 0)) break;
    }
    return zones;
  }

  async ensureZone(zone: string): Promise<void> {
    const res = await requestJson(
      this.http,
      'GET',
      `${this.base}/zones/${encodeURIComponent(zone)}`,
    );
    if (res.status === 404)
      throw new DnsProviderError(
        'zone_missing',
        `GCore has no zone ${zone}: create it in GCore first`,
        404,
      );
  }

  async listRRsets(zone: string): Promise<ProviderRRset[]> {
    const out: ProviderRRset[] = [];
    for (let offset = 0; ; offset += 100) {
      const res = await requestJson(
        this.http,
        'GET',
        `${this.base}/zones/${encodeURIComponent(zone)}/rrsets?limit=100&offset=${offset}`,
      );
      if (res.status === 404)
        throw new DnsProviderError('zone_missing', `GCore has no zone ${zone}`, 404);
      const body = res.body as { rrsets?: ListedRRset[]; total_amount?: number };
      const page = body.rrsets ?? [];
      for (const r of page) {
        const records = r.resource_records ?? [];
        out.push({
          name: canonicalName(r.name),
          type: r.type,
          ttl: r.ttl ?? 0,
          body: normaliseBody(r),
          managed: records.length > 0 && records.every(ownedRecord),
        });
      }
      if (page.length < 100 || out.length >= (body.total_amount ?? 0)) break;
    }
    return out;
  }

  render(rrsets: readonly RRsetPlan[]): ProviderRRset[] {
    return rrsets.map((r) => {
      const body = gcoreBody(r);
      this.wire.set(`${r.name} ${r.type}`, body);
      return { name: r.name, type: r.type, ttl: r.ttl, body: normaliseBody(body), managed: true };
    });
  }

  private bodyFor(rrset: ProviderRRset): GcoreRRsetBody {
    const body = this.wire.get(`${rrset.name} ${rrset.type}`);
    if (body === undefined)
      throw new DnsProviderError(
        'invalid_record',
        `no rendered body for ${rrset.name} ${rrset.type}`,
      );
    return body;
  }

  async createRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    await requestJson(
      this.http,
      'POST',
      this.path(zone, rrset.name, rrset.type),
      this.bodyFor(rrset),
    );
  }

  async replaceRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    await requestJson(
      this.http,
      'PUT',
      this.path(zone, rrset.name, rrset.type),
      this.bodyFor(rrset),
    );
  }

  async deleteRRset(zone: string, name: string, type: string): Promise<void> {
    await requestJson(this.http, 'DELETE', this.path(zone, name, type));
  }

  private async txt(
    fqdn: string,
  ): Promise<{ zone: string; name: string; current: ListedRRset | undefined }> {
    const zone = requireZoneFor(fqdn, await this.listZones(), 'GCore');
    const name = canonicalName(fqdn);
    const res = await requestJson(this.http, 'GET', this.path(zone, name, 'TXT'));
    return { zone, name, current: res.status === 404 ? undefined : (res.body as ListedRRset) };
  }

  async setTxt(fqdn: string, value: string): Promise<void> {
    const { zone, name, current } = await this.txt(fqdn);
    const records = (current?.resource_records ?? []).map((r) => ({ content: r.content }));
    if (records.some((r) => r.content[0] === value)) return;
    const body = { ttl: current?.ttl ?? 60, resource_records: [...records, { content: [value] }] };
    await requestJson(this.http, current ? 'PUT' : 'POST', this.path(zone, name, 'TXT'), body);
  }

  async removeTxt(fqdn: string, value: string): Promise<void> {
    const { zone, name, current } = await this.txt(fqdn);
    if (!current) return;
    const records = current.resource_records
      .filter((r) => r.content[0] !== value)
      .map((r) => ({ content: r.content }));
    if (records.length === current.resource_records.length) return;
    if (records.length === 0) await requestJson(this.http, 'DELETE', this.path(zone, name, 'TXT'));
    else
      await requestJson(this.http, 'PUT', this.path(zone, name, 'TXT'), {
        ttl: current.ttl ?? 60,
        resource_records: records,
      });
  }

  authoritativeServers(_fqdn: string): Promise<string[]> {
    return Promise.resolve([]);
  }
}
