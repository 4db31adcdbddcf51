import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  expandNetworks,
  NETWORK_LINE_NAMES,
  NETWORK_LINES,
  NETWORK_LINES_DATE,
  validateSpecYaml,
  type Problem,
} from './index.js';

function problems(yaml: string): Problem[] {
  const v = validateSpecYaml(yaml);
  if (v.ok) throw new Error('expected the document to be rejected');
  return v.problems;
}

const doc = (edgeExtra: string, siteExtra = '') => `edges:
  - name: ct
    host: {v4: 192.0.2.1}
${edgeExtra}
sites:
  - domain: example.com
    origins:
      - host: {v4: 192.0.2.2}
${siteExtra}`;

describe('network line presets (one data file)', () => {
  it('has the presets the issue names, each with ASNs ascending and unique, a source and provider line names', () => {
    for (const name of [
      'china-telecom',
      'china-telecom-cn2',
      'china-unicom',
      'china-mobile',
      'china-mobile-cmi',
      'china-education',
    ])
      expect(NETWORK_LINE_NAMES).toContain(name);
    for (const [name, line] of Object.entries(NETWORK_LINES)) {
      expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(line.asns.length, name).toBeGreaterThan(0);
      expect(
        [...line.asns].sort((a, b) => a - b),
        name,
      ).toEqual(line.asns);
      expect(new Set(line.asns).size, name).toBe(line.asns.length);
      for (const a of line.asns) expect(Number.isInteger(a) && a > 0 && a < 2 ** 32).toBe(true);
      expect(line.source).toContain(NETWORK_LINES_DATE);
      expect(line.title.length).toBeGreaterThan(10);
      expect(line.dnspod).not.toBe('');
      expect(line.alidns).toMatch(/^[a-z]+$/);
    }
    expect(NETWORK_LINES_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // the carriers' main backbones are where the issue says
    expect(NETWORK_LINES['china-telecom']?.asns).toEqual(
      expect.arrayContaining([4134, 4809, 4812, 23764]),
    );
    expect(NETWORK_LINES['china-unicom']?.asns).toEqual(
      expect.arrayContaining([4837, 9929, 10099]),
    );
    expect(NETWORK_LINES['china-mobile']?.asns).toEqual(
      expect.arrayContaining([9808, 56040, 58453]),
    );
    expect(NETWORK_LINES['china-mobile-cmi']?.asns).toEqual([58453, 58807]);
    expect(NETWORK_LINES['china-education']?.asns).toContain(4538);
    expect(NETWORK_LINES['china-telecom']?.dnspod).toBe('电信');
    expect(NETWORK_LINES['china-unicom']?.alidns).toBe('unicom');
  });

  it('expands lines and ASNs sorted and deduplicated; unknown names add nothing', () => {
    expect(expandNetworks({ asns: [23764, 1], lines: ['china-telecom-cn2'] })).toEqual([
      1, 4809, 23764,
    ]);
    expect(expandNetworks({ lines: ['china-mobile-cmi', 'china-mobile-cmi'] })).toEqual([
      58453, 58807,
    ]);
    expect(expandNetworks({ lines: ['toString', 'nope'] })).toEqual([]);
    expect(expandNetworks({})).toEqual([]);
  });
});

describe('networks in the spec: bad input names the field', () => {
  it('accepts ASNs and lines on an edge and per site', () => {
    const v = validateSpecYaml(
      doc(
        '    networks: {asns: [4134], lines: [china-telecom, china-telecom-cn2]}',
        '    networks:\n      - {edges: [ct], lines: [china-unicom]}',
      ),
    );
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    expect(v.spec.edges[0]?.networks).toEqual({
      asns: [4134],
      lines: ['china-telecom', 'china-telecom-cn2'],
    });
    expect(v.spec.sites[0]?.networks).toEqual([{ edges: ['ct'], lines: ['china-unicom'] }]);
  });

  it('an unknown line lists the known ones', () => {
    const ps = problems(doc('    networks: {lines: [china-telecom, china-telcom]}'));
    expect(ps).toHaveLength(1);
    expect(ps[0]?.path).toBe('edges[0].networks.lines[1]');
    expect(ps[0]?.line).toBe(4);
    expect(ps[0]?.message).toBe(
      `unknown line "china-telcom"; known lines: ${NETWORK_LINE_NAMES.join(', ')}`,
    );
    expect(ps[0]?.message).toContain('china-mobile-cmi');
  });

  it.each([
    ['an ASN of 0', '{asns: [0]}', 'edges[0].networks.asns[0]'],
    ['an ASN beyond 32 bits', '{asns: [4294967296]}', 'edges[0].networks.asns[0]'],
    ['an ASN as text', '{asns: ["AS4134"]}', 'edges[0].networks.asns[0]'],
    ['an empty list', '{lines: []}', 'edges[0].networks.lines'],
    ['an unknown field', '{isps: [telecom]}', 'edges[0].networks.isps'],
    ['a line that is not text', '{lines: [4134]}', 'edges[0].networks.lines[0]'],
  ])('%s', (_what, value, path) => {
    const ps = problems(doc(`    networks: ${value}`));
    expect(ps.map((p) => p.path)).toEqual([path]);
  });

  it('a site override naming an edge that does not exist, or an unknown line', () => {
    const ps = problems(
      doc(
        '',
        '    networks:\n      - {edges: [nope], asns: [4837]}\n      - {edges: [ct], lines: [unicom]}',
      ),
    );
    expect(ps.map((p) => p.path).sort()).toEqual([
      'sites[0].networks[0].edges[0]',
      'sites[0].networks[1].lines[0]',
    ]);
  });
});

describe('docs/dns.md, Steering by network', () => {
  const doc = readFileSync(new URL('../../docs/dns.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Steering by network'), doc.indexOf('## Draining'));

  it('its example is a valid spec, and its table names every preset with its provider lines', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const v = validateSpecYaml(yaml ?? '');
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    expect(v.spec.edges.map((e) => e.networks?.lines)).toEqual([
      ['china-telecom'],
      ['china-unicom'],
      ['china-mobile', 'china-mobile-cmi'],
    ]);
    for (const [name, line] of Object.entries(NETWORK_LINES)) {
      const row = section.split('\n').find((l) => l.includes(`| \`${name}\``));
      expect(row, name).toBeDefined();
      expect(row).toContain(line.dnspod);
      expect(row).toContain(`\`${line.alidns}\``);
    }
    expect(section).toContain(NETWORK_LINES_DATE);
  });
});
