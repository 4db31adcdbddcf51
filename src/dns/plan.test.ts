import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/index.js';
import { planDnsRecords, recordEdge, zoneOf } from './plan.js';

const golden = (f: string): unknown =>
  JSON.parse(readFileSync(new URL(`./golden/${f}`, import.meta.url), 'utf8'));

describe('planDnsRecords', () => {
  it("reproduces the original GCore sync for the original system's config (hand-written JSON)", () => {
    const spec = parseSpec(golden('original-config.json'));
    const plan = planDnsRecords(spec);
    expect(plan.problems).toEqual([]);
    expect(plan.rrsets).toEqual(golden('original-expected.json'));
  });

  it('is deterministic and does not mutate the spec (the original appended notes to the edge meta)', () => {
    const spec = parseSpec(golden('original-config.json'));
    const before = JSON.stringify(spec);
    const a = planDnsRecords(spec);
    const b = planDnsRecords(spec);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(spec)).toBe(before);
    // Every edge record names its edge exactly once, however many sites that edge serves (the
    // original appended a note per site), and after a second plan of the same spec.
    // (Origin records carry no notes.)
    const notes = a.rrsets.flatMap((r) => r.records.flatMap((x) => x.meta.notes ?? []));
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.filter((n) => (n.match(/edge:/g) ?? []).length !== 1)).toEqual([]);
  });

  it('publishes aliases (and wildcards) as their own sets in their own zones', () => {
    const spec = parseSpec({
      edges: [{ name: 'e1', host: { v4: '198.51.100.1' }, tags: ['eu'] }],
      sites: [
        {
          domain: 'www.example.com',
          aliases: ['*.example.net', 'example.com'],
          origins: [{ host: { v4: '203.0.113.1' } }],
          edges: ['tag:eu'],
        },
      ],
    });
    const plan = planDnsRecords(spec);
    expect(plan.rrsets.map((r) => `${r.zone} ${r.name} ${r.type}`)).toEqual([
      'example.com example.com A',
      'example.com www.example.com A',
      'example.net *.example.net A',
    ]);
    expect(plan.rrsets.every((r) => r.site === 'www.example.com')).toBe(true);
  });

  it('drains an edge with enabled: false instead of dropping it', () => {
    const spec = parseSpec(golden('original-config.json'));
    const plan = planDnsRecords(spec, { drainedEdges: new Set(['fra']) });
    const a = plan.rrsets.find((r) => r.name === 'example.org' && r.type === 'A');
    expect(a?.records.map((r) => [r.content, r.enabled])).toEqual([
      [['203.0.113.9'], true],
      [['198.51.100.20'], false],
    ]);
  });

  it('drains the edges the spec drains, and probes every edge on its own health endpoint first', () => {
    const spec = parseSpec({
      edges: [
        { name: 'a', host: { v4: '198.51.100.1' }, listen: { http: 8080 }, drain: true },
        { name: 'b', host: { v4: '198.51.100.2' }, listen: { http: 8080 } },
      ],
      sites: [{ domain: 'www.example.com', origins: [{ host: { v4: '203.0.113.1' } }] }],
    });
    const [set] = planDnsRecords(spec).rrsets;
    expect(set?.records.map((r) => [r.content, r.enabled])).toEqual([
      [['203.0.113.1'], true],
      [['198.51.100.1'], false],
      [['198.51.100.2'], true],
    ]);
    expect(set?.pickers.map((p) => p.type)).toEqual([
      'healthcheck',
      'geodns',
      'weighted_shuffle',
      'geodistance',
      'first_n',
    ]);
    expect(set?.healthUrl).toBe('http://health.outpost.invalid:8080/.well-known/outpost/health');
    expect(set?.endToEnd).toBeNull();
  });

  it('says so when the edges of a site listen on different HTTP ports (one check port)', () => {
    const spec = parseSpec({
      edges: [
        { name: 'a', host: { v4: '198.51.100.1' }, listen: { http: 8080 } },
        { name: 'b', host: { v4: '198.51.100.2' } },
      ],
      sites: [{ domain: 'www.example.com', origins: [{ host: { v4: '203.0.113.1' } }] }],
    });
    expect(planDnsRecords(spec).problems.map((p) => p.message)).toEqual([
      'its edges listen for HTTP on different ports (80, 8080): DNS health checks use one port, 80',
    ]);
  });

  it('reports hostname origins and names without a zone instead of guessing', () => {
    const spec = parseSpec({
      edges: [{ name: 'e1', host: { v4: '198.51.100.1' } }],
      sites: [{ domain: 'www.example.com', origins: [{ host: 'origin.example.com' }] }],
    });
    const plan = planDnsRecords(spec);
    expect(plan.problems[0]?.message).toMatch(/origin\.example\.com is a hostname/);
    expect(plan.rrsets[0]?.records).toEqual([
      { content: ['198.51.100.1'], meta: { notes: 'edge:e1' }, enabled: true },
    ]);
  });

  it('finds zones with the public suffix list', () => {
    expect(zoneOf('a.b.example.co.uk')).toBe('example.co.uk');
    expect(zoneOf('*.example.com')).toBe('example.com');
    expect(zoneOf('example.com')).toBe('example.com');
    expect(recordEdge({ notes: 'fast box; edge:hk-1' })).toBe('hk-1');
    expect(recordEdge({ backup: true })).toBeUndefined();
  });
});
