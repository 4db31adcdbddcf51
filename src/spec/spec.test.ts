import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CACHE_RULES,
  diffSpecs,
  formatDiff,
  parseSpecYaml,
  stringifySpec,
  validateSpec,
  validateSpecYaml,
  type Problem,
} from './index.js';

const example = readFileSync(new URL('../../examples/outpost.yaml', import.meta.url), 'utf8');

/** The original system's own configuration, as its Python code read it. */
const ORIGINAL = `
edges:
  - name: hk
    host: {v4: 203.0.113.1, v6: "2001:db8::1"}
    paused: false
    meta: {countries: [HK]}
  - name: la
    host: {v4: 198.51.100.7}
    paused: true
    meta: {continents: [NA]}
sites:
  - domain: example.com
    origins:
      - host: {v4: 192.0.2.10}
      - host: {v4: 192.0.2.11, v6: "2001:db8::11"}
    edges: [hk, la]
    health_check: {uri: "https://example.com/health", frequency: 30, timeout: 3}
    dns_ttl: 120
`;

function problems(yaml: string): Problem[] {
  const v = validateSpecYaml(yaml);
  if (v.ok) throw new Error('expected the document to be rejected');
  return v.problems;
}

function only(yaml: string): Problem {
  const ps = problems(yaml);
  expect(ps).toHaveLength(1);
  return ps[0] as Problem;
}

const site = (domainLine: string, extra = '') => `edges:
  - name: a
    host: {v4: 192.0.2.1}
sites:
  - ${domainLine}
    origins:
      - host: {v4: 192.0.2.2}
${extra}`;

describe('spec: the original configuration', () => {
  it('parses with defaults filled in', () => {
    const spec = parseSpecYaml(ORIGINAL);
    expect(spec.edges.map((e) => [e.name, e.paused])).toEqual([
      ['hk', false],
      ['la', true],
    ]);
    const s = spec.sites[0];
    expect(s?.origins).toHaveLength(2);
    expect(s?.origins[0]).toMatchObject({
      protocol: 'https',
      verify_tls: true,
      weight: 1,
      backup: false,
    });
    expect(s?.health_check).toEqual({
      uri: 'https://example.com/health',
      frequency: 30,
      timeout: 3,
    });
    expect(s?.dns_ttl).toBe(120);
    expect(s?.cache.rules).toEqual(DEFAULT_CACHE_RULES);
    expect(s?.https).toEqual({ redirect_http: true, hsts: false });
  });

  it('defaults reproduce the original static list and a 60 s TTL', () => {
    const spec = parseSpecYaml(site('domain: a.example.com'));
    expect(spec.sites[0]?.dns_ttl).toBe(60);
    const rules = spec.sites[0]?.cache.rules ?? [];
    expect(rules.flatMap((r) => r.match.paths ?? [])).toEqual(['/static/*', '/assets/*']);
    expect(rules.flatMap((r) => r.match.extensions ?? [])).toEqual([
      'css',
      'js',
      'png',
      'jpg',
      'jpeg',
      'webp',
      'gif',
      'svg',
    ]);
  });

  it('the example file parses, and export → parse is a fixed point', () => {
    const spec = parseSpecYaml(example);
    const yaml = stringifySpec(spec);
    const again = parseSpecYaml(yaml);
    expect(again).toEqual(spec);
    expect(stringifySpec(again)).toBe(yaml);
    expect(diffSpecs(spec, again).changes).toEqual([]);
  });
});

