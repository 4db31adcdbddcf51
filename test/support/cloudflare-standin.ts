// A local stand-in for Cloudflare's API v4 DNS endpoints, strict where the documentation is:
// - auth: `Authorization: Bearer <token>`; anything else is HTTP 403 with error code 10000
//   "Authentication error" in the v4 envelope (`{ success, errors, messages, result }`);
// - "List Zones" (`GET /zones`, `per_page` 5-50) and "List DNS Records"
//   (`GET /zones/{zone_id}/dns_records`, `per_page` 5-5,000,000, default 100), both paged by
//   `page` with `result_info { page, per_page, count, total_count, total_pages }`;
// - "Create DNS Record" (POST), "Update DNS Record" (PATCH, fields given replace), "Delete DNS
//   Record" (DELETE → `result: { id }`); fields `type name content ttl proxied comment`,
//   unknown fields refused; `ttl` "Setting to 1 means 'automatic'. Value must be between 60
//   and 86400, with the minimum reduced to 30 for Enterprise zones"; `comment` at most 100
//   characters (Free plan); A content an IPv4 address, AAAA an IPv6 one;
// - an identical record (type, name, content) → 400 code 81058 "An identical record already
//   exists." (the error Cloudflare answers, as DNS clients such as certbot's plugin handle it);
//   an A/AAAA next to a CNAME of the same name → 81053.
// Answers: a DNS-only record set is served as it is, every record of the name and type, with
// no health check and no geo steering (those are the Load Balancer product).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  failures,
  IPV4,
  IPV6,
  readBody,
  recordBook,
  sendJson,
  serveLoopback,
  type RecordBook,
  type StoredRecord,
} from './record-standin.js';

