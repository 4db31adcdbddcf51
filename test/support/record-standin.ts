// What the stand-ins of the plain-record DNS APIs share (Cloudflare, DNSPod, Alibaba Cloud
// DNS): zones of records kept in memory (one record per value, with a line where the provider
// has lines), a loopback HTTP server, failures on demand, a log of calls, and a mirror of the
// TXT records to a real DNS server (pebble-challtestsrv) so that Pebble's DNS-01 lookups see
// what the API holds, as a real provider's nameservers would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { NETWORK_LINES } from '../../src/dns/network-lines.js';

export interface StoredRecord {
  id: string;
  zone: string;
  /** Fully qualified, lowercase, without the trailing dot. */
  name: string;
  type: string;
  /** The provider's line ('' where it has none). */
  line: string;
  value: string;
  ttl: number;
  /** The comment/remark field. */
  remark: string;
  enabled: boolean;
}

export interface StandInCall {
  method: string;
  /** Path and query, or the RPC action. */
  what: string;
  params?: unknown;
}

export interface RecordBook {
  zones: Set<string>;
  records: StoredRecord[];
  calls: StandInCall[];
  writes: () => StandInCall[];
  add: (r: Omit<StoredRecord, 'id' | 'enabled'> & { enabled?: boolean }) => StoredRecord;
  find: (id: string) => StoredRecord | undefined;
  remove: (id: string) => boolean;
  /** The values of the enabled records at `name type` on `line`. */
  values: (name: string, type: string, line: string) => string[];
  /** The text a stored value is served as (Cloudflare: a quoted TXT content without quotes). */
  serve: (type: string, value: string) => string;
  /** Called after every write with the TXT values of the name written. */
  onTxt: ((name: string, values: string[]) => Promise<void>) | undefined;
  txtChanged: (name: string) => Promise<void>;
}

export function recordBook(zones: readonly string[]): RecordBook {
  let next = 1;
  const book: RecordBook = {
    zones: new Set(zones),
    records: [],
    calls: [],
    writes: () => book.calls.filter((c) => c.method !== 'GET' && !/^(Describe|List)/.test(c.what)),
    add: (r) => {
      const stored: StoredRecord = { enabled: true, ...r, id: String(next++) };
      book.records.push(stored);
      return stored;
    },
    find: (id) => book.records.find((r) => r.id === id),
    remove: (id) => {
      const i = book.records.findIndex((r) => r.id === id);
      if (i < 0) return false;
      book.records.splice(i, 1);
      return true;
    },
    values: (name, type, line) =>
      book.records
        .filter((r) => r.enabled && r.name === name && r.type === type && r.line === line)
        .map((r) => book.serve(r.type, r.value))
        .sort(),
    serve: (_type, value) => value,
    onTxt: undefined,
    txtChanged: async (name) => {
      if (book.onTxt === undefined) return;
      await book.onTxt(name, book.values(name, 'TXT', txtLine(book, name)));
    },
  };
  return book;
}

/** TXT records are on the default line (the first line any record of the name has). */
function txtLine(book: RecordBook, name: string): string {
  return book.records.find((r) => r.name === name && r.type === 'TXT')?.line ?? '';
}

export interface Failures {
  /** The next `count` requests matching `part` (path or action) fail with `status`. */
  failNext: (status: number, count: number, part?: string, retryAfter?: string) => void;
  take: (what: string) => { status: number; retryAfter?: string } | undefined;
}

export function failures(): Failures {
  const list: { status: number; left: number; part: string; retryAfter?: string }[] = [];
  return {
    failNext: (status, count, part = '', retryAfter) =>
      list.push({ status, left: count, part, ...(retryAfter ? { retryAfter } : {}) }),
    take: (what) => {
      const f = list.find((x) => x.left > 0 && what.includes(x.part));
      if (f === undefined) return undefined;
      f.left--;
      return { status: f.status, ...(f.retryAfter ? { retryAfter: f.retryAfter } : {}) };
    },
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (b += d));
    req.on('end', () => resolve(b));
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts `handle` on 127.0.0.1 (a free port); errors answer 500. */
export async function serveLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const IPV6 = /^[0-9a-fA-F:]+(:\d+\.\d+\.\d+\.\d+)?$/;

// ---- what the stand-ins of the providers with lines (DNSPod, Alibaba) share ----
/** A client as the providers with lines see it: its country and, when known, its ASN. */
export interface LineClient {
  country: string;
  asn?: number;
}

/** The host-record syntax both take: `@`, `*`, `*.sub`, dotted labels of a-z 0-9 `_` `-`. */
const HOST_RECORD =
  /^(@|\*|(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*)$/;

/** The host record (`@`, `www`, `*.x`) of `zone` as a stored name; undefined: bad syntax. */
export function recordName(host: string, zone: string): string | undefined {
  if (!HOST_RECORD.test(host)) return undefined;
  return host === '@' ? zone : `${host}.${zone}`;
}

/** A stored name as the host record the providers list it by (`@` for the apex). */
export function hostRecord(name: string, zone: string): string {
  return name === zone ? '@' : name.slice(0, -zone.length - 1);
}

/** Is `value` one both refuse for `type` (empty, or not an address for A/AAAA)? */
export function badRecordValue(type: string, value: string): boolean {
  return (
    (type === 'A' && !IPV4.test(value)) || (type === 'AAAA' && !IPV6.test(value)) || value === ''
  );
}

/** The stored record with the same zone, name, type, line and value, other than `self`. */
export function sameRecord(
  book: RecordBook,
  r: Pick<StoredRecord, 'zone' | 'name' | 'type' | 'line' | 'value'>,
  self?: string,
): StoredRecord | undefined {
  return book.records.find(
    (x) =>
      x.id !== self &&
      x.zone === r.zone &&
      x.name === r.name &&
      x.type === r.type &&
      x.line === r.line &&
      x.value === r.value,
  );
}

/**
 * How a provider with lines answers ("解析线路"): a client is on the line of the preset whose
 * ASNs hold its ASN (the preset's `dnspod` or `alidns` line name), else on `china` in
 * mainland China and on `abroad` outside it; it gets its line's records, and `fallback`'s
 * when its line has none.
 */
export function lineAnswers(
  book: RecordBook,
  provider: 'dnspod' | 'alidns',
  lines: { china: string; abroad: string; fallback: string },
): {
  lineOf: (client: LineClient) => string;
  answer: (name: string, type: string, client: LineClient) => string[];
} {
  const lineOf = (client: LineClient) => {
    const preset = Object.values(NETWORK_LINES).find(
      (l) => client.asn !== undefined && l.asns.includes(client.asn),
    );
    if (preset !== undefined) return preset[provider];
    return client.country.toUpperCase() === 'CN' ? lines.china : lines.abroad;
  };
  return {
    lineOf,
    answer: (name, type, client) => {
      const own = book.values(name, type, lineOf(client));
      return own.length > 0 ? own : book.values(name, type, lines.fallback);
    },
  };
}
