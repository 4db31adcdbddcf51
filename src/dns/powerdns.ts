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
  /** Text the health-check body must contain (ifurlup stringmatch). */
  stringMatch?: string;
}

/**
 * The Lua snippet (statement mode, without the leading `;`) answering one planned set:
 * edges by distance from the client's GeoIP coordinates (ECS-aware `latlon()`), only those
 * ifurlup finds up when the site has a health check; the origins when no edge is up.
 */
export function luaForRRset(rrset: RRsetPlan, opts: LuaOptions = {}): string {
  const edges: { ip: string; lat?: number; lon?: number }[] = [];
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
        });
    }
  }
  const E = `{${edges.map((e) => `{${luaString(e.ip)},${e.lat !== undefined ? num(e.lat) : 'nil'},${e.lon !== undefined ? num(e.lon) : 'nil'}}`).join(',')}}`;
  const O = `{${origins.map(luaString).join(',')}}`;
  const lines = [`local E=${E}`, `local O=${O}`];
  if (edges.length === 0) {
    lines.push('do return O end');
  } else if (rrset.healthUrl !== null) {
    const hc = rrset.pickers.find((p) => p.type === 'healthcheck');
    const sets = [edges.map((e) => luaString(e.ip)), origins.map(luaString)].filter(
      (s) => s.length > 0,
    );
    const options = [
      "selector='all'",
      "backupSelector='all'",
      ...(hc ? [`timeout='${hc.timeout}'`] : []),
      ...(opts.stringMatch ? [`stringmatch=${luaString(opts.stringMatch)}`] : []),
    ];
    lines.push(
      `local R=ifurlup(${luaString(rrset.healthUrl)},{${sets.map((s) => `{${s.join(',')}}`).join(',')}},{${options.join(',')}})`,
      'local up={} for _,a in ipairs(R) do up[a]=true end',
      // An origin in the answer: no edge is up (ifurlup fell through to the origins, or
      // everything is down and it returned all): answer the origins.
      'for _,o in ipairs(O) do if up[o] then return O end end',
      'local U={} for _,e in ipairs(E) do if up[e[1]] then U[#U+1]=e end end',
      'if #U==0 then U=E end',
    );
  } else {
    lines.push('local U=E');
  }
  if (edges.length > 0)
    lines.push(
      "local la,lo=string.match(latlon(),'^(%S+) (%S+)$') la=tonumber(la) lo=tonumber(lo)",
      'local best,bd=U[1][1],nil',
      'if la and lo and not (la==0 and lo==0) then',
      ' local r=math.rad',
      ' for _,e in ipairs(U) do if e[2] then',
      '  local h=math.sin(r(e[2]-la)/2)^2+math.cos(r(la))*math.cos(r(e[2]))*math.sin(r(e[3]-lo)/2)^2',
      '  if bd==nil or h<bd then best,bd=e[1],h end',
      ' end end',
      'end',
      'return best',
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
    private readonly opts: DnsProviderOptions,
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
