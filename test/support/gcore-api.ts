// A local stand-in for GCore's DNS API v2, strict where the documentation is: the
// `Authorization: APIKey …` header, the RRset body fields and their types (unknown fields are
// refused), the documented picker types (with `healthcheck`, which the guide "What
// Healthcheck are and how to configure them" adds and the API schema omits) and failover
// fields. It keeps zones and RRsets in memory, counts write calls, can be told to fail (for
// retries and partial failures), and answers queries the way the guides describe (`answer`):
// pickers applied in order, health checks really made (to loopback addresses only).
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { z } from 'zod';
import { COUNTRY_CENTRES } from '../../src/dns/geoip/centroids.js';

/** The geodns picker's continent codes ("Dynamic response"). */
const CONTINENT_CODES = ['af', 'an', 'as', 'eu', 'na', 'sa', 'oc'] as const;

const RecordMeta = z
  .object({
    asn: z.array(z.number().int()).optional(),
    continents: z.array(z.enum(CONTINENT_CODES)).optional(),
    countries: z.array(z.string().regex(/^[a-z]{2}$/)).optional(),
    latlong: z.tuple([z.number(), z.number()]).optional(),
    backup: z.boolean().optional(),
    // a list, as GCore's SDKs and Terraform provider write it
    notes: z.array(z.string()).optional(),
    weight: z.number().optional(),
    ip: z.array(z.string()).optional(),
    default: z.boolean().optional(),
    fallback: z.boolean().optional(),
  })
  .strict();

const Failover = z
  .object({
    protocol: z.enum(['HTTP', 'TCP', 'UDP', 'ICMP']),
    port: z.number().int().min(1).max(65535),
    frequency: z.number().int().min(10).max(3600),
    timeout: z.number().int().min(1).max(10),
    method: z.string().optional(),
    command: z.string().optional(),
    url: z.string().optional(),
    tls: z.boolean().optional(),
    regexp: z.string().optional(),
    http_status_code: z.number().int().optional(),
    host: z.string().optional(),
  })
  .strict();

