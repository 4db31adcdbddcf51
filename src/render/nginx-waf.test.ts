// The WAF in the spec (issue 16 part B): defaults, bad values refused with their field path,
// the WAF and geography matchers refused on sites Caddy edges serve; hostile geography values.
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { wafDirectives } from './nginx-waf.js';
import { parseSpecYaml, validateSpecYaml, type Problem } from '../spec/index.js';

const doc = (waf: string, edges = '  - name: a\n    host: {v4: 192.0.2.1}\n') => `edges:
${edges}sites:
  - domain: shop.example.com
    origins: [{host: {v4: 192.0.2.2}}]
${waf}`;

function problems(yaml: string): Problem[] {
  const v = validateSpecYaml(yaml);
  if (v.ok) throw new Error('expected the document to be rejected');
  return v.problems.map(({ path, message }) => ({ path, message, segments: [] }));
}

describe('spec: waf', () => {
  it('is off unless enabled; enabled fills in detect mode, paranoia 1, thresholds 5/4, 13 MiB', () => {
    const off = compileEdgePlan(parseSpecYaml(doc('')), 'a');
    expect(off.sites[0]?.waf).toBeNull();
    const disabled = compileEdgePlan(parseSpecYaml(doc('    waf: {mode: block}\n')), 'a');
    expect(disabled.sites[0]?.waf).toBeNull();
    const on = compileEdgePlan(parseSpecYaml(doc('    waf: {enabled: true}\n')), 'a');
    expect(on.sites[0]?.waf).toEqual({
      mode: 'detect',
      paranoia: 1,
      inboundThreshold: 5,
      outboundThreshold: 4,
      removedIds: [],
      pathExclusions: [],
      requestBodyLimit: 13_107_200,
    });
    // Enabled by an override on the edge only.
    const byOverride = compileEdgePlan(
      parseSpecYaml(doc('    waf: {overrides: [{edges: [a], enabled: true, mode: block}]}\n')),
      'a',
    );
    expect(byOverride.sites[0]?.waf?.mode).toBe('block');
  });

  it('splits exclusions into site-wide ids (sorted, once) and ids per path', () => {
    const plan = compileEdgePlan(
      parseSpecYaml(
        doc(`    waf:
      enabled: true
      exclusions:
        - {ids: [942100, 920350]}
        - {ids: [942100], paths: ['/api/*']}
        - {ids: [920350]}
`),
      ),
      'a',
    );
    expect(plan.sites[0]?.waf?.removedIds).toEqual([920350, 942100]);
    expect(plan.sites[0]?.waf?.pathExclusions).toEqual([{ ids: [942100], paths: ['/api/*'] }]);
  });

  it('refuses bad values with the field path', () => {
    const ps = problems(
      doc(`    waf:
      enabled: yes please
      mode: prevent
      paranoia: 5
      anomaly_threshold: {inbound: 0, outbound: 4, extra: 1}
      request_body_limit: 12
      exclusions:
        - {ids: []}
        - {ids: [942100], paths: ['api/*']}
        - {ids: [-1]}
      rules: []
`),
    );
    const paths = ps.map((p) => p.path);
    for (const path of [
      'sites[0].waf.enabled',
      'sites[0].waf.mode',
      'sites[0].waf.paranoia',
      'sites[0].waf.anomaly_threshold.inbound',
      'sites[0].waf.anomaly_threshold.extra',
      'sites[0].waf.request_body_limit',
      'sites[0].waf.exclusions[0].ids',
      'sites[0].waf.exclusions[1].paths[0]',
      'sites[0].waf.exclusions[2].ids[0]',
      'sites[0].waf.rules',
    ])
      expect(paths).toContain(path);
  });

  it('is refused on a site a Caddy edge serves, naming the edge; fine on nginx edges', () => {
    const edges =
      '  - name: n1\n    host: {v4: 192.0.2.1}\n  - name: c1\n    host: {v4: 192.0.2.3}\n    proxy: caddy\n';
    const ps = problems(doc('    waf: {enabled: true}\n', edges));
    expect(ps).toHaveLength(1);
    expect(ps[0]?.path).toBe('sites[0].waf.enabled');
    expect(ps[0]?.message).toContain('Caddy edge "c1"');
    expect(ps[0]?.message).toContain('waf.overrides');
    const onlyNginx = doc('    edges: [n1]\n    waf: {enabled: true}\n', edges);
    expect(validateSpecYaml(onlyNginx).ok).toBe(true);
    // Off: Caddy edges may serve it.
    expect(validateSpecYaml(doc('    waf: {enabled: false}\n', edges)).ok).toBe(true);
  });

  it('overrides per edge and tag: the edge-named one first, then the first by tag or *', () => {
    const edges = `  - name: fra-1
    host: {v4: 192.0.2.1}
    tags: [eu]
  - name: ams-1
    host: {v4: 192.0.2.3}
    tags: [eu]
  - name: nyc-1
    host: {v4: 192.0.2.4}
  - name: sin-1
    host: {v4: 192.0.2.5}
    tags: [asia]
    proxy: caddy
`;
    const spec = parseSpecYaml(
      doc(
        `    waf:
      enabled: true
      mode: detect
      overrides:
        - {edges: ['tag:eu'], mode: block}
        - {edges: ['tag:asia'], enabled: false}
        - {edges: ['*'], paranoia: 2}
        - {edges: [fra-1], paranoia: 3}
`,
        edges,
      ),
    );
    const waf = (edge: string) => compileEdgePlan(spec, edge).sites[0]?.waf;
    expect(waf('fra-1')).toMatchObject({ mode: 'detect', paranoia: 3 });
    expect(waf('ams-1')).toMatchObject({ mode: 'block', paranoia: 1 });
    expect(waf('nyc-1')).toMatchObject({ mode: 'detect', paranoia: 2 });
    // Off on the Caddy edge by its override (before '*': the first by tag or * wins), so the
    // spec is valid; with '*' first, the WAF would be on there and the spec refused.
    expect(waf('sin-1')).toBeNull();
    const noOff = problems(
      doc(
        '    waf:\n      enabled: true\n      overrides: [{edges: [nope], mode: block}]\n',
        edges,
      ),
    );
    expect(noOff.map((p) => p.path)).toEqual(['sites[0].waf.overrides[0].edges[0]']);
    const on = problems(
      doc(
        '    waf:\n      enabled: false\n      overrides: [{edges: [sin-1], enabled: true}]\n',
        edges,
      ),
    );
    expect(on.map((p) => [p.path, p.message.slice(0, 60)])).toEqual([
      ['sites[0].waf.enabled', 'is on, but the site is served by Caddy edge "sin-1", which c'],
    ]);
  });

  it('accepts geography matchers in every rule on nginx edges, refuses them for Caddy edges with their path', () => {
    const rules = `    modifiers:
      - match: {countries: [CN], paths: ['/admin/*']}
        action: {type: deny}
    cache:
      rules:
        - match: {asns: [64500]}
          action: bypass
    access:
      rules:
        - {match: {continents: [EU]}, action: deny}
    rate_limits:
      - {name: cn, match: {countries: [CN]}, rate: 10r/s}
`;
    expect(validateSpecYaml(doc(rules)).ok).toBe(true);
    const caddy = '  - name: c1\n    host: {v4: 192.0.2.3}\n    proxy: caddy\n';
    const ps = problems(doc(rules.split('    access:')[0] ?? '', caddy));
    expect(ps.map((p) => p.path)).toEqual([
      'sites[0].modifiers[0].match.countries',
      'sites[0].cache.rules[0].match.asns',
    ]);
    expect(ps[0]?.message).toContain('Caddy edge "c1"');
  });

  it('refuses hostile geography values with their path: lowercase, 3 letters, unknown codes', () => {
    const bad = problems(
      doc(`    modifiers:
      - match: {countries: [cn, DEU, ZZ, EU, 'D"E'], continents: [XX, eu], asns: [0, -1, 1.5, 4294967295]}
        action: {type: deny}
`),
    );
    expect(bad.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'sites[0].modifiers[0].match.countries[0]',
        'sites[0].modifiers[0].match.countries[1]',
        'sites[0].modifiers[0].match.countries[2]',
        'sites[0].modifiers[0].match.countries[3]',
        'sites[0].modifiers[0].match.countries[4]',
        'sites[0].modifiers[0].match.continents[0]',
        'sites[0].modifiers[0].match.continents[1]',
        'sites[0].modifiers[0].match.asns[0]',
        'sites[0].modifiers[0].match.asns[1]',
        'sites[0].modifiers[0].match.asns[2]',
        'sites[0].modifiers[0].match.asns[3]',
      ]),
    );
    const zz = bad.find((p) => p.path === 'sites[0].modifiers[0].match.countries[2]');
    expect(zz?.message).toContain('"ZZ" is not an assigned ISO 3166 alpha-2 country code');
    const lower = bad.find((p) => p.path === 'sites[0].modifiers[0].match.countries[0]');
    expect(lower?.message).toContain('two capital letters');
  });

  it('refuses a geography condition beside statuses in one cache rule (the answer side sees the request line only)', () => {
    const ps = problems(
      doc(`    cache:
      rules:
        - match: {countries: [DE], statuses: [404]}
          action: bypass
`),
    );
    expect(ps.map((p) => p.path)).toEqual(['sites[0].cache.rules[0].match.countries']);
  });
});

