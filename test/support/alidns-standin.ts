// A local stand-in for Alibaba Cloud DNS's RPC API (Alidns 2015-01-09), strict where the
// documentation is:
// - "signature method v1" (RPC 签名机制): GET `/?…` with the common parameters Format,
//   Version, AccessKeyId, SignatureMethod HMAC-SHA1, SignatureVersion 1.0, SignatureNonce,
//   Timestamp (UTC ISO 8601) and Signature. The stand-in recomputes the signature from the
//   query it received (its own code): a mismatch answers 400 SignatureDoesNotMatch, an
//   unknown AccessKeyId 404 InvalidAccessKeyId.NotFound, a timestamp more than 15 minutes off
//   400 InvalidTimeStamp.Expired, a nonce seen before 400 SignatureNonceUsed;
// - errors as `{ RequestId, HostId, Code, Message, Recommend }`: DomainRecordDuplicate (also
//   for an UpdateDomainRecord that changes nothing, as the API answers),
//   InvalidDomainName.NoExist, DomainRecordNotBelongToUser, and, where we found no documented
//   code, a plausible one (IllegalLineValue for an unknown line, QuotaExceeded.TTL below the
//   edition's smallest TTL): only the HTTP status and the presence of a Code matter to Outpost;
// - DescribeDomains and DescribeDomainRecords page by PageNumber/PageSize (at most 100 and
//   500); AddDomainRecord, UpdateDomainRecord, UpdateDomainRecordRemark, DeleteDomainRecord.
// Answers ("解析线路"): a client gets its line's records (its carrier's, or oversea outside
// mainland China), and the default line's when its line has none.
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  badRecordValue,
  failures,
  hostRecord,
  lineAnswers,
  recordBook,
  recordName,
  sameRecord,
  sendJson,
  serveLoopback,
  type LineClient,
  type RecordBook,
} from './record-standin.js';

