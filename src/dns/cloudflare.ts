// Cloudflare DNS through its API v4 (`Authorization: Bearer <API token>`, JSON envelopes
// `{ success, errors: [{ code, message }], result, result_info }`, pages of `per_page`).
// Plain records only: Cloudflare's own geo steering and health checks are its paid Load
// Balancer product, which Outpost does not drive. A planned set becomes one DNS-only record
// (`proxied: false`) per healthy edge address (the control plane checks the edges and the DNS
// sync rewrites the records when one goes down or comes back: edge-checks.ts), or the
// origins when no edge is healthy; every record's `comment` carries the ownership mark.
import type { DnsSettings } from '../spec/index.js';
import { resolveSecret } from '../spec/index.js';
import { requestJson, type HttpOptions } from './http.js';
import {
  canonicalName,
  DnsProviderError,
  noopLogger,
  type DnsProviderOptions,
} from './provider.js';
import {
  OUTPOST_MARK,
  OUTPOST_REMARK,
  RecordListProvider,
  type ListedRecord,
  type RecordWrite,
} from './record-list.js';

type CloudflareSettings = Extract<DnsSettings, { provider: 'cloudflare' }>;

interface Envelope<T> {
  success?: boolean;
  errors?: { code: number; message: string }[];
  result?: T;
  result_info?: { page: number; per_page: number; total_pages?: number; total_count?: number };
}

interface CloudflareRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  comment?: string | null;
}

/** "List DNS Records" allows up to 5,000,000 a page; 100 keeps each answer small. */
const RECORDS_PER_PAGE = 100;
/** "List Zones" allows 5-50 a page. */
const ZONES_PER_PAGE = 50;

export class CloudflareProvider extends RecordListProvider {
  readonly kind = 'cloudflare' as const;
  protected readonly api = 'Cloudflare';
  protected readonly lines = undefined;
  /** TTL 1 is Cloudflare's "automatic" (300 s); 60 is the smallest below Enterprise. */
  protected readonly txtTtl = 60;
  private readonly http: HttpOptions;
  private readonly base: string;
  private zoneIds: Map<string, string> | undefined;

  constructor(settings: CloudflareSettings, opts: DnsProviderOptions) {
    super();
    this.base = settings.api_url.replace(/\/+$/, '');
    this.http = {
      fetch: opts.fetch ?? globalThis.fetch,
      headers: { Authorization: `Bearer ${resolveSecret(settings.api_token, opts.secretVars)}` },
      logger: opts.logger ?? noopLogger,
      retryBaseMs: opts.retryBaseMs ?? 500,
      api: 'Cloudflare',
    };
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
    const res = await requestJson(this.http, method, `${this.base}${path}`, body);
    const env = (res.body ?? {}) as Envelope<T>;
    if (res.status === 404 || env.success === false) {
      const detail = (env.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
      throw new DnsProviderError(
        res.status === 404 ? 'zone_missing' : 'api',
        `Cloudflare API ${method} ${path.split('?')[0] ?? ''} answered ${res.status}${detail ? `: ${detail}` : ''}`,
        res.status,
      );
    }
    return env;
  }

  /** Every page of a list: `page` from 1 until `total_pages`. */
  private async pages<T>(path: string, perPage: number): Promise<T[]> {
    const out: T[] = [];
    const sep = path.includes('?') ? '&' : '?';
    for (let page = 1; ; page++) {
      const env = await this.call<T[]>('GET', `${path}${sep}page=${page}&per_page=${perPage}`);
      const got = env.result ?? [];
      out.push(...got);
      const total = env.result_info?.total_pages ?? 1;
      if (page >= total || got.length === 0) break;
    }
    return out;
  }

  private async zones(): Promise<Map<string, string>> {
    if (this.zoneIds === undefined) {
      const zones = await this.pages<{ id: string; name: string }>('/zones', ZONES_PER_PAGE);
      this.zoneIds = new Map(zones.map((z) => [canonicalName(z.name), z.id]));
    }
    return this.zoneIds;
  }

  private async zoneId(zone: string): Promise<string> {
    const id = (await this.zones()).get(zone);
    if (id === undefined)
      throw new DnsProviderError(
        'zone_missing',
        `Cloudflare has no zone ${zone} that this token can edit: add it in Cloudflare first`,
      );
    return id;
  }

  async listZones(): Promise<string[]> {
    return [...(await this.zones()).keys()].sort();
  }

  protected async listRecords(zone: string): Promise<ListedRecord[]> {
    const id = await this.zoneId(zone);
    const records = await this.pages<CloudflareRecord>(
      `/zones/${id}/dns_records`,
      RECORDS_PER_PAGE,
    );
    return records.map((r) => ({
      id: r.id,
      name: canonicalName(r.name),
      type: r.type,
      line: '',
      value: r.type === 'TXT' ? unquoteTxt(r.content) : r.content,
      ttl: r.ttl,
      owned: (r.comment ?? '').includes(OUTPOST_MARK),
    }));
  }

  private body(r: RecordWrite) {
    return {
      type: r.type,
      name: r.name,
      content: r.type === 'TXT' ? `"${r.value}"` : r.value,
      ttl: r.ttl,
      proxied: false,
      comment: OUTPOST_REMARK,
    };
  }

  protected async createRecord(zone: string, r: RecordWrite): Promise<void> {
    await this.call('POST', `/zones/${await this.zoneId(zone)}/dns_records`, this.body(r));
  }

  protected async updateRecord(zone: string, id: string, r: RecordWrite): Promise<void> {
    await this.call(
      'PATCH',
      `/zones/${await this.zoneId(zone)}/dns_records/${encodeURIComponent(id)}`,
      this.body(r),
    );
  }

  protected async deleteRecord(zone: string, id: string): Promise<void> {
    await this.call(
      'DELETE',
      `/zones/${await this.zoneId(zone)}/dns_records/${encodeURIComponent(id)}`,
    );
  }
}

/**
 * TXT content as Cloudflare stores it: "DNS record types" recommends the value in double
 * quotes (one string); read back either form.
 */
export function unquoteTxt(content: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(content);
  return m ? (m[1] ?? '').replace(/\\(.)/g, '$1') : content;
}