describe('spec: bad input names the path and the line', () => {
  it.each([
    ['a space', 'domain: "exa mple.com"', /contains a space/],
    ['a semicolon', 'domain: "example.com;"', /contains ";"/],
    ['a closing brace', 'domain: "example.com}"', /contains "}"/],
    ['a newline', 'domain: "example.com\\nreturn 200"', /contains a newline/],
    ['uppercase', 'domain: Example.com', /lowercase/],
  ])('a domain with %s', (_name, line, message) => {
    const p = only(site(line));
    expect(p.path).toBe('sites[0].domain');
    expect(p.line).toBe(5);
    expect(p.message).toMatch(message);
  });

  it('an origin that is neither an IP nor a hostname', () => {
    const ps = problems(`sites:
  - domain: example.com
    edges: []
    origins:
      - host: "origin server"
      - host: {v4: 300.1.2.3}
      - host: 10.0.0.1
      - host: [1, 2]
`);
    expect(ps.map((p) => [p.path, p.line])).toEqual([
      ['sites[0].origins[0].host', 5],
      ['sites[0].origins[1].host.v4', 6],
      ['sites[0].origins[2].host', 7],
      ['sites[0].origins[3].host', 8],
    ]);
    expect(ps[0]?.message).toMatch(/contains a space/);
    expect(ps[1]?.message).toMatch(/not an IPv4 address/);
    expect(ps[2]?.message).toMatch(/is an IP address, not a hostname/);
    expect(ps[3]?.message).toMatch(/wrong shape/);
  });

  it('a duplicate edge name', () => {
    const p = only(`edges:
  - name: hk
    host: {v4: 192.0.2.1}
  - name: hk
    host: {v4: 192.0.2.2}
`);
    expect(p).toMatchObject({ path: 'edges[1].name', line: 4 });
    expect(p.message).toMatch(/duplicate edge name "hk"/);
  });

  it('a site naming an unknown edge or tag', () => {
    const ps = problems(site('domain: example.com', '    edges: [a, b, "tag:fast"]\n'));
    expect(ps.map((p) => [p.path, p.line, p.message])).toEqual([
      ['sites[0].edges[1]', 8, 'unknown edge "b"'],
      ['sites[0].edges[2]', 8, 'no edge has the tag "fast"'],
    ]);
  });

  it('an unknown key (a typo)', () => {
    const p = only(site('domain: example.com', '    dns_tll: 30\n'));
    expect(p).toMatchObject({ path: 'sites[0].dns_tll', line: 8 });
    expect(p.message).toMatch(/unknown key "dns_tll"/);
  });

  it('reports every problem in one pass, schema and cross-entry alike', () => {
    const ps = problems(`edges:
  - name: a
    host: {}
  - name: a
    host: {v4: 192.0.2.1}
sites:
  - domain: "bad domain"
    origins: []
    edges: [nope]
`);
    expect(ps.map((p) => p.path).sort()).toEqual(
      [
        'edges[0].host',
        'edges[1].name',
        'sites[0].domain',
        'sites[0].edges[0]',
        'sites[0].origins',
      ].sort(),
    );
  });

  it('a secret given inline instead of by reference', () => {
    const p = only(`dns:\n  provider: gcore\n  api_token: "abc$def"\n`);
    expect(p).toMatchObject({ path: 'dns.api_token', line: 3 });
    expect(p.message).toMatch(/env:NAME/);
    expect(validateSpec({ dns: { provider: 'gcore', api_token: 'env:GCORE_TOKEN' } }).ok).toBe(
      true,
    );
    expect(
      validateSpec({ dns: { provider: 'gcore', api_token: 'file:/etc/outpost/gcore' } }).ok,
    ).toBe(true);
  });

  it('a PowerDNS server id with a slash names the field and what it may hold', () => {
    const p = only(
      'dns:\n  provider: powerdns\n  api_url: http://127.0.0.1:8081\n  api_key: env:PDNS_KEY\n  server_id: a/b\n',
    );
    expect(p).toMatchObject({ path: 'dns.server_id', line: 5 });
    expect(p.message).toMatch(/^must be letters, digits or _\.-/);
  });

  it('a domain served by two sites', () => {
    const ps = problems(`sites:
  - domain: example.com
    edges: []
    origins: [{host: origin.example.net}]
  - domain: www.example.com
    aliases: [example.com]
    edges: []
    origins: [{host: origin.example.net}]
`);
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ path: 'sites[1].aliases[0]', line: 6 });
  });

  it('YAML syntax errors carry a line', () => {
    const ps = problems('edges:\n  - name: a\n    host: {v4: 1.2.3.4\n');
    expect(ps[0]?.line).toBeGreaterThan(0);
    expect(ps[0]?.message).toMatch(/YAML syntax/);
  });

  it('modifier targets and header values reject injection characters', () => {
    const mod = (action: string) =>
      site(
        'domain: example.com',
        `    modifiers:\n      - match: {paths: ["/x/*"]}\n        action: ${action}\n`,
      );
    expect(
      only(mod('{type: redirect, target: "https://s.example.com{uri};return 200"}')).path,
    ).toBe('sites[0].modifiers[0].action.target');
    expect(only(mod('{type: redirect, target: "https://s.example.com{nope}"}')).message).toMatch(
      /unknown placeholder/,
    );
    expect(only(mod('{type: set_header, name: X-A, value: "a\\"; add_header b"}')).path).toBe(
      'sites[0].modifiers[0].action.value',
    );
    expect(only(mod('{type: explode}')).path).toBe('sites[0].modifiers[0].action.type');
    expect(validateSpecYaml(mod('{type: redirect, target: "https://s.example.com{uri}"}')).ok).toBe(
      true,
    );
  });

  it('set_header refuses framing, hop-by-hop and Outpost headers, naming the field', () => {
    const mod = (name: string) =>
      site(
        'domain: example.com',
        `    modifiers:\n      - match: {paths: ["/x/*"]}\n        action: {type: set_header, name: ${name}, value: "1"}\n`,
      );
    for (const name of [
      'Content-Length',
      'transfer-encoding',
      'Connection',
      'Upgrade',
      'TE',
      'Trailer',
      'Host',
      'Keep-Alive',
    ])
      expect(only(mod(name))).toMatchObject({
        path: 'sites[0].modifiers[0].action.name',
        message: `"${name}" is a framing or hop-by-hop header, which a modifier must not set (it could desync clients)`,
      });
    expect(only(mod('X-Outpost-Release'))).toMatchObject({
      path: 'sites[0].modifiers[0].action.name',
      message:
        '"X-Outpost-Release" is one of Outpost\'s own headers (X-Outpost-*), which a modifier must not set',
    });
    expect(validateSpecYaml(mod('X-Frame-Options')).ok).toBe(true);
    expect(validateSpecYaml(mod('Content-Type')).ok).toBe(true);
  });

  it('path globs refuse percent-encoded control characters, naming the field', () => {
    const rule = (glob: string) =>
      site(
        'domain: example.com',
        `    cache:\n      rules:\n        - {match: {paths: ["${glob}"]}}\n`,
      );
    const cases: [string, string][] = [
      ['/a%0ab', '"%0a", a newline percent-encoded'],
      ['/a%00', '"%00", a control character (0x00) percent-encoded'],
      ['/x%0d%0aSet-Cookie:%20a', '"%0d", a carriage return percent-encoded'],
      ['/del%7F', '"%7F", a control character (0x7f) percent-encoded'],
    ];
    for (const [glob, what] of cases)
      expect(only(rule(glob))).toMatchObject({
        path: 'sites[0].cache.rules[0].match.paths[0]',
        message: `contains ${what}, which is not allowed in a path glob`,
      });
    const modifier = site(
      'domain: example.com',
      `    modifiers:\n      - match: {paths: ["/a%0A*"]}\n        action: {type: deny}\n`,
    );
    expect(only(modifier).path).toBe('sites[0].modifiers[0].match.paths[0]');
    expect(validateSpecYaml(rule('/caf%C3%A9/%20*')).ok).toBe(true);
  });

  it('timeouts, cache mode and real_ip_from are checked with their paths', () => {
    expect(only(site('domain: example.com', '    timeouts: {read: 0}\n'))).toMatchObject({
      path: 'sites[0].timeouts.read',
    });
    expect(only(site('domain: example.com', '    timeouts: {idle: 3}\n')).path).toBe(
      'sites[0].timeouts.idle',
    );
    expect(only(site('domain: example.com', '    cache: {mode: headers}\n')).path).toBe(
      'sites[0].cache.mode',
    );
    const edge = (list: string) =>
      `edges:\n  - name: a\n    host: {v4: 192.0.2.1}\n    real_ip_from: ${list}\n`;
    expect(only(edge('[10.0.0.0/33]'))).toMatchObject({
      path: 'edges[0].real_ip_from[0]',
      message: '"10.0.0.0/33" is not an IP address or network like 10.0.0.0/8 or 2001:db8::/32',
    });
    expect(validateSpecYaml(edge('[10.0.0.0/8, "2001:db8::/32", 192.0.2.7]')).ok).toBe(true);
    expect(
      validateSpecYaml(
        site(
          'domain: example.com',
          '    timeouts: {connect: 3, read: 10, send: 10, upgraded: 600}\n',
        ),
      ).ok,
    ).toBe(true);
  });

  it('out-of-range numbers, empty lists and unlisted literals say what was given and what is allowed', () => {
    const mod = (match: string, action: string) =>
      site(
        'domain: example.com',
        `    modifiers:\n      - match: ${match}\n        action: ${action}\n`,
      );
    expect(only(mod('{paths: []}', '{type: deny}'))).toMatchObject({
      path: 'sites[0].modifiers[0].match.paths',
      message: 'has 0 entries; must have at least 1',
    });
    expect(only(mod('{paths: ["/x"]}', '{type: deny, status: 500}'))).toMatchObject({
      path: 'sites[0].modifiers[0].action.status',
      message: 'is 500; must be at most 499',
    });
    expect(
      only(mod('{paths: ["/x"]}', '{type: redirect, status: 303, target: "/y"}')),
    ).toMatchObject({
      path: 'sites[0].modifiers[0].action.status',
      message: 'is 303; must be one of 301, 302, 307, 308',
    });
    // A schema's own wording stays.
    expect(only('sites:\n  - domain: example.com\n    origins: []\n').message).toBe(
      'a site needs at least one origin',
    );
  });
});

describe('spec: diff', () => {
  it('reports creates, field updates and deletes', () => {
    const a = parseSpecYaml(ORIGINAL);
    const b = parseSpecYaml(
      ORIGINAL.replace('dns_ttl: 120', 'dns_ttl: 30')
        .replace('edges: [hk, la]', 'edges: [hk]')
        .replace(/ {2}- name: la[\s\S]*?NA\]}\n/, ''),
    );
    const d = diffSpecs(a, b);
    expect(d.changes.map((c) => `${c.op} ${c.kind} ${c.key}`)).toEqual([
      'delete edge la',
      'update site example.com',
    ]);
    expect(d.changes[1]?.fields).toEqual([
      { path: 'edges', from: ['hk', 'la'], to: ['hk'] },
      { path: 'dns_ttl', from: 120, to: 30 },
    ]);
    expect(formatDiff(d)).toContain('    dns_ttl: 120 → 30');
    expect(formatDiff(diffSpecs(a, a))).toBe('No changes.');
  });
});
