// DNSPod (Tencent Cloud DNS) through its API 3.0 (version 2021-03-23): JSON POSTs to
// dnspod.tencentcloudapi.com signed with TC3-HMAC-SHA256 ("Signature v3": canonical request →
// string to sign → HMAC-SHA256 chain of date, service and "tc3_request" keyed by "TC3" +
// SecretKey), answers `{ Response: { …, RequestId } }` or `{ Response: { Error: { Code,
// Message } } }` with HTTP 200 either way. Records per ISP line ("线路", RecordLine 默认 / 电信
// / 联通 / 移动 / 教育网 / 境外: answer-sets.ts); every record's Remark carries the ownership
// mark. DNSPod's own D监控 failover is a paid add-on that Outpost does not drive: the control
// plane checks the edges (edge-checks.ts), as for Cloudflare.
import { createHash, createHmac } from 'node:crypto';
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

type DnspodSettings = Extract<DnsSettings, { provider: 'dnspod' }>;

export const DNSPOD_VERSION = '2021-03-23';
export const DNSPOD_LINES: LineVocabulary = { default: '默认', oversea: '境外', preset: 'dnspod' };

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) =>
  createHmac('sha256', key).update(s, 'utf8').digest();

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  service: string;
  /** The Host header as sent ("dnspod.tencentcloudapi.com", or "127.0.0.1:PORT"). */
  host: string;
  action: string;
  version: string;
  /** The exact body sent. */
  payload: string;
  /** Unix seconds. */
  timestamp: number;
}

