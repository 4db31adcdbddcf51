// PowerDNS Authoritative (4.7) through its HTTP API. Each planned name becomes one LUA record
// set holding an `A` and/or `AAAA` Lua snippet: health with ifurlup (a string match when
// configured), the nearest healthy edge by coordinates Outpost holds, origins when no edge is
// up; never an empty answer. The Lua is parsed before publishing (PowerDNS accepts broken Lua
// and only SERVFAILs at query time), and records are queried once after a change so that the
// health checks start (they begin at a record's first query).
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import luaparse from 'luaparse';
import type { DnsSettings } from '../spec/index.js';
import { resolveSecret } from '../spec/index.js';
import { requestJson, type HttpOptions } from './http.js';
import { recordEdge, sortKeys, type RRsetPlan } from './plan.js';
import {
  canonicalName,
  DnsProviderError,
  noopLogger,
  requireZoneFor,
  type DnsProvider,
  type DnsProviderOptions,
  type ProviderRRset,
} from './provider.js';
import type { WarmAnswer } from './warm.js';

type PowerDnsSettings = Extract<DnsSettings, { provider: 'powerdns' }>;

/** The comment account that marks a record set as Outpost's. */
export const OUTPOST_ACCOUNT = 'outpost';

interface PdnsRecord {
  content: string;
  disabled: boolean;
}
interface PdnsRRset {
  name: string;
  type: string;
  ttl: number;
  records: PdnsRecord[];
  comments?: { content: string; account: string }[];
}