export const RRsetInput = z
  .object({
    ttl: z.number().int().min(0).optional(),
    resource_records: z
      .array(
        z
          .object({
            content: z.array(z.unknown()).min(1),
            enabled: z.boolean().optional(),
            meta: RecordMeta.optional(),
          })
          .strict(),
      )
      .min(1),
    pickers: z
      .array(
        z
          .object({
            type: z.enum([
              'healthcheck',
              'geodns',
              'asn',
              'country',
              'continent',
              'region',
              'ip',
              'geodistance',
              'weighted_shuffle',
              'default',
              'first_n',
            ]),
            limit: z.number().int().min(0).optional(),
            strict: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    meta: z
      .object({ failover: Failover.optional(), geodns_link: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type RRsetInput = z.infer<typeof RRsetInput>;

interface StoredRRset extends RRsetInput {
  name: string;
  type: string;
}

export interface GcoreCall {
  method: string;
  path: string;
  /** The JSON body of a write. */
  body?: unknown;
}

/** A client as the geodns and geodistance pickers see it (from its resolver or ECS subnet). */
export interface GcoreClient {
  country: string;
  asn?: number;
}

export interface GcoreStandIn {
  /** Who answers `name type` for `client`, health checks made now ("Dynamic response"). */
  answer: (zone: string, name: string, type: string, client: GcoreClient) => Promise<string[]>;
  /** settings.api_url: http://127.0.0.1:PORT/dns */
  apiUrl: string;
  apiKey: string;
  calls: GcoreCall[];
  writes: () => GcoreCall[];
  zones: Map<string, Map<string, StoredRRset>>;
  /** The next `count` requests whose path contains `pathPart` answer `status`. */
  failNext: (status: number, count: number, pathPart?: string, retryAfter?: string) => void;
  stop: () => Promise<void>;
}

const RRSET_TYPES = new Set([
  'A',
  'AAAA',
  'NS',
  'CNAME',
  'MX',
  'TXT',
  'SRV',
  'CAA',
  'HTTPS',
  'SVCB',
]);

export async function startGcoreApi(opts: {
  apiKey: string;
  zones: string[];
  /** Name of the picker list in responses: older responses call it `filters`. */
  pickersField?: 'pickers' | 'filters';
}): Promise<GcoreStandIn> {
  const zones = new Map<string, Map<string, StoredRRset>>(opts.zones.map((z) => [z, new Map()]));
  const calls: GcoreCall[] = [];
  const failures: { status: number; left: number; pathPart: string; retryAfter?: string }[] = [];

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += d.toString()));
      req.on('end', () => resolve(b));
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const call: GcoreCall = { method, path: url.pathname };
    calls.push(call);
    if (req.headers.authorization !== `APIKey ${opts.apiKey}`)
      return send(res, 401, {
        error: 'wrong or missing Authorization header (want "APIKey <key>")',
      });
    const failure = failures.find((f) => f.left > 0 && url.pathname.includes(f.pathPart));
    if (failure) {
      failure.left--;
      if (failure.retryAfter !== undefined) res.setHeader('retry-after', failure.retryAfter);
      return send(res, failure.status, { error: 'injected failure' });
    }
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (parts[0] !== 'dns' || parts[1] !== 'v2' || parts[2] !== 'zones')
      return send(res, 404, { error: 'not found' });
    for (const [k, v] of url.searchParams)
      if (!['limit', 'offset'].includes(k) || !/^\d+$/.test(v))
        return send(res, 400, { error: `unknown or bad query parameter ${k}` });
    const limit = Number(url.searchParams.get('limit') ?? '1000');
    const offset = Number(url.searchParams.get('offset') ?? '0');
    if (parts.length === 3 && method === 'GET') {
      const all = [...zones.keys()].sort().map((name) => ({ name }));
      return send(res, 200, { zones: all.slice(offset, offset + limit), total_amount: all.length });
    }
    const zoneName = parts[3] ?? '';
    const zone = zones.get(zoneName);
    if (!zone) return send(res, 404, { error: `zone ${zoneName} not found` });
    if (parts.length === 4 && method === 'GET') return send(res, 200, { name: zoneName });
    if (parts.length === 5 && parts[4] === 'rrsets' && method === 'GET') {
      const all = [...zone.values()].sort((a, b) => (a.name + a.type < b.name + b.type ? -1 : 1));
      return send(res, 200, {
        rrsets: all.slice(offset, offset + limit).map(withIds),
        total_amount: all.length,
      });
    }
    if (parts.length !== 6) return send(res, 404, { error: 'not found' });
    const name = parts[4] ?? '';
    const type = parts[5] ?? '';
    if (!RRSET_TYPES.has(type)) return send(res, 400, { error: `unknown rrset type ${type}` });
    if (name !== zoneName && !name.endsWith(`.${zoneName}`))
      return send(res, 400, { error: `${name} is not in zone ${zoneName}` });
    const key = `${name} ${type}`;
    const existing = zone.get(key);
    if (method === 'GET')
      return existing
        ? send(res, 200, withIds(existing))
        : send(res, 404, { error: 'rrset not found' });
    if (method === 'DELETE') {
      if (!existing) return send(res, 404, { error: 'rrset not found' });
      zone.delete(key);
      return send(res, 200, {});
    }
    if (method !== 'POST' && method !== 'PUT')
      return send(res, 405, { error: 'method not allowed' });
    if (req.headers['content-type'] !== 'application/json')
      return send(res, 400, { error: 'content-type must be application/json' });
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
      call.body = json;
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    const parsed = RRsetInput.safeParse(json);
    if (!parsed.success)
      return send(res, 400, {
        error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    if (method === 'POST' && existing) return send(res, 400, { error: 'rrset already exists' });
    if (method === 'PUT' && !existing) return send(res, 404, { error: 'rrset not found' });
    const stored: StoredRRset = { name, type, ...parsed.data };
    zone.set(key, stored);
    return send(res, 200, withIds(stored));
  };

  let nextId = 1;
  const withIds = (r: StoredRRset) => ({
    name: r.name,
    type: r.type,
    ttl: r.ttl ?? 3600,
    meta: r.meta ?? {},
    [opts.pickersField ?? 'pickers']: r.pickers ?? [],
    resource_records: r.resource_records.map((x) => ({
      id: nextId++,
      enabled: true,
      meta: {},
      ...x,
    })),
    filter_set_id: 0,
    updated_at: 1_700_000_000,
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    answer: (zone, name, type, client) => {
      const rrset = zones.get(zone)?.get(`${name} ${type}`);
      if (rrset === undefined) return Promise.resolve([]);
      return answer(rrset, client);
    },
    apiUrl: `http://127.0.0.1:${port}/dns`,
    apiKey: opts.apiKey,
    calls,
    writes: () => calls.filter((c) => c.method !== 'GET'),
    zones,
    failNext: (status, count, pathPart = '/', retryAfter) =>
      failures.push({
        status,
        left: count,
        pathPart,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      }),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Rec = RRsetInput['resource_records'][number];
type Failover = z.infer<typeof Failover>;

/** One HTTP health check as "What Healthcheck are and how to configure them" describes it. */
function probe(ip: string, f: Failover): Promise<boolean> {
  // Tests only ever talk to loopback: a record elsewhere counts as down, unprobed.
  if (!/^127\./.test(ip) && ip !== '::1') return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request(
      {
        host: ip,
        port: f.port,
        path: f.url ?? '/',
        method: f.method ?? 'GET',
        headers: f.host !== undefined ? { host: f.host } : {},
        timeout: f.timeout * 1000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve(
            res.statusCode === (f.http_status_code ?? 200) &&
              (f.regexp === undefined || new RegExp(f.regexp).test(body)),
          ),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

const rad = (d: number) => (d * Math.PI) / 180;
function distance(a: [number, number], b: [number, number]): number {
  const h =
    Math.sin(rad(b[0] - a[0]) / 2) ** 2 +
    Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin(rad(b[1] - a[1]) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/**
 * The answer for `client`, pickers applied in the order the RRset lists them ("Dynamic
 * response": each picker narrows or orders what the previous one left):
 * - disabled records are never answered;
 * - healthcheck: records failing the RRset's `meta.failover` check are dropped; `backup`
 *   records are answered only when no other record is healthy (the guide: backups are used
 *   together with health checks); without this picker `backup` means nothing;
 * - geodns: the records whose `asn`, else `countries`, else `continents` hold the client's
 *   (not strict: all that are left when none does; strict: none). The order is the API
 *   reference's ("Create RRset", "geodns filter": a record's `ip`, `asn`, countries,
 *   continents are considered in the order specified; the requestor's ASN and country come
 *   from its ECS subnet, here given as `client`); steering by network relies on it;
 * - weighted_shuffle: random order by `weight`;
 * - geodistance: nearest `latlong` first (records without it last);
 * - first_n: the first `limit`.
 */
async function answer(rrset: StoredRRset, client: GcoreClient): Promise<string[]> {
  const centre = COUNTRY_CENTRES.get(client.country.toUpperCase());
  const continent = centre?.continent.toLowerCase();
  const country = client.country.toLowerCase();
  let recs: Rec[] = rrset.resource_records.filter((r) => r.enabled !== false);
  for (const p of rrset.pickers ?? []) {
    if (p.type === 'healthcheck') {
      const f = rrset.meta?.failover;
      const healthy =
        f === undefined
          ? recs
          : (
              await Promise.all(
                recs.map(async (r) => ((await probe(String(r.content[0]), f)) ? r : undefined)),
              )
            ).filter((r): r is Rec => r !== undefined);
      const primary = healthy.filter((r) => r.meta?.backup !== true);
      const backups = recs.filter((r) => r.meta?.backup === true);
      recs = primary.length > 0 ? primary : backups.length > 0 ? backups : recs;
    } else if (p.type === 'geodns') {
      const by = (f: (r: Rec) => boolean) => recs.filter(f);
      let m =
        client.asn !== undefined ? by((r) => r.meta?.asn?.includes(client.asn ?? -1) ?? false) : [];
      if (m.length === 0) m = by((r) => r.meta?.countries?.includes(country) ?? false);
      if (m.length === 0 && continent !== undefined)
        m = by((r) => (r.meta?.continents as string[] | undefined)?.includes(continent) ?? false);
      recs = m.length > 0 ? m : p.strict ? [] : recs;
    } else if (p.type === 'weighted_shuffle') {
      const left = [...recs];
      const out: Rec[] = [];
      while (left.length > 0) {
        const total = left.reduce((t, r) => t + (r.meta?.weight ?? 1), 0);
        let x = Math.random() * total;
        let i = left.findIndex((r) => (x -= r.meta?.weight ?? 1) < 0);
        if (i < 0) i = left.length - 1;
        out.push(...left.splice(i, 1));
      }
      recs = out;
    } else if (p.type === 'geodistance') {
      const at: [number, number] | undefined = centre
        ? [centre.latitude, centre.longitude]
        : undefined;
      const d = (r: Rec) =>
        at !== undefined && r.meta?.latlong !== undefined ? distance(at, r.meta.latlong) : Infinity;
      recs = [...recs].sort((a, b) => d(a) - d(b));
    } else if (p.type === 'first_n') {
      recs = recs.slice(0, p.limit ?? 1);
    }
  }
  return recs.map((r) => String(r.content[0]));
}