/** The headers of one signed API 3.0 request ("Signature v3", POST with a JSON body). */
export function tc3Headers(r: Tc3Request): Record<string, string> {
  const contentType = 'application/json; charset=utf-8';
  const signedHeaders = 'content-type;host';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${contentType}\nhost:${r.host}\n`,
    signedHeaders,
    sha256(r.payload),
  ].join('\n');
  const date = new Date(r.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${r.service}/tc3_request`;
  const stringToSign = [
    'TC3-HMAC-SHA256',
    String(r.timestamp),
    scope,
    sha256(canonicalRequest),
  ].join('\n');
  const signing = hmac(hmac(hmac(`TC3${r.secretKey}`, date), r.service), 'tc3_request');
  const signature = createHmac('sha256', signing).update(stringToSign, 'utf8').digest('hex');
  return {
    authorization: `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    'content-type': contentType,
    'x-tc-action': r.action,
    'x-tc-timestamp': String(r.timestamp),
    'x-tc-version': r.version,
  };
}

interface DnspodRecord {
  RecordId: number;
  Name: string;
  Type: string;
  Line: string;
  Value: string;
  TTL: number;
  Status?: string;
  Remark?: string;
}

/** Errors worth another try (throttling, DNSPod's own hiccups); everything else is final. */
const RETRY_CODES = new Set([
  'RequestLimitExceeded',
  'InternalError',
  'FailedOperation.UnknowError',
]);
const PAGE = 100;

export class DnspodProvider extends RecordListProvider {
  readonly kind = 'dnspod' as const;
  protected readonly api = 'DNSPod';
  protected readonly lines = DNSPOD_LINES;
  /** The smallest TTL of DNSPod's free plan ("TTL 1-604800, the minimum depends on the plan"). */
  protected readonly txtTtl = 600;
  private readonly http: Omit<HttpOptions, 'headers'>;
  private readonly url: string;
  private readonly host: string;
  private readonly secretId: string;
  private readonly secretKey: string;
  private readonly now: () => number;

  constructor(settings: DnspodSettings, opts: DnsProviderOptions & { now?: () => number }) {
    super();
    const url = new URL(settings.api_url);
    this.url = `${url.origin}/`;
    this.host = url.host;
    this.secretId = resolveSecret(settings.secret_id, opts.secretVars);
    this.secretKey = resolveSecret(settings.secret_key, opts.secretVars);
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.http = {
      fetch: opts.fetch ?? globalThis.fetch,
      logger: opts.logger ?? noopLogger,
      retryBaseMs: opts.retryBaseMs ?? 500,
      api: 'DNSPod',
    };
  }

  /** One API action; throws DnsProviderError with DNSPod's code and message. */
  async call<T>(action: string, params: Record<string, unknown>): Promise<T> {
    const payload = JSON.stringify(params);
    for (let attempt = 0; ; attempt++) {
      const headers = tc3Headers({
        secretId: this.secretId,
        secretKey: this.secretKey,
        service: 'dnspod',
        host: this.host,
        action,
        version: DNSPOD_VERSION,
        payload,
        timestamp: this.now(),
      });
      const res = await requestJson({ ...this.http, headers }, 'POST', this.url, params);
      const body = (res.body ?? {}) as {
        Response?: T & { Error?: { Code: string; Message: string } };
      };
      const err = body.Response?.Error;
      if (err === undefined && body.Response !== undefined) return body.Response;
      const code = err?.Code ?? 'InvalidResponse';
      if (RETRY_CODES.has(code) && attempt < 3) {
        await new Promise((r) => setTimeout(r, this.http.retryBaseMs * 2 ** attempt));
        continue;
      }
      throw new DnspodError(action, code, err?.Message ?? `HTTP ${res.status}`);
    }
  }

  async listZones(): Promise<string[]> {
    const zones: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const r = await this.call<{
        DomainList?: { Name: string }[];
        DomainCountInfo?: { AllTotal?: number; DomainTotal?: number };
      }>('DescribeDomainList', { Offset: offset, Limit: PAGE });
      const page = r.DomainList ?? [];
      zones.push(...page.map((d) => canonicalName(d.Name)));
      const total = r.DomainCountInfo?.AllTotal ?? r.DomainCountInfo?.DomainTotal ?? 0;
      if (page.length < PAGE || zones.length >= total) break;
    }
    return zones.sort();
  }

  protected async listRecords(zone: string): Promise<ListedRecord[]> {
    const out: ListedRecord[] = [];
    for (let offset = 0; ; offset += PAGE) {
      let r: { RecordList?: DnspodRecord[]; RecordCountInfo?: { TotalCount?: number } };
      try {
        r = await this.call('DescribeRecordList', { Domain: zone, Offset: offset, Limit: PAGE });
      } catch (err) {
        // "ResourceNotFound.NoDataOfRecord: 记录列表为空" is how DNSPod answers an empty list
        if (err instanceof DnspodError && err.dnspodCode === 'ResourceNotFound.NoDataOfRecord')
          break;
        throw err;
      }
      const page = r.RecordList ?? [];
      for (const rec of page)
        out.push({
          id: String(rec.RecordId),
          name: absoluteName(rec.Name, zone),
          type: rec.Type,
          line: rec.Line,
          value: rec.Value,
          ttl: rec.TTL,
          owned: (rec.Remark ?? '').includes(OUTPOST_MARK),
        });
      if (page.length < PAGE || out.length >= (r.RecordCountInfo?.TotalCount ?? 0)) break;
    }
    return out;
  }

  private params(zone: string, r: RecordWrite) {
    return {
      Domain: zone,
      SubDomain: relativeName(r.name, zone),
      RecordType: r.type,
      RecordLine: r.line,
      Value: r.value,
      TTL: r.ttl,
      Remark: OUTPOST_REMARK,
    };
  }

  protected async createRecord(zone: string, r: RecordWrite): Promise<void> {
    await this.call('CreateRecord', this.params(zone, r));
  }

  protected async updateRecord(zone: string, id: string, r: RecordWrite): Promise<void> {
    await this.call('ModifyRecord', { ...this.params(zone, r), RecordId: Number(id) });
  }

  protected async deleteRecord(zone: string, id: string): Promise<void> {
    await this.call('DeleteRecord', { Domain: zone, RecordId: Number(id) });
  }
}

/** A DNSPod error answer, with DNSPod's code (AuthFailure.SignatureFailure, …). */
export class DnspodError extends DnsProviderError {
  constructor(
    action: string,
    readonly dnspodCode: string,
    message: string,
  ) {
    super(
      dnspodCode.startsWith('AuthFailure') || dnspodCode.startsWith('UnauthorizedOperation')
        ? 'auth'
        : dnspodCode === 'InvalidParameterValue.DomainNotExists'
          ? 'zone_missing'
          : 'api',
      `DNSPod API ${action} answered ${dnspodCode}: ${message}`,
    );
  }
}
