// Steering by network (issue 22) in the provider-neutral plan and in both providers' bodies:
// edges' `networks` (ASNs and line presets) become the records' `asn` meta, expanded, sorted
// and deduplicated; a site's `networks` override the edges' for its records. The golden file
// src/dns/golden/networks-expected.json holds the plan, the GCore bodies and the PowerDNS
// records of src/dns/golden/networks-config.json (UPDATE_GOLDEN=1 rewrites it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { NETWORK_LINES, parseSpec } from '../spec/index.js';
import { gcoreBody } from './gcore.js';
import { edgeAsns, planDnsRecords } from './plan.js';
import { checkLua, luaForRRset } from './powerdns.js';

const golden = new URL('./golden/networks-expected.json', import.meta.url);
const config = JSON.parse(
  readFileSync(new URL('./golden/networks-config.json', import.meta.url), 'utf8'),
) as unknown;

const asnOf = (spec: ReturnType<typeof parseSpec>, name: string, edge: string) =>
  planDnsRecords(spec)
    .rrsets.find((r) => r.name === name && r.type === 'A')
    ?.records.find((r) => r.meta.notes === `edge:${edge}`)?.meta.asn;

describe('networks in the DNS plan', () => {
  it('expands line presets with the ASNs and meta.asn: sorted, deduplicated', () => {
    const spec = parseSpec({
      edges: [
        {
          name: 'ct',
          host: { v4: '198.51.100.1' },
          meta: { asn: [64500, 4134] },
          networks: { asns: [4134, 64501], lines: ['china-telecom-cn2', 'china-telecom-cn2'] },
        },
        { name: 'plain', host: { v4: '198.51.100.2' } },
      ],
      sites: [{ domain: 'www.example.com', origins: [{ host: { v4: '203.0.113.1' } }] }],
    });
    expect(asnOf(spec, 'www.example.com', 'ct')).toEqual([4134, 4809, 23764, 64500, 64501]);
    expect(asnOf(spec, 'www.example.com', 'plain')).toBeUndefined();
  });

  it("a site's networks replace the edges' own: by name over tag or *, the first within a level; an entry without networks clears them", () => {
    const spec = parseSpec({
      edges: [
        {
          name: 'a',
          host: { v4: '198.51.100.1' },
          tags: ['cn'],
          networks: { lines: ['china-telecom'] },
        },
        {
          name: 'b',
          host: { v4: '198.51.100.2' },
          tags: ['cn'],
          networks: { lines: ['china-unicom'] },
        },
        { name: 'c', host: { v4: '198.51.100.3' }, networks: { asns: [4538] } },
      ],
      sites: [
        {
          domain: 'a.example.com',
          origins: [{ host: { v4: '203.0.113.1' } }],
          networks: [
            { edges: ['tag:cn'], lines: ['china-mobile-cmi'] },
            { edges: ['*'], asns: [64511] },
            { edges: ['a'], lines: ['china-telecom-cn2'] },
            { edges: ['a'], asns: [1] },
            { edges: ['c'] },
          ],
        },
        { domain: 'b.example.com', origins: [{ host: { v4: '203.0.113.1' } }] },
      ],
    });
    expect(asnOf(spec, 'a.example.com', 'a')).toEqual([4809, 23764]);
    expect(asnOf(spec, 'a.example.com', 'b')).toEqual([58453, 58807]);
    expect(asnOf(spec, 'a.example.com', 'c')).toBeUndefined();
    // another site keeps the edges' own networks
    expect(asnOf(spec, 'b.example.com', 'a')).toEqual(NETWORK_LINES['china-telecom']?.asns);
    expect(asnOf(spec, 'b.example.com', 'c')).toEqual([4538]);
    const [a] = spec.edges;
    if (a === undefined) throw new Error('no edge');
    expect(edgeAsns(a)).toEqual(NETWORK_LINES['china-telecom']?.asns);
  });

  it('PowerDNS: the ASNs as a Lua list of numbers for asnum(), network first, then country, continent', () => {
    const spec = parseSpec(config);
    const rrset = planDnsRecords(spec).rrsets[0];
    if (rrset === undefined) throw new Error('no set');
    const lua = luaForRRset(rrset);
    checkLua(lua, 'networks');
    expect(lua).toContain('{4134,4809,4811,4812,4816,4835,23724,23764,58461,58466,140292,140293}');
    const at = (s: string) => lua.indexOf(s);
    expect(at('asnum(e[6])')).toBeGreaterThan(0);
    expect(at('asnum(e[6])')).toBeLessThan(at('country(e[4])'));
    expect(at('country(e[4])')).toBeLessThan(at('continent(e[5])'));
    expect(at('continent(e[5])')).toBeLessThan(at('latlon()'));
  });

  it('GCore: the geodns picker after the health check, the records carry asn as numbers', () => {
    const spec = parseSpec(config);
    const rrset = planDnsRecords(spec).rrsets[0];
    if (rrset === undefined) throw new Error('no set');
    const body = gcoreBody(rrset);
    expect(body.pickers?.map((p) => p.type)).toEqual([
      'healthcheck',
      'geodns',
      'weighted_shuffle',
      'geodistance',
      'first_n',
    ]);
    const ct = body.resource_records.find((r) =>
      (r.meta?.notes as string[] | undefined)?.includes('edge:ct'),
    );
    expect(ct?.meta?.asn).toEqual(NETWORK_LINES['china-telecom']?.asns);
  });

  it('golden: plan, GCore bodies and PowerDNS records of networks-config.json', async () => {
    const spec = parseSpec(config);
    const plan = planDnsRecords(spec);
    const out = {
      problems: plan.problems,
      rrsets: plan.rrsets,
      gcore: plan.rrsets.map((r) => ({ name: r.name, type: r.type, body: gcoreBody(r) })),
      powerdns: plan.rrsets.map((r) => ({ name: r.name, type: r.type, lua: luaForRRset(r) })),
    };
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
      // written as prettier formats it (CI checks the format of every file)
      const options = (await resolveConfig(golden.pathname)) ?? {};
      writeFileSync(golden, await format(JSON.stringify(out), { ...options, parser: 'json' }));
      expect(
        process.env.UPDATE_GOLDEN,
        'golden file was missing: written, check it and run again',
      ).toBe('1');
    }
    expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
  });
});
