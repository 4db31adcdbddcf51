// Alibaba Cloud DNS (Alidns, API version 2015-01-09) through its RPC API: GET requests to
// alidns.aliyuncs.com whose query carries the common parameters and "signature method v1"
// (HMAC-SHA1 over `GET&%2F&` + the percent-encoded, sorted canonical query, keyed by the
// AccessKey secret + "&", base64; a fresh SignatureNonce and Timestamp per request, so every
// retry is signed anew). Errors come as `{ Code, Message, RequestId }` with an HTTP 4xx/5xx
// (DomainRecordDuplicate, SignatureDoesNotMatch, InvalidAccessKeyId.NotFound,
// InvalidTimeStamp.Expired, Throttling.User …). Records per ISP line (Line default /
// telecom / unicom / mobile / edu / oversea: answer-sets.ts); AddDomainRecord takes no
// remark, so the ownership mark is set right after with UpdateDomainRecordRemark (a record
// without it is not Outpost's, and is never touched).
import { createHmac, randomUUID } from 'node:crypto';
import type { DnsSettings } from '../spec/index.js';
import { resolveSecret } from '../spec/index.js';
import type { LineVocabulary } from './answer-sets.js';
import { requestJson, type HttpOptions } from './http.js';
import {
  canonicalName,
  DnsProviderError,
  noopLogger,
  type DnsProviderOptions,
} from './provider.js';
import {
  absoluteName,
  OUTPOST_MARK,
  OUTPOST_REMARK,
  RecordListProvider,
  relativeName,
  type ListedRecord,
  type RecordWrite,
} from './record-list.js';

type AlidnsSettings = Extract<DnsSettings, { provider: 'alidns' }>;

export const ALIDNS_VERSION = '2015-01-09';
export const ALIDNS_LINES: LineVocabulary = {
  default: 'default',
  oversea: 'oversea',
  preset: 'alidns',
};

/** RFC 3986 percent-encoding as the signature method asks (`~` kept, space as %20). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The query string of one signed RPC request (Signature appended). */
export function signedQuery(
  params: Record<string, string>,
  accessKeySecret: string,
  method = 'GET',
): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
  const toSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  const signature = createHmac('sha1', `${accessKeySecret}&`).update(toSign).digest('base64');
  return `${canonical}&Signature=${percentEncode(signature)}`;
}

interface AlidnsRecord {
  RecordId: string;
  RR: string;
  Type: string;
  Value: string;
  TTL: number;
  Line: string;
  Remark?: string;
}

const PAGE = 100;
const RETRY = /^(Throttling|ServiceUnavailable|InternalError)/;

export class AlidnsProvider extends RecordListProvider {
  readonly kind = 'alidns' as const;
  protected readonly api = 'Alibaba Cloud DNS';
  protected readonly lines = ALIDNS_LINES;
  /** The free edition's smallest TTL ("TTL 定义说明": 600 s). */
  protected readonly txtTtl = 600;
  private readonly http: Omit<HttpOptions, 'headers'>;
  private readonly base: string;
  private readonly keyId: string;
  private readonly keySecret: string;
  private readonly now: () => Date;

  constructor(settings: AlidnsSettings, opts: DnsProviderOptions & { now?: () => Date }) {
    super();
    this.base = settings.api_url.replace(/\/+$/, '');
    this.keyId = resolveSecret(settings.access_key_id, opts.secretVars);
    this.keySecret = resolveSecret(settings.access_key_secret, opts.secretVars);
    this.now = opts.now ?? (() => new Date());
    this.http = {
      fetch: opts.fetch ?? globalThis.fetch,
      logger: opts.logger ?? noopLogger,
      retryBaseMs: opts.retryBaseMs ?? 500,
      api: 'Alibaba Cloud DNS',
      // each try needs a new nonce: retries are made here, not by requestJson
      attempts: 1,
    };
  }