const LINES = new Set([
  'default',
  'telecom',
  'unicom',
  'mobile',
  'edu',
  'oversea',
  'drpeng',
  'btvn',
]);
const TYPES = new Set(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV']);
const COMMON = [
  'Format',
  'Version',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'Timestamp',
  'Signature',
  'Action',
];
const ALLOWED: Record<string, string[]> = {
  DescribeDomains: ['PageNumber', 'PageSize', 'KeyWord', 'Lang'],
  DescribeDomainRecords: [
    'DomainName',
    'PageNumber',
    'PageSize',
    'RRKeyWord',
    'TypeKeyWord',
    'Line',
    'Lang',
  ],
  AddDomainRecord: ['DomainName', 'RR', 'Type', 'Value', 'TTL', 'Priority', 'Line', 'Lang'],
  UpdateDomainRecord: ['RecordId', 'RR', 'Type', 'Value', 'TTL', 'Priority', 'Line', 'Lang'],
  UpdateDomainRecordRemark: ['RecordId', 'Remark', 'Lang'],
  DeleteDomainRecord: ['RecordId', 'Lang'],
};

export interface AlidnsStandIn {
  apiUrl: string;
  book: RecordBook;
  lineOf: (client: LineClient) => string;
  answer: (name: string, type: string, client: LineClient) => string[];
  failNext: ReturnType<typeof failures>['failNext'];
  stop: () => Promise<void>;
}

/** "Percent-encode" as the signature method defines it (RFC 3986 unreserved kept). */
const encode = (s: string) =>
  Array.from(new TextEncoder().encode(s))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

export async function startAlidnsApi(opts: {
  accessKeyId: string;
  accessKeySecret: string;
  zones: string[];
  /** The edition's smallest TTL (free edition: 600). */
  minTtl?: number;
}): Promise<AlidnsStandIn> {
  const book = recordBook(opts.zones);
  const fails = failures();
  const minTtl = opts.minTtl ?? 600;
  const nonces = new Set<string>();

  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    sendJson(res, status, {
      RequestId: randomUUID(),
      HostId: 'alidns.aliyuncs.com',
      Code: code,
      Message: message,
      Recommend: 'https://api.aliyun.com/troubleshoot',
    });
  const reply = (res: ServerResponse, body: Record<string, unknown>) =>
    sendJson(res, 200, { RequestId: randomUUID(), ...body });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = Object.fromEntries(url.searchParams);
    const action = q.Action ?? '';
    book.calls.push({ method: req.method ?? '', what: action, params: q });
    if (req.method !== 'GET' || url.pathname !== '/')
      return error(res, 400, 'UnsupportedHTTPMethod', 'only GET / is served');
    // ---- signature method v1 ----
    for (const k of COMMON)
      if (q[k] === undefined)
        return error(res, 400, 'MissingParameter', `${k} is mandatory for this action.`);
    if (q.AccessKeyId !== opts.accessKeyId)
      return error(res, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (
      q.Format !== 'JSON' ||
      q.Version !== '2015-01-09' ||
      q.SignatureMethod !== 'HMAC-SHA1' ||
      q.SignatureVersion !== '1.0'
    )
      return error(
        res,
        400,
        'InvalidParameter',
        'Format, Version, SignatureMethod or SignatureVersion is not supported.',
      );
    const at = Date.parse(q.Timestamp ?? '');
    if (
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(q.Timestamp ?? '') ||
      Number.isNaN(at) ||
      Math.abs(Date.now() - at) > 15 * 60_000
    )
      return error(
        res,
        400,
        'InvalidTimeStamp.Expired',
        'Specified time stamp or date value is expired.',
      );
    const canonical = Object.keys(q)
      .filter((k) => k !== 'Signature')
      .sort()
      .map((k) => `${encode(k)}=${encode(q[k] ?? '')}`)
      .join('&');
    const expected = createHmac('sha1', `${opts.accessKeySecret}&`)
      .update(`GET&${encode('/')}&${encode(canonical)}`)
      .digest('base64');
    if (expected !== q.Signature)
      return error(
        res,
        400,
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation.',
      );
    if (nonces.has(q.SignatureNonce ?? ''))
      return error(res, 400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.add(q.SignatureNonce ?? '');
    // ---- the action ----
    const f = fails.take(action);
    if (f)
      return error(
        res,
        f.status === 429 ? 400 : f.status,
        f.status === 429 ? 'Throttling.User' : 'ServiceUnavailable',
        'injected failure',
      );
    const allowed = ALLOWED[action];
    if (allowed === undefined)
      return error(res, 404, 'InvalidAction.NotFound', `Specified api ${action} is not found.`);
    const unknown = Object.keys(q).find((k) => !COMMON.includes(k) && !allowed.includes(k));
    if (unknown !== undefined)
      return error(res, 400, 'InvalidParameter', `the parameter ${unknown} is unknown`);
    const pageNumber = Number(q.PageNumber ?? '1');
    const pageSize = Number(q.PageSize ?? '20');
    if (action === 'DescribeDomains') {
      if (pageSize > 100) return error(res, 400, 'InvalidPageSize', 'PageSize is at most 100.');
      const all = [...book.zones].sort();
      return reply(res, {
        TotalCount: all.length,
        PageNumber: pageNumber,
        PageSize: pageSize,
        Domains: {
          Domain: all
            .slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
            .map((DomainName, i) => ({ DomainName, DomainId: `d${i}` })),
        },
      });
    }
    const byId = q.RecordId !== undefined ? book.find(q.RecordId) : undefined;
    const zone = q.DomainName ?? byId?.zone ?? '';
    if (q.RecordId !== undefined && byId === undefined)
      return error(
        res,
        400,
        'DomainRecordNotBelongToUser',
        'The DNS record does not belong to you.',
      );
    if (!book.zones.has(zone))
      return error(
        res,
        400,
        'InvalidDomainName.NoExist',
        'The specified domain name does not exist.',
      );
    if (action === 'DescribeDomainRecords') {
      if (pageSize > 500) return error(res, 400, 'InvalidPageSize', 'PageSize is at most 500.');
      const all = book.records.filter((r) => r.zone === zone);
      return reply(res, {
        TotalCount: all.length,
        PageNumber: pageNumber,
        PageSize: pageSize,
        DomainRecords: {
          Record: all.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((r) => ({
            RecordId: r.id,
            DomainName: zone,
            RR: hostRecord(r.name, zone),
            Type: r.type,
            Value: r.value,
            TTL: r.ttl,
            Line: r.line,
            Status: r.enabled ? 'ENABLE' : 'DISABLE',
            Locked: false,
            Weight: 1,
            ...(r.remark !== '' ? { Remark: r.remark } : {}),
          })),
        },
      });
    }
    if (action === 'DeleteDomainRecord' && byId) {
      book.remove(byId.id);
      if (byId.type === 'TXT') await book.txtChanged(byId.name);
      return reply(res, { RecordId: byId.id });
    }
    if (action === 'UpdateDomainRecordRemark' && byId) {
      if ((q.Remark ?? '').length > 50)
        return error(res, 400, 'InvalidRemark.Length', 'The remark is longer than 50 characters.');
      byId.remark = q.Remark ?? '';
      return reply(res, {});
    }
    // AddDomainRecord / UpdateDomainRecord
    const rr = q.RR ?? '';
    const type = q.Type ?? '';
    const value = q.Value ?? '';
    const line = q.Line ?? 'default';
    const ttl = Number(q.TTL ?? '600');
    if (!TYPES.has(type))
      return error(res, 400, 'InvalidType', 'The record type is not supported.');
    const name = recordName(rr, zone);
    if (name === undefined)
      return error(res, 400, 'InvalidRR.Format', 'The host record is invalid.');
    if (!LINES.has(line)) return error(res, 400, 'IllegalLineValue', 'The line is not supported.');
    if (badRecordValue(type, value))
      return error(res, 400, 'InvalidValue', 'The record value is invalid.');
    if (!Number.isInteger(ttl) || ttl < minTtl || ttl > 86400)
      return error(
        res,
        400,
        'QuotaExceeded.TTL',
        `The TTL is out of the edition's range (${minTtl}-86400).`,
      );
    const dup = sameRecord(book, { zone, name, type, line, value });
    if (action === 'AddDomainRecord') {
      if (dup) return error(res, 400, 'DomainRecordDuplicate', 'The DNS record already exists.');
      const rec = book.add({ zone, name, type, line, value, ttl, remark: '' });
      if (rec.type === 'TXT') await book.txtChanged(rec.name);
      return reply(res, { RecordId: rec.id });
    }
    if (byId === undefined)
      return error(res, 400, 'MissingRecordId', 'RecordId is mandatory for this action.');
    if (dup && (dup.id !== byId.id || dup.ttl === ttl))
      return error(res, 400, 'DomainRecordDuplicate', 'The DNS record already exists.');
    Object.assign(byId, { name, type, line, value, ttl });
    if (byId.type === 'TXT') await book.txtChanged(byId.name);
    return reply(res, { RecordId: byId.id });
  };

  const srv = await serveLoopback(handle);
  return {
    apiUrl: `http://127.0.0.1:${srv.port}`,
    book,
    ...lineAnswers(book, 'alidns', { china: 'default', abroad: 'oversea', fallback: 'default' }),
    failNext: fails.failNext,
    stop: srv.stop,
  };
}
