// A local stand-in for DNSPod's API 3.0 (Tencent Cloud, version 2021-03-23), strict where the
// documentation is:
// - "Signature v3" (签名方法 v3): every request is a POST of JSON to `/` with
//   `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/dnspod/tc3_request,
//   SignedHeaders=…, Signature=…`, X-TC-Action, X-TC-Timestamp, X-TC-Version. The stand-in
//   recomputes the signature from what it received (its own code, not the provider's): an
//   unknown SecretId answers AuthFailure.SecretIdNotFound, a timestamp more than 5 minutes
//   off AuthFailure.SignatureExpire, any other mismatch AuthFailure.SignatureFailure;
// - answers are HTTP 200 `{ Response: { …, RequestId } }`, errors `{ Response: { Error: {
//   Code, Message }, RequestId } }` with the codes of the dnspod/v20210323 error list
//   (InvalidParameter.DomainRecordExist, ResourceNotFound.NoDataOfRecord for an empty record
//   list, InvalidParameterValue.DomainNotExists, InvalidParameter.RecordLineInvalid,
//   LimitExceeded.RecordTtlLimit, InvalidParameter.RemarkTooLong, UnknownParameter);
// - DescribeDomainList and DescribeRecordList page by Offset/Limit (Limit at most 3000);
//   CreateRecord, ModifyRecord, DeleteRecord with SubDomain '@' for the apex.
// Answers ("解析线路"): a client gets the records of its line (its carrier's, or 境外 outside
// mainland China) and, when its line has none, the 默认 line's.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  badRecordValue,
  failures,
  hostRecord,
  lineAnswers,
  readBody,
  recordBook,
  recordName,
  sameRecord,
  sendJson,
  serveLoopback,
  type LineClient,
  type RecordBook,
} from './record-standin.js';

export type { LineClient } from './record-standin.js';