  /** One RPC action; throws DnsProviderError with Alibaba's code and message. */
  async call<T>(action: string, params: Record<string, string | number>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const all: Record<string, string> = {
        Format: 'JSON',
        Version: ALIDNS_VERSION,
        AccessKeyId: this.keyId,
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: randomUUID(),
        Timestamp: this.now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        Action: action,
      };
      for (const [k, v] of Object.entries(params)) all[k] = String(v);
      let code: string;
      let message: string;
      let status: number | undefined;
      try {
        const res = await requestJson(
          { ...this.http, headers: {} },
          'GET',
          `${this.base}/?${signedQuery(all, this.keySecret)}`,
        );
        const body = (res.body ?? {}) as T & { Code?: string; Message?: string };
        if (res.status !== 404 && body.Code === undefined) return body;
        code = body.Code ?? 'NotFound';
        message = body.Message ?? `HTTP ${res.status}`;
        status = res.status;
      } catch (err) {
        if (!(err instanceof DnsProviderError) || err.code === 'network') throw err;
        const m = /answered (\d+): ([A-Za-z.]+): (.*)$/.exec(err.message);
        if (m === null) throw err;
        status = Number(m[1]);
        code = m[2] ?? '';
        message = m[3] ?? '';
      }
      if (RETRY.test(code) && attempt < 3) {
        await new Promise((r) => setTimeout(r, this.http.retryBaseMs * 2 ** attempt));
        continue;
      }
      throw new AlidnsError(action, code, message, status);
    }
  }

  async listZones(): Promise<string[]> {
    const zones: string[] = [];
    for (let page = 1; ; page++) {
      const r = await this.call<{
        TotalCount?: number;
        Domains?: { Domain?: { DomainName: string }[] };
      }>('DescribeDomains', { PageNumber: page, PageSize: PAGE });
      const got = r.Domains?.Domain ?? [];
      zones.push(...got.map((d) => canonicalName(d.DomainName)));
      if (got.length < PAGE || zones.length >= (r.TotalCount ?? 0)) break;
    }
    return zones.sort();
  }

  protected async listRecords(zone: string): Promise<ListedRecord[]> {
    const out: ListedRecord[] = [];
    for (let page = 1; ; page++) {
      const r = await this.call<{
        TotalCount?: number;
        DomainRecords?: { Record?: AlidnsRecord[] };
      }>('DescribeDomainRecords', { DomainName: zone, PageNumber: page, PageSize: PAGE });
      const got = r.DomainRecords?.Record ?? [];
      for (const rec of got)
        out.push({
          id: rec.RecordId,
          name: absoluteName(rec.RR, zone),
          type: rec.Type,
          line: rec.Line,
          value: rec.Value,
          ttl: rec.TTL,
          owned: (rec.Remark ?? '').includes(OUTPOST_MARK),
        });
      if (got.length < PAGE || out.length >= (r.TotalCount ?? 0)) break;
    }
    return out;
  }

  private params(zone: string, r: RecordWrite) {
    return {
      RR: relativeName(r.name, zone),
      Type: r.type,
      Value: r.value,
      TTL: r.ttl,
      Line: r.line,
    };
  }

  protected async createRecord(zone: string, r: RecordWrite): Promise<void> {
    const { RecordId } = await this.call<{ RecordId: string }>('AddDomainRecord', {
      DomainName: zone,
      ...this.params(zone, r),
    });
    await this.call('UpdateDomainRecordRemark', { RecordId, Remark: OUTPOST_REMARK });
  }

  protected async updateRecord(zone: string, id: string, r: RecordWrite): Promise<void> {
    await this.call('UpdateDomainRecord', { RecordId: id, ...this.params(zone, r) });
    await this.call('UpdateDomainRecordRemark', { RecordId: id, Remark: OUTPOST_REMARK });
  }

  protected async deleteRecord(_zone: string, id: string): Promise<void> {
    await this.call('DeleteDomainRecord', { RecordId: id });
  }
}

/** An Alibaba Cloud DNS error answer, with its code (SignatureDoesNotMatch, …). */
export class AlidnsError extends DnsProviderError {
  constructor(
    action: string,
    readonly alidnsCode: string,
    message: string,
    status?: number,
  ) {
    super(
      /^(SignatureDoesNotMatch|InvalidAccessKeyId|IncompleteSignature|Forbidden)/.test(alidnsCode)
        ? 'auth'
        : /^InvalidDomainName/.test(alidnsCode)
          ? 'zone_missing'
          : 'api',
      `Alibaba Cloud DNS API ${action} answered ${alidnsCode}: ${message}`,
      status,
    );
  }
}