describe('render: ModSecurity directives of a site', () => {
  const waf = {
    mode: 'block' as const,
    paranoia: 3,
    inboundThreshold: 7,
    outboundThreshold: 6,
    removedIds: [920350],
    pathExclusions: [{ ids: [942100, 942200], paths: ['/api/q/*', "/it's(1)"] }],
    requestBodyLimit: 65_536,
  };
  it('sets the engine, limits, CRS setup, exclusions before the CRS and removals after it', () => {
    const d = wafDirectives(waf);
    expect(d[0]).toBe('SecRuleEngine On');
    expect(wafDirectives({ ...waf, mode: 'detect' })[0]).toBe('SecRuleEngine DetectionOnly');
    expect(d).toContain('SecRequestBodyLimit 65536');
    expect(d.some((l) => l.includes('setvar:tx.paranoia_level=3'))).toBe(true);
    expect(d.some((l) => l.includes('tx.inbound_anomaly_score_threshold=7'))).toBe(true);
    const include = d.indexOf('Include /usr/share/modsecurity-crs/rules/*.conf');
    const path = d.findIndex((l) =>
      l.includes('ctl:ruleRemoveById=942100,ctl:ruleRemoveById=942200'),
    );
    expect(path).toBeGreaterThan(0);
    expect(path).toBeLessThan(include);
    expect(d[path]).toContain(`"@rx ^(?:/api/q/.*|/it's\\(1\\))$"`);
    expect(d.indexOf('SecRuleRemoveById 920350')).toBeGreaterThan(include);
  });
});