const RecordInput = z
  .object({
    type: z.enum(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV', 'HTTPS']),
    name: z.string().min(1),
    content: z.string().min(1),
    ttl: z.number().int().optional(),
    proxied: z.boolean().optional(),
    comment: z.string().max(100).optional(),
    tags: z.array(z.string()).optional(),
  })
  .strict();

export interface CloudflareStandIn {
  /** settings.api_url: http://127.0.0.1:PORT/client/v4 */
  apiUrl: string;
  token: string;
  book: RecordBook;
  /** Zone name → its id. */
  zoneIds: Map<string, string>;
  /** What Cloudflare answers for `name type`: every record of it. */
  answer: (name: string, type: string) => string[];
  failNext: ReturnType<typeof failures>['failNext'];
  stop: () => Promise<void>;
}

const ok = (result: unknown, extra: Record<string, unknown> = {}) => ({
  success: true,
  errors: [],
  messages: [],
  result,
  ...extra,
});
const fail = (code: number, message: string) => ({
  success: false,
  errors: [{ code, message }],
  messages: [],
  result: null,
});

export async function startCloudflareApi(opts: {
  token: string;
  zones: string[];
  /** Enterprise zones allow a TTL of 30. */
  enterprise?: boolean;
}): Promise<CloudflareStandIn> {
  const book = recordBook(opts.zones);
  // "DNS record types", TXT: the content is given in double quotes (zone-file syntax); the
  // record serves the text inside them
  book.serve = (type, value) => {
    const m = /^"((?:[^"\\]|\\.)*)"$/.exec(value);
    return type === 'TXT' && m ? (m[1] ?? '').replace(/\\(.)/g, '$1') : value;
  };
  const zoneIds = new Map(opts.zones.map((z, i) => [z, `zone${String(i + 1).padStart(28, '0')}`]));
  const zoneById = (id: string) => [...zoneIds].find(([, v]) => v === id)?.[0];
  const fails = failures();
  const minTtl = opts.enterprise ? 30 : 60;

  const page = <T>(all: T[], url: URL, max: number, def: number, res: ServerResponse) => {
    const p = Number(url.searchParams.get('page') ?? '1');
    const per = Number(url.searchParams.get('per_page') ?? String(def));
    if (!Number.isInteger(p) || p < 1 || !Number.isInteger(per) || per < 5 || per > max)
      return sendJson(res, 400, fail(1004, `per_page must be 5-${max} and page at least 1`));
    const slice = all.slice((p - 1) * per, p * per);
    sendJson(
      res,
      200,
      ok(slice, {
        result_info: {
          page: p,
          per_page: per,
          count: slice.length,
          total_count: all.length,
          total_pages: Math.max(1, Math.ceil(all.length / per)),
        },
      }),
    );
  };

  const view = (r: StoredRecord) => ({
    id: r.id,
    zone_id: zoneIds.get(r.zone),
    zone_name: r.zone,
    name: r.name,
    type: r.type,
    content: r.value,
    proxiable: r.type === 'A' || r.type === 'AAAA',
    proxied: false,
    ttl: r.ttl,
    comment: r.remark === '' ? null : r.remark,
    tags: [],
    created_on: '2026-01-01T00:00:00Z',
    modified_on: '2026-01-01T00:00:00Z',
  });

  /** The checks "Create DNS Record" makes on a record (returns an error envelope or the record). */
  const check = (zone: string, input: z.infer<typeof RecordInput>, self?: string) => {
    const name = input.name.toLowerCase().replace(/\.$/, '');
    if (name !== zone && !name.endsWith(`.${zone}`))
      return fail(1004, `DNS Validation Error: ${input.name} is not in the zone ${zone}`);
    const ttl = input.ttl ?? 1;
    if (ttl !== 1 && (ttl < minTtl || ttl > 86400))
      return fail(9303, `TTL must be between ${minTtl} and 86400 seconds, or 1 for Automatic`);
    if (input.type === 'A' && !IPV4.test(input.content))
      return fail(9005, 'Content for A record is invalid. Must be a valid IPv4 address');
    if (input.type === 'AAAA' && !IPV6.test(input.content))
      return fail(9006, 'Content for AAAA record is invalid. Must be a valid IPv6 address');
    const same = book.records.filter((r) => r.zone === zone && r.name === name && r.id !== self);
    if (same.some((r) => r.type === input.type && r.value === input.content))
      return fail(81058, 'An identical record already exists.');
    if (
      (['A', 'AAAA'].includes(input.type) && same.some((r) => r.type === 'CNAME')) ||
      (input.type === 'CNAME' && same.length > 0)
    )
      return fail(81053, 'An A, AAAA, or CNAME record with that host already exists.');
    return { name, ttl };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const call = { method, what: `${url.pathname}${url.search}` } as {
      method: string;
      what: string;
      params?: unknown;
    };
    book.calls.push(call);
    if (req.headers.authorization !== `Bearer ${opts.token}`)
      return sendJson(res, 403, fail(10000, 'Authentication error'));
    const f = fails.take(url.pathname);
    if (f) {
      if (f.retryAfter) res.setHeader('retry-after', f.retryAfter);
      return sendJson(res, f.status, fail(971, 'injected failure'));
    }
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'client' || parts[1] !== 'v4' || parts[2] !== 'zones')
      return sendJson(
        res,
        404,
        fail(7003, 'Could not route to /, perhaps your object identifier is invalid?'),
      );
    if (parts.length === 3 && method === 'GET') {
      const nameFilter = url.searchParams.get('name');
      const all = [...zoneIds]
        .filter(([n]) => nameFilter === null || n === nameFilter)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, id]) => ({ id, name, status: 'active' }));
      url.searchParams.delete('name');
      return page(all, url, 50, 20, res);
    }
    const zone = zoneById(parts[3] ?? '');
    if (zone === undefined) return sendJson(res, 404, fail(7003, 'Could not route to zone'));
    if (parts[4] !== 'dns_records') return sendJson(res, 404, fail(7000, 'No route for that URI'));
    if (parts.length === 5 && method === 'GET') {
      const all = book.records.filter((r) => r.zone === zone).map(view);
      return page(all, url, 5_000_000, 100, res);
    }
    if (parts.length === 5 && method === 'POST') {
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return sendJson(res, 400, fail(6003, 'Invalid request headers'));
      let json: unknown;
      try {
        json = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, fail(6007, 'Malformed JSON in request body'));
      }
      call.params = json;
      const parsed = RecordInput.safeParse(json);
      if (!parsed.success)
        return sendJson(
          res,
          400,
          fail(
            9000,
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          ),
        );
      const checked = check(zone, parsed.data);
      if ('success' in checked) return sendJson(res, 400, checked);
      const stored = book.add({
        zone,
        name: checked.name,
        type: parsed.data.type,
        line: '',
        value: parsed.data.content,
        ttl: checked.ttl,
        remark: parsed.data.comment ?? '',
      });
      if (stored.type === 'TXT') await book.txtChanged(stored.name);
      return sendJson(res, 200, ok(view(stored)));
    }
    const existing = parts.length === 6 ? book.find(parts[5] ?? '') : undefined;
    if (existing === undefined || existing.zone !== zone)
      return sendJson(res, 404, fail(81044, 'Record does not exist.'));
    if (method === 'DELETE') {
      book.remove(existing.id);
      if (existing.type === 'TXT') await book.txtChanged(existing.name);
      return sendJson(res, 200, ok({ id: existing.id }));
    }
    if (method === 'PATCH') {
      let json: unknown;
      try {
        json = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, fail(6007, 'Malformed JSON in request body'));
      }
      call.params = json;
      const merged = {
        type: existing.type,
        name: existing.name,
        content: existing.value,
        ttl: existing.ttl,
        ...(existing.remark !== '' ? { comment: existing.remark } : {}),
        ...(json as object),
      };
      const parsed = RecordInput.safeParse(merged);
      if (!parsed.success)
        return sendJson(
          res,
          400,
          fail(
            9000,
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          ),
        );
      const checked = check(zone, parsed.data, existing.id);
      if ('success' in checked) return sendJson(res, 400, checked);
      Object.assign(existing, {
        name: checked.name,
        type: parsed.data.type,
        value: parsed.data.content,
        ttl: checked.ttl,
        remark: parsed.data.comment ?? '',
      });
      if (existing.type === 'TXT') await book.txtChanged(existing.name);
      return sendJson(res, 200, ok(view(existing)));
    }
    return sendJson(res, 405, fail(10405, 'Method not allowed'));
  };

  const srv = await serveLoopback(handle);
  return {
    apiUrl: `http://127.0.0.1:${srv.port}/client/v4`,
    token: opts.token,
    book,
    zoneIds,
    answer: (name, type) => book.values(name, type, ''),
    failNext: fails.failNext,
    stop: srv.stop,
  };
}
