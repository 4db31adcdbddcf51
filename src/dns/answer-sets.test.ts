import { describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/index.js';
import { answerRecords, edgeLines } from './answer-sets.js';
import { DNSPOD_LINES } from './dnspod.js';
import { NETWORK_LINES } from './network-lines.js';
import { planDnsRecords } from './plan.js';

const spec = parseSpec({
  edges: [
    { name: 'ct', host: { v4: '198.51.100.1' }, meta: { asn: [4134] } },
    { name: 'cu', host: { v4: '198.51.100.2' }, meta: { asn: [4837], countries: ['CN'] } },
    { name: 'hk', host: { v4: '198.51.100.3' }, meta: { countries: ['HK'] } },
    { name: 'plain', host: { v4: '198.51.100.4' } },
  ],
  sites: [{ domain: 'www.example.com', origins: [{ host: { v4: '203.0.113.1' } }] }],
});
const set = (drained: string[] = []) => {
  const r = planDnsRecords(spec, { drainedEdges: new Set(drained) }).rrsets[0];
  if (r === undefined) throw new Error('no set');
  return r;
};
const lines = (drained: string[] = []) => {
  const out: Record<string, string[]> = {};
  for (const r of answerRecords(set(drained), DNSPOD_LINES))
    (out[r.line] ??= []).push(r.value.slice(-1));
  return out;
};

describe('answer sets', () => {
  it('one set without lines: the healthy edges, else the origins', () => {
    expect(answerRecords(set()).map((r) => r.value)).toEqual([
      '198.51.100.1',
      '198.51.100.2',
      '198.51.100.3',
      '198.51.100.4',
    ]);
    expect(answerRecords(set(['ct', 'cu', 'hk', 'plain']))).toEqual([
      { line: '', value: '203.0.113.1' },
    ]);
  });

  it('lines: by the presets whose ASNs an edge lists, overseas for a country outside CN', () => {
    expect(edgeLines({ asn: [4134, 4837] }, DNSPOD_LINES)).toEqual(['电信', '联通']);
    expect(edgeLines({ countries: ['CN'] }, DNSPOD_LINES)).toEqual(['默认']);
    expect(edgeLines({ countries: ['JP', 'CN'] }, DNSPOD_LINES)).toEqual(['境外']);
    expect(edgeLines({ asn: [64512] }, DNSPOD_LINES)).toEqual(['默认']);
    expect(lines()).toEqual({ 境外: ['3'], 电信: ['1'], 联通: ['2'], 默认: ['4'] });
  });

  it('the default line always answers: every healthy edge without one of its own, then the origins', () => {
    expect(lines(['plain'])).toEqual({
      境外: ['3'],
      电信: ['1'],
      联通: ['2'],
      默认: ['1', '2', '3'],
    });
    expect(lines(['plain', 'ct'])).toMatchObject({ 默认: ['2', '3'] });
    expect(lines(['ct', 'cu', 'hk', 'plain'])).toEqual({ 默认: ['1'] });
  });

  it('every preset has a title, ASNs, a source and both line names', () => {
    for (const [key, l] of Object.entries(NETWORK_LINES)) {
      expect(key).toMatch(/^[a-z0-9-]+$/);
      expect(l.asns.length).toBeGreaterThan(0);
      expect(l.title && l.source && l.dnspod && l.alidns).toBeTruthy();
    }
  });
});