const LINES = new Set(['默认', '电信', '联通', '移动', '教育网', '境外']);
const TYPES = new Set(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV']);

export interface DnspodStandIn {
  /** settings.api_url */
  apiUrl: string;
  book: RecordBook;
  /** The DNSPod line a client is on. */
  lineOf: (client: LineClient) => string;
  /** What DNSPod answers `client` for `name type`: its line's records, else 默认's. */
  answer: (name: string, type: string, client: LineClient) => string[];
  failNext: ReturnType<typeof failures>['failNext'];
  stop: () => Promise<void>;
}

/** A parameter as text: strings as they are, numbers (ids) written out; anything else ''. */
const str = (v: unknown, otherwise = ''): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : otherwise;
const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The signature of a request as the stand-in recomputes it (Signature v3, step by step). */
function expectedSignature(
  req: IncomingMessage,
  payload: string,
  secretKey: string,
  date: string,
  signedHeaders: string[],
): string {
  const canonicalHeaders = signedHeaders
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .toLowerCase()}\n`,
    )
    .join('');
  const url = new URL(req.url ?? '/', 'http://x');
  const canonical = `${req.method ?? ''}\n${url.pathname}\n${url.search.slice(1)}\n${canonicalHeaders}\n${signedHeaders.join(';')}\n${sha256hex(payload)}`;
  const timestamp = String(req.headers['x-tc-timestamp'] ?? '');
  const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/dnspod/tc3_request\n${sha256hex(canonical)}`;
  let key: Buffer = Buffer.from(`TC3${secretKey}`, 'utf8');
  for (const part of [date, 'dnspod', 'tc3_request'])
    key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

export async function startDnspodApi(opts: {
  secretId: string;
  secretKey: string;
  zones: string[];
  /** The domain's plan minimum TTL (free plan: 600). */
  minTtl?: number;
  /** Seconds since the epoch as the stand-in's clock. */
  now?: () => number;
}): Promise<DnspodStandIn> {
  const book = recordBook(opts.zones);
  const fails = failures();
  const minTtl = opts.minTtl ?? 600;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));

  const reply = (res: ServerResponse, response: Record<string, unknown>) =>
    sendJson(res, 200, { Response: { ...response, RequestId: randomUUID() } });
  const error = (res: ServerResponse, code: string, message: string) =>
    reply(res, { Error: { Code: code, Message: message } });

  const authenticate = (req: IncomingMessage, payload: string): [string, string] | undefined => {
    const auth = String(req.headers.authorization ?? '');
    const m =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (m === null)
      return [
        'AuthFailure.InvalidAuthorization',
        'the Authorization header is not TC3-HMAC-SHA256',
      ];
    const [, id, date, service, signed, signature] = m as unknown as string[];
    if (id !== opts.secretId)
      return ['AuthFailure.SecretIdNotFound', 'the SecretId does not exist'];
    const ts = Number(req.headers['x-tc-timestamp']);
    if (!Number.isInteger(ts) || Math.abs(now() - ts) > 300)
      return [
        'AuthFailure.SignatureExpire',
        'the timestamp is more than 5 minutes off the server time',
      ];
    const headers = (signed ?? '').split(';');
    if (
      service !== 'dnspod' ||
      date !== new Date(ts * 1000).toISOString().slice(0, 10) ||
      !headers.includes('host') ||
      !headers.includes('content-type') ||
      expectedSignature(req, payload, opts.secretKey, date, headers) !== signature
    )
      return ['AuthFailure.SignatureFailure', 'the signature does not match'];
    return undefined;
  };

  type Params = Record<string, unknown>;
  const allowed: Record<string, string[]> = {
    DescribeDomainList: ['Offset', 'Limit', 'Type', 'GroupId', 'Keyword'],
    DescribeRecordList: [
      'Domain',
      'DomainId',
      'Subdomain',
      'RecordType',
      'RecordLine',
      'Offset',
      'Limit',
      'Keyword',
    ],
    CreateRecord: [
      'Domain',
      'DomainId',
      'SubDomain',
      'RecordType',
      'RecordLine',
      'RecordLineId',
      'Value',
      'MX',
      'TTL',
      'Weight',
      'Status',
      'Remark',
    ],
    ModifyRecord: [
      'Domain',
      'DomainId',
      'SubDomain',
      'RecordType',
      'RecordLine',
      'RecordLineId',
      'Value',
      'MX',
      'TTL',
      'Weight',
      'Status',
      'Remark',
      'RecordId',
    ],
    DeleteRecord: ['Domain', 'DomainId', 'RecordId'],
  };

  /** The checks CreateRecord/ModifyRecord make; an error [code, message] or the record. */
  const checkRecord = (p: Params, self?: string) => {
    const zone = str(p.Domain, '');
    const sub = str(p.SubDomain, '@');
    const type = str(p.RecordType, '');
    const line = str(p.RecordLine, '');
    const value = str(p.Value, '');
    const ttl = p.TTL === undefined ? 600 : p.TTL;
    const remark = p.Remark === undefined ? '' : str(p.Remark);
    if (!TYPES.has(type))
      return ['InvalidParameter.RecordTypeInvalid', '记录类型不正确。'] as const;
    if (!LINES.has(line))
      return ['InvalidParameter.RecordLineInvalid', '记录线路不正确。'] as const;
    const name = recordName(sub, zone);
    if (name === undefined) return ['InvalidParameter.SubdomainInvalid', '子域名不正确。'] as const;
    if (badRecordValue(type, value))
      return ['InvalidParameter.RecordValueInvalid', '记录的值不正确。'] as const;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < minTtl || ttl > 604800)
      return ['LimitExceeded.RecordTtlLimit', '记录的TTL值超出了限制。'] as const;
    if (remark.length > 200)
      return ['InvalidParameter.RemarkTooLong', '备注过长（不能超过200个字）。'] as const;
    if (sameRecord(book, { zone, name, type, line, value }, self) !== undefined)
      return ['InvalidParameter.DomainRecordExist', '记录已经存在，无需再次添加。'] as const;
    return { zone, name, type, line, value, ttl, remark };
  };

  const view = (zone: string) => (r: (typeof book.records)[number]) => ({
    RecordId: Number(r.id),
    Name: hostRecord(r.name, zone),
    Type: r.type,
    Line: r.line,
    LineId: '0',
    Value: r.value,
    TTL: r.ttl,
    Status: r.enabled ? 'ENABLE' : 'DISABLE',
    Remark: r.remark,
    Weight: null,
    MX: 0,
    MonitorStatus: '',
    UpdatedOn: '2026-01-01 00:00:00',
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const payload = await readBody(req);
    const action = String(req.headers['x-tc-action'] ?? '');
    book.calls.push({ method: req.method ?? '', what: action, params: payload });
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/')
      return error(res, 'InvalidAction', 'only POST / is served');
    const authError = authenticate(req, payload);
    if (authError) return error(res, ...authError);
    if (req.headers['x-tc-version'] !== '2021-03-23')
      return error(res, 'InvalidParameter', 'X-TC-Version must be 2021-03-23');
    const f = fails.take(action);
    if (f)
      return error(
        res,
        f.status === 429 ? 'RequestLimitExceeded' : 'InternalError',
        'injected failure',
      );
    const keys = allowed[action];
    if (keys === undefined)
      return error(res, 'InvalidAction', `the action ${action} does not exist`);
    let p: Params;
    try {
      p = JSON.parse(payload) as Params;
    } catch {
      return error(res, 'InvalidParameter', 'the body is not JSON');
    }
    book.calls[book.calls.length - 1] = { method: 'POST', what: action, params: p };
    const unknown = Object.keys(p).find((k) => !keys.includes(k));
    if (unknown !== undefined)
      return error(res, 'UnknownParameter', `the parameter ${unknown} is unknown`);
    const offset = Number(p.Offset ?? 0);
    const limit = Number(p.Limit ?? (action === 'DescribeDomainList' ? 20 : 100));
    if (!Number.isInteger(limit) || limit < 1 || limit > 3000)
      return error(res, 'InvalidParameterValue.LimitInvalid', '分页长度数量错误。');
    if (action === 'DescribeDomainList') {
      const all = [...book.zones].sort();
      return reply(res, {
        DomainCountInfo: { AllTotal: all.length, DomainTotal: all.length },
        DomainList: all.slice(offset, offset + limit).map((Name, i) => ({
          DomainId: offset + i + 1,
          Name,
          Status: 'ENABLE',
          Grade: 'DP_FREE',
        })),
      });
    }
    const zone = str(p.Domain, '');
    if (!book.zones.has(zone))
      return error(res, 'InvalidParameterValue.DomainNotExists', '当前域名有误，请返回重新操作。');
    if (action === 'DescribeRecordList') {
      const all = book.records.filter((r) => r.zone === zone).map(view(zone));
      if (all.length === 0) return error(res, 'ResourceNotFound.NoDataOfRecord', '记录列表为空。');
      return reply(res, {
        RecordCountInfo: {
          SubdomainCount: all.length,
          ListCount: all.length,
          TotalCount: all.length,
        },
        RecordList: all.slice(offset, offset + limit),
      });
    }
    if (action === 'CreateRecord') {
      const c = checkRecord(p);
      if (!('zone' in c)) return error(res, c[0], c[1]);
      const rec = book.add({
        zone,
        name: c.name,
        type: c.type,
        line: c.line,
        value: c.value,
        ttl: c.ttl,
        remark: c.remark,
      });
      if (rec.type === 'TXT') await book.txtChanged(rec.name);
      return reply(res, { RecordId: Number(rec.id) });
    }
    const existing = book.find(str(p.RecordId, ''));
    if (existing === undefined || existing.zone !== zone)
      return error(res, 'InvalidParameter.RecordIdInvalid', '记录编号错误。');
    if (action === 'DeleteRecord') {
      book.remove(existing.id);
      if (existing.type === 'TXT') await book.txtChanged(existing.name);
      return reply(res, {});
    }
    const c = checkRecord(p, existing.id);
    if (!('zone' in c)) return error(res, c[0], c[1]);
    Object.assign(existing, {
      name: c.name,
      type: c.type,
      line: c.line,
      value: c.value,
      ttl: c.ttl,
      remark: c.remark,
    });
    if (existing.type === 'TXT') await book.txtChanged(existing.name);
    return reply(res, { RecordId: Number(existing.id) });
  };

  const srv = await serveLoopback(handle);
  return {
    apiUrl: `http://127.0.0.1:${srv.port}`,
    book,
    ...lineAnswers(book, 'dnspod', { china: '默认', abroad: '境外', fallback: '默认' }),
    failNext: fails.failNext,
    stop: srv.stop,
  };
}
