import { describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/index.js';
import { gcoreBody, normaliseBody, notesList, ownedRecord, OUTPOST_NOTE } from './gcore.js';
import { planDnsRecords } from './plan.js';
import { checkLua, luaForRRset } from './powerdns.js';

const spec = parseSpec({
  edges: [
    {
      name: 'a',
      host: { v4: '198.51.100.1' },
      meta: { asn: [13335], countries: ['DE'], continents: ['EU'], latlong: [50, 8], weight: 3 },
    },
    { name: 'b', host: { v4: '198.51.100.2' }, meta: { weight: 0 } },
  ],
  sites: [
    {
      domain: 'www.example.com',
      origins: [{ host: { v4: '203.0.113.1' } }],
      health_check: { uri: 'https://www.example.com/up', match: 'OK', timeout: 2 },
    },
  ],
});
const [rrset] = planDnsRecords(spec).rrsets;
if (rrset === undefined) throw new Error('no set');

describe('GCore body and read-back', () => {
  it('reads notes in both forms and the picker list under either name', () => {
    expect(notesList(['edge:a', OUTPOST_NOTE])).toEqual(['edge:a', OUTPOST_NOTE]);
    expect(notesList(`edge:a ${OUTPOST_NOTE}`)).toEqual(['edge:a', OUTPOST_NOTE]);
    expect(notesList('hand written')).toEqual(['hand written']);
    expect(ownedRecord({ content: ['x'], meta: { notes: `origin ${OUTPOST_NOTE}` } })).toBe(true);
    expect(ownedRecord({ content: ['x'], meta: { notes: ['mine'] } })).toBe(false);
    expect(ownedRecord({ content: ['x'] })).toBe(false);
    const body = gcoreBody(rrset);
    const { pickers, ...rest } = body;
    expect(normaliseBody({ ...rest, filters: pickers })).toEqual(normaliseBody(body));
  });

  it('sends continents as codes and the edge health check with its body match', () => {
    const body = gcoreBody(rrset);
    expect(body.resource_records[1]?.meta).toMatchObject({
      asn: [13335],
      continents: ['eu'],
      countries: ['de'],
      weight: 3,
    });
    expect(body.meta?.failover).toMatchObject({
      url: '/.well-known/outpost/health',
      regexp: 'outpost edge ok',
      timeout: 2,
    });
  });
});

describe('PowerDNS Lua', () => {
  it('honours asn, country, continent and weight, and parses', () => {
    const code = luaForRRset(rrset);
    checkLua(code, 'test');
    expect(code).toContain('asnum(e[6])');
    expect(code).toContain('country(e[4])');
    expect(code).toContain('continent(e[5])');
    expect(code).toContain('pickwrandom(T)');
    // the edge check first, then the end-to-end one with the site's match
    expect(
      code.indexOf("ifurlup('http://health.outpost.invalid/.well-known/outpost/health'"),
    ).toBeGreaterThan(0);
    expect(code).toContain(
      "ifurlup('https://www.example.com/up',{{'198.51.100.1','198.51.100.2'}},{selector='all',backupSelector='all',timeout='2',stringmatch='OK'})",
    );
  });

  it('leaves drained edges out and answers the origins when no edge is left', () => {
    const drained = planDnsRecords(spec, { drainedEdges: new Set(['a', 'b']) }).rrsets[0];
    if (drained === undefined) throw new Error('no set');
    expect(luaForRRset(drained)).toBe("local O={'203.0.113.1'} do return O end");
  });
});