const luaString = (s: string): string => {
  if (/['\\"\n\r]/.test(s))
    throw new DnsProviderError('invalid_record', `cannot quote ${s} in Lua`);
  return `'${s}'`;
};
const num = (n: number): string => (Number.isFinite(n) ? String(n) : '0');

export interface LuaOptions {
  /** Text an end-to-end check body must contain when the site names none (dns.health_match). */
  stringMatch?: string;
}

interface LuaEdge {
  ip: string;
  lat?: number;
  lon?: number;
  countries: string[];
  continents: string[];
  asn: number[];
  weight: number;
}

const luaList = (xs: readonly string[]): string => `{${xs.map(luaString).join(',')}}`;

/**
 * The Lua snippet (statement mode, without the leading `;`) answering one planned set, in the
 * same steps as GCore's pickers (see planDnsRecords):
 * 1. health: ifurlup on each edge's own health endpoint (`selector='all'`); the origins are
 *    a second set, so an origin in the result means no edge is up: answer the origins. A
 *    site's end-to-end check only narrows the edges that are up (when every edge fails it,
 *    all up edges stay: never the origin because of the origin);
 * 2. geo: the edges listing the client's ASN (`asnum`, from the ASN database of `outpost
 *    geoip build --asn`), else country (`country`), else continent (`continent`), else every
 *    edge left (GeoIP of the client subnet, ECS-aware). `asnum({4134,4837})` with numbers, as
 *    PowerDNS documents it (strings match too: measured with pdns 4.7.3);
 * 3. nearest by coordinates (`latlon()` of the client, the edges' own coordinates from
 *    Outpost, so the edges need not be in the GeoIP database);
 * 4. among edges at equal distance (or without coordinates), a weighted pick (`pickwrandom`).
 * Drained edges (disabled records) are left out. Never an empty answer.
 */
export function luaForRRset(rrset: RRsetPlan, opts: LuaOptions = {}): string {
  const edges: LuaEdge[] = [];
  const origins: string[] = [];
  for (const r of rrset.records) {
    if (!r.enabled) continue;
    for (const ip of r.content) {
      if (isIP(ip) === 0) throw new DnsProviderError('invalid_record', `${ip} is not an address`);
      if (r.meta.backup === true || recordEdge(r.meta) === undefined) origins.push(ip);
      else
        edges.push({
          ip,
          ...(r.meta.latlong ? { lat: r.meta.latlong[0], lon: r.meta.latlong[1] } : {}),
          countries: r.meta.countries ?? [],
          continents: r.meta.continents ?? [],
          asn: r.meta.asn ?? [],
          weight: r.meta.weight ?? 1,
        });
    }
  }
  const O = luaList(origins);
  const lines = [`local O=${O}`];
  if (edges.length === 0) {
    lines.push('do return O end');
    return lines.join(' ');
  }
  const E = `{${edges
    .map(
      (e) =>
        `{${luaString(e.ip)},${e.lat !== undefined ? num(e.lat) : 'nil'},${e.lon !== undefined ? num(e.lon) : 'nil'},${luaList(e.countries)},${luaList(e.continents)},{${e.asn.map(num).join(',')}},${num(e.weight)}}`,
    )
    .join(',')}}`;
  lines.push(`local E=${E}`);
  const edgeIps = luaList(edges.map((e) => e.ip));
  const hc = rrset.pickers.find((p) => p.type === 'healthcheck');
  if (hc) {
    const sets = origins.length > 0 ? `{${edgeIps},${O}}` : `{${edgeIps}}`;
    lines.push(
      `local R=ifurlup(${luaString(rrset.healthUrl)},${sets},{selector='all',backupSelector='all',timeout='${hc.timeout}',stringmatch=${luaString(hc.match)}})`,
      'local up={} for _,a in ipairs(R) do up[a]=true end',
      'for _,o in ipairs(O) do if up[o] then return O end end',
      'local U={} for _,e in ipairs(E) do if up[e[1]] then U[#U+1]=e end end',
      'if #U==0 then U=E end',
    );
    const e2e = rrset.endToEnd;
    if (e2e !== null) {
      const match = e2e.match ?? opts.stringMatch;
      lines.push(
        `local R2=ifurlup(${luaString(e2e.url)},{${edgeIps}},{selector='all',backupSelector='all',timeout='${e2e.timeout}'${match !== undefined ? `,stringmatch=${luaString(match)}` : ''}})`,
        'local ok={} for _,a in ipairs(R2) do ok[a]=true end',
        'local P={} for _,e in ipairs(U) do if ok[e[1]] then P[#P+1]=e end end',
        'if #P>0 then U=P end',
      );
    }
  } else {
    lines.push('local U=E');
  }
  lines.push(
    'local function pick(f) local r={} for _,e in ipairs(U) do if f(e) then r[#r+1]=e end end return r end',
    'local G={}',
  );
  if (edges.some((e) => e.asn.length > 0))
    lines.push('G=pick(function(e) return #e[6]>0 and asnum(e[6]) end)');
  if (edges.some((e) => e.countries.length > 0))
    lines.push('if #G==0 then G=pick(function(e) return #e[4]>0 and country(e[4]) end) end');
  if (edges.some((e) => e.continents.length > 0))
    lines.push('if #G==0 then G=pick(function(e) return #e[5]>0 and continent(e[5]) end) end');
  lines.push(
    'if #G==0 then G=U end',
    "local la,lo=string.match(latlon(),'^(%S+) (%S+)$') la=tonumber(la) lo=tonumber(lo)",
    'if la==0 and lo==0 then la=nil end',
    'local r=math.rad',
    'local function d(e) if not (la and lo and e[2]) then return 9 end',
    ' return math.sin(r(e[2]-la)/2)^2+math.cos(r(la))*math.cos(r(e[2]))*math.sin(r(e[3]-lo)/2)^2 end',
    'local b=9 for _,e in ipairs(G) do local x=d(e) if x<b then b=x end end',
    'local T={} local w=0 for _,e in ipairs(G) do if d(e)<=b+1e-9 then T[#T+1]={e[7],e[1]} w=w+e[7] end end',
    'if #T==1 then return T[1][2] end',
    'if w==0 then for _,t in ipairs(T) do t[1]=1 end end',
    'return pickwrandom(T)',
  );
  return lines.join(' ');
}

/** Parses Lua the way PowerDNS would run it; throws invalid_record with the parser's words. */
export function checkLua(code: string, where: string): void {
  try {
    luaparse.parse(code, { luaVersion: '5.1' });
  } catch (err) {
    throw new DnsProviderError(
      'invalid_record',
      `generated Lua for ${where} does not parse: ${(err as Error).message}`,
    );
  }
}

const dot = (n: string): string => `${n}.`;

function normaliseRecords(records: PdnsRecord[]): PdnsRecord[] {
  return records
    .map((r) => ({ content: r.content, disabled: r.disabled }))
    .sort((a, b) => (a.content < b.content ? -1 : a.content > b.content ? 1 : 0));
}

export class PowerDnsProvider implements DnsProvider {
  readonly kind = 'powerdns' as const;
  readonly managedTypes = ['LUA', 'A', 'AAAA'] as const;
  private readonly http: HttpOptions;
  private readonly base: string;

  constructor(
    private readonly settings: PowerDnsSettings,
    opts: DnsProviderOptions,
  ) {
    this.base = `${settings.api_url.replace(/\/+$/, '')}/api/v1/servers/${encodeURIComponent(settings.server_id)}`;
    this.http = {
      fetch: opts.fetch ?? globalThis.fetch,
      headers: { 'X-API-Key': resolveSecret(settings.api_key, opts.secretVars) },
      logger: opts.logger ?? noopLogger,
      retryBaseMs: opts.retryBaseMs ?? 500,
      api: 'PowerDNS',
    };
  }

  async listZones(): Promise<string[]> {
    const res = await requestJson(this.http, 'GET', `${this.base}/zones`);
    return ((res.body as { name: string }[] | undefined) ?? []).map((z) => canonicalName(z.name));
  }

  async ensureZone(zone: string): Promise<void> {
    const res = await requestJson(
      this.http,
      'GET',
      `${this.base}/zones/${encodeURIComponent(dot(zone))}?rrsets=false`,
    );
    if (res.status !== 404) return;
    await requestJson(this.http, 'POST', `${this.base}/zones`, {
      name: dot(zone),
      kind: 'Native',
      nameservers: this.settings.nameservers.map(dot),
      soa_edit_api: 'DEFAULT',
    });
  }

  async listRRsets(zone: string): Promise<ProviderRRset[]> {
    const res = await requestJson(
      this.http,
      'GET',
      `${this.base}/zones/${encodeURIComponent(dot(zone))}`,
    );
    if (res.status === 404)
      throw new DnsProviderError('zone_missing', `PowerDNS has no zone ${zone}`, 404);
    const rrsets = (res.body as { rrsets?: PdnsRRset[] }).rrsets ?? [];
    return rrsets.map((r) => ({
      name: canonicalName(r.name),
      type: r.type,
      ttl: r.ttl,
      body: { records: normaliseRecords(r.records) },
      managed: (r.comments ?? []).some((c) => c.account === OUTPOST_ACCOUNT),
    }));
  }

  render(rrsets: readonly RRsetPlan[]): ProviderRRset[] {
    const byName = new Map<string, { ttl: number; records: PdnsRecord[] }>();
    for (const r of rrsets) {
      const code = luaForRRset(
        r,
        this.settings.health_match !== undefined ? { stringMatch: this.settings.health_match } : {},
      );
      checkLua(code, `${r.name} ${r.type}`);
      if (/["\\]/.test(code))
        throw new DnsProviderError(
          'invalid_record',
          `generated Lua for ${r.name} contains a quote`,
        );
      const entry = byName.get(r.name) ?? { ttl: r.ttl, records: [] };
      entry.ttl = Math.min(entry.ttl, r.ttl);
      entry.records.push({ content: `${r.type} ";${code}"`, disabled: false });
      byName.set(r.name, entry);
    }
    return [...byName.entries()].map(([name, e]) => ({
      name,
      type: 'LUA',
      ttl: e.ttl,
      body: sortKeys({ records: normaliseRecords(e.records) }),
      managed: true,
    }));
  }

  private async patch(zone: string, rrset: object): Promise<void> {
    const res = await requestJson(
      this.http,
      'PATCH',
      `${this.base}/zones/${encodeURIComponent(dot(zone))}`,
      {
        rrsets: [rrset],
      },
    );
    if (res.status === 404)
      throw new DnsProviderError('zone_missing', `PowerDNS has no zone ${zone}`, 404);
  }

  private async write(zone: string, rrset: ProviderRRset): Promise<void> {
    const body = rrset.body as { records: PdnsRecord[] };
    await this.patch(zone, {
      name: dot(rrset.name),
      type: rrset.type,
      ttl: rrset.ttl,
      changetype: 'REPLACE',
      records: body.records,
      comments: [{ content: 'managed by Outpost', account: OUTPOST_ACCOUNT }],
    });
  }

  createRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    return this.write(zone, rrset);
  }

  replaceRRset(zone: string, rrset: ProviderRRset): Promise<void> {
    return this.write(zone, rrset);
  }

  deleteRRset(zone: string, name: string, type: string): Promise<void> {
    return this.patch(zone, { name: dot(name), type, changetype: 'DELETE' });
  }

  /** Queries each written name once per type so PowerDNS starts its health checks. */
  async afterApply(_zone: string, written: readonly ProviderRRset[]): Promise<void> {
    const servers = await this.authoritativeServers('');
    if (servers.length === 0) return;
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers(servers);
    await Promise.all(
      written.flatMap((r) =>
        ((r.body as { records: PdnsRecord[] }).records ?? []).map(async (rec) => {
          const type = rec.content.startsWith('AAAA') ? 'AAAA' : 'A';
          try {
            await (type === 'A' ? resolver.resolve4(r.name) : resolver.resolve6(r.name));
          } catch {
            // a warm-up query: its answer does not matter
          }
        }),
      ),
    );
  }

  /** One query per set (A or AAAA) at `dns_servers`, eight at a time: starts and keeps checks warm. */
  async warm(rrsets: readonly RRsetPlan[]): Promise<WarmAnswer[]> {
    const servers = await this.authoritativeServers('');
    if (servers.length === 0) return [];
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers(servers);
    const out: WarmAnswer[] = [];
    const queue = [...rrsets];
    const worker = async (): Promise<void> => {
      for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
        let answers: string[] = [];
        try {
          answers = await (r.type === 'A' ? resolver.resolve4(r.name) : resolver.resolve6(r.name));
        } catch {
          // an unanswered warm-up query still started the checks; nothing to record
        }
        out.push({ name: r.name, type: r.type, answers: answers.sort() });
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return out;
  }

  async uptimeSeconds(): Promise<number | undefined> {
    const res = await requestJson(this.http, 'GET', `${this.base}/statistics?statistic=uptime`);
    const items = (res.body as { name: string; value: string }[] | undefined) ?? [];
    const v = Number(items.find((i) => i.name === 'uptime')?.value);
    return Number.isFinite(v) ? v : undefined;
  }

  private async txtSet(
    fqdn: string,
  ): Promise<{ zone: string; name: string; rrset: PdnsRRset | undefined }> {
    const zone = requireZoneFor(fqdn, await this.listZones(), 'PowerDNS');
    const res = await requestJson(
      this.http,
      'GET',
      `${this.base}/zones/${encodeURIComponent(dot(zone))}`,
    );
    const rrsets = (res.body as { rrsets?: PdnsRRset[] }).rrsets ?? [];
    const name = dot(canonicalName(fqdn));
    return {
      zone,
      name,
      rrset: rrsets.find((r) => r.name.toLowerCase() === name && r.type === 'TXT'),
    };
  }

  async setTxt(fqdn: string, value: string): Promise<void> {
    const { zone, name, rrset } = await this.txtSet(fqdn);
    const content = JSON.stringify(value);
    const records = rrset?.records ?? [];
    if (records.some((r) => r.content === content)) return;
    await this.patch(zone, {
      name,
      type: 'TXT',
      ttl: rrset?.ttl ?? 60,
      changetype: 'REPLACE',
      records: [...records, { content, disabled: false }],
    });
  }

  async removeTxt(fqdn: string, value: string): Promise<void> {
    const { zone, name, rrset } = await this.txtSet(fqdn);
    if (rrset === undefined) return;
    const content = JSON.stringify(value);
    const records = rrset.records.filter((r) => r.content !== content);
    if (records.length === rrset.records.length) return;
    await this.patch(
      zone,
      records.length === 0
        ? { name, type: 'TXT', changetype: 'DELETE' }
        : { name, type: 'TXT', ttl: rrset.ttl, changetype: 'REPLACE', records },
    );
  }

  authoritativeServers(_fqdn: string): Promise<string[]> {
    return Promise.resolve([...(this.settings.dns_servers ?? [])]);
  }
}
