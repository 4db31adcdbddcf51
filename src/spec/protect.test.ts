// Issue 16 part A: the protection fields refuse hostile and wrong values with the field path.
import { describe, expect, it } from 'vitest';
import { validateSpec } from './validate.js';
import { caddyRegexProblem, regexProblem } from './protect.js';

const edge = { name: 'e1', host: { v4: '127.0.0.2' } };
const caddyEdge = { name: 'c1', host: { v4: '127.0.0.3' }, proxy: 'caddy' };
const origin = { host: { v4: '127.0.0.9' }, protocol: 'http' };

function spec(siteExtra: Record<string, unknown>, top: Record<string, unknown> = {}) {
  return { edges: [edge], sites: [{ domain: 'a.test', origins: [origin], ...siteExtra }], ...top };
}

function problemsOf(input: unknown): { path: string; message: string }[] {
  const v = validateSpec(input);
  if (v.ok) throw new Error('expected the document to be refused');
  return v.problems.map((p) => ({ path: p.path, message: p.message }));
}

const deny = (match: Record<string, unknown>) => ({
  access: { rules: [{ match, action: 'deny' }] },
});

describe('protect: values', () => {
  it('accepts a full example', () => {
    const v = validateSpec(
      spec(
        {
          access: {
            default: 'deny',
            status: 403,
            body: 'go away\n',
            rules: [
              { match: { client_ips: ['@office', '2001:db8::/32', '192.0.2.7'] }, action: 'allow' },
              {
                match: { user_agents: ['curl', { regex: '^Wget/[0-9.]+$' }] },
                action: 'deny',
                status: 451,
              },
              {
                match: { headers: [{ name: 'X-Api-Key', exact: 'k' }] },
                action: 'redirect',
                target: 'https://b.test{uri}',
              },
              { match: { query: [{ name: 'debug', present: true }] }, action: 'deny' },
            ],
          },
          rate_limits: [
            { name: 'api', match: { paths: ['/api/*'] }, rate: '10r/s', burst: 20 },
            { name: 'by-key', key: 'header:X-Api-Key', rate: '100r/m', burst: 5, delay: 2 },
          ],
        },
        { ip_lists: { office: ['10.0.0.0/8', '::1'] } },
      ),
    );
    expect(v.ok ? [] : v.problems).toEqual([]);
  });

  it.each([
    ['10.0.0.0/33', 'is not an IP address'],
    ['10.0.0.1/8"; deny all; #', 'is not an IP address'],
    ['@Office', 'is not a list reference'],
    ['fe80::1%eth0', 'zone id'],
  ])('refuses the client IP %j', (value, message) => {
    const ps = problemsOf(spec(deny({ client_ips: [value] })));
    expect(ps.map((p) => p.path)).toEqual(['sites[0].access.rules[0].match.client_ips[0]']);
    expect(ps[0]?.message).toContain(message);
  });

  it('refuses an @list that ip_lists does not define, and a bad list entry', () => {
    expect(problemsOf(spec(deny({ client_ips: ['@nope'] })))).toEqual([
      {
        path: 'sites[0].access.rules[0].match.client_ips[0]',
        message: 'names the IP list "nope", which ip_lists does not define',
      },
    ]);
    const ps = problemsOf(spec({}, { ip_lists: { office: ['10.0.0.0/8', 'x;'] } }));
    expect(ps.map((p) => p.path).sort()).toEqual(['ip_lists.office[1]']);
  });

  it.each([
    ['a\nb', 'a newline'],
    ['a)|(.*', 'without its "("'],
    ['(a', 'without its ")"'],
    ['[a)', 'without its "]"'],
    ['abc\\', 'lone "\\"'],
    ['\\Qa)|(b', '"\\Q" quoting'],
    ['(?x)a#)', 'the "x" flag'],
    ['(*LIMIT_MATCH=1)a', 'PCRE verb'],
    ['(?C1)a', 'callout'],
    ['{$HOME}', 'environment variable'],
    ['', 'must not be empty'],
  ])('refuses the pattern %j (%s)', (regex, message) => {
    const ps = problemsOf(spec(deny({ headers: [{ name: 'X-A', regex }] })));
    expect(ps.map((p) => p.path)).toEqual(['sites[0].access.rules[0].match.headers[0].regex']);
    expect(ps[0]?.message).toContain(message);
  });

  it('accepts patterns whose special characters are balanced or escaped', () => {
    for (const re of [
      '^a\\)b$',
      '[)(]x',
      '[]a]',
      '[^]a]',
      '[[:alpha:])]+',
      '(?i)bot',
      '(?#c(mment)x',
      '\\\\',
    ])
      expect(regexProblem(re), re).toBeUndefined();
  });

  it.each([
    [{ name: 'X_A', exact: 'v' }, 'name', 'letters, digits or "-"'],
    [{ name: 'X-A: b', exact: 'v' }, 'name', 'letters, digits or "-"'],
    [{ name: 'X-A', exact: 'v\r\nX-B: c' }, 'exact', 'a carriage return'],
    [{ name: 'X-A', exact: 'v', prefix: 'w' }, '', 'set only one of'],
    [{ name: 'X-A' }, '', 'needs one of'],
  ])('refuses the header condition %j', (cond, field, message) => {
    const ps = problemsOf(spec(deny({ headers: [cond] })));
    const path = `sites[0].access.rules[0].match.headers[0]${field === '' ? '' : `.${field}`}`;
    expect(ps.map((p) => p.path)).toEqual([path]);
    expect(ps[0]?.message).toContain(message);
  });

  it('refuses query names nginx cannot name, and a condition without a kind', () => {
    const ps = problemsOf(spec(deny({ query: [{ name: 'a-b', present: true }, { name: 'b' }] })));
    expect(ps.map((p) => p.path).sort()).toEqual([
      'sites[0].access.rules[0].match.query[0].name',
      'sites[0].access.rules[0].match.query[1]',
    ]);
  });

  it('checks access rule actions, statuses and targets', () => {
    const ps = problemsOf(
      spec({
        access: {
          status: 200,
          rules: [
            { match: {}, action: 'redirect' },
            { match: {}, action: 'redirect', target: '/x', status: 403 },
            { match: {}, action: 'deny', status: 302 },
            { match: {}, action: 'allow', target: '/x' },
          ],
        },
      }),
    );
    expect(ps.map((p) => p.path).sort()).toEqual([
      'sites[0].access.rules[0].target',
      'sites[0].access.rules[1].status',
      'sites[0].access.rules[2].status',
      'sites[0].access.rules[3].target',
      'sites[0].access.status',
    ]);
    // Selectors are checked once the shapes are right, like the modifiers'.
    expect(validateSpec(spec(deny({}))).ok).toBe(true);
    expect(
      problemsOf(spec({ access: { rules: [{ match: {}, action: 'deny', edges: ['nowhere'] }] } })),
    ).toEqual([{ path: 'sites[0].access.rules[0].edges[0]', message: 'unknown edge "nowhere"' }]);
  });

  it('checks rate limits: rate, key, delay, unique names, one status', () => {
    const ps = problemsOf(
      spec({
        rate_limits: [
          { name: 'a', rate: '10r/h' },
          { name: 'b', rate: '1r/s', key: 'header:X_Key' },
          { name: 'c', rate: '1r/s', burst: 2, delay: 3 },
          { name: 'a', rate: '1r/s' },
          { name: 'e', rate: '1r/s', status: 503 },
          { name: 'f', rate: '1r/s', key: 'cookie:x' },
        ],
      }),
    );
    expect(ps.map((p) => p.path).sort()).toEqual([
      'sites[0].rate_limits[0].rate',
      'sites[0].rate_limits[1].key',
      'sites[0].rate_limits[2].delay',
      'sites[0].rate_limits[3].name',
      'sites[0].rate_limits[4].status',
      'sites[0].rate_limits[5].key',
    ]);
  });

  it('accepts on Caddy edges what Caddy 2.6 renders: access rules, networks, headers, query', () => {
    const v = validateSpec({
      edges: [caddyEdge],
      ip_lists: { office: ['10.0.0.0/8'] },
      sites: [
        {
          domain: 'a.test',
          origins: [origin],
          access: {
            default: 'deny',
            body: 'no {entry} `here`\n',
            rules: [
              { match: { client_ips: ['@office', '::1'] }, action: 'allow' },
              { match: { user_agents: ['curl', { regex: '^Wget/[0-9.]{1,8}$' }] }, action: 'deny' },
              {
                match: {
                  query: [
                    { name: 'a', present: true },
                    { name: 'b', exact: '' },
                  ],
                },
                action: 'redirect',
                target: '/',
              },
            ],
          },
          modifiers: [
            { match: { headers: [{ name: 'X-A', prefix: 'b' }] }, action: { type: 'deny' } },
          ],
        },
      ],
    });
    expect(v.ok ? [] : v.problems).toEqual([]);
  });

  it('refuses what Caddy edges cannot do, naming the field, the edge and the reason', () => {
    const ps = problemsOf({
      edges: [{ ...caddyEdge, real_ip_from: ['10.0.0.0/8'] }],
      sites: [
        {
          domain: 'a.test',
          origins: [origin],
          access: {
            body: '{$HOME}',
            rules: [
              { match: { client_ips: ['10.0.0.0/8'] }, action: 'deny' },
              { match: { query: [{ name: 'q', regex: '^a' }] }, action: 'deny' },
            ],
          },
          modifiers: [
            {
              match: { headers: [{ name: 'X-A', regex: '(?<=a)b' }] },
              action: { type: 'deny' },
            },
            { match: { user_agents: [{ regex: '(?<n>x)' }] }, action: { type: 'deny' } },
          ],
          rate_limits: [{ name: 'a', rate: '1r/s' }],
        },
      ],
    });
    expect(ps.map((p) => p.path)).toEqual([
      'sites[0].rate_limits',
      'sites[0].modifiers[0].match.headers[0].regex',
      'sites[0].modifiers[1].match.user_agents[0].regex',
      'sites[0].access.rules[0].match.client_ips',
      'sites[0].access.rules[1].match.query[0].regex',
      'sites[0].access.body',
    ]);
    for (const p of ps) expect(p.message).toContain('Caddy edge "c1"');
    expect(ps[0]?.message).toContain('no rate limiter');
    expect(ps[3]?.message).toContain('real_ip_from');
    expect(ps[4]?.message).toContain("no matcher for one query parameter's value pattern");
    // A paused Caddy edge serves nothing: nothing to refuse.
    expect(
      validateSpec({
        edges: [edge, { ...caddyEdge, paused: true }],
        sites: [
          { domain: 'a.test', origins: [origin], rate_limits: [{ name: 'a', rate: '1r/s' }] },
        ],
      }).ok,
    ).toBe(true);
    expect(caddyRegexProblem('(?<=a)b')).toBe('lookaround');
    expect(caddyRegexProblem('(a)\\1')).toBe('backreference');
    expect(caddyRegexProblem('(?<n>a)')).toBe('named_group');
    expect(caddyRegexProblem('(?P<n>a)')).toBeUndefined();
    expect(caddyRegexProblem('^a+b$')).toBeUndefined();
  });

  it('refuses conditions beside answer conditions in one cache rule', () => {
    const ps = problemsOf(
      spec({
        cache: { rules: [{ match: { statuses: [200], client_ips: ['10.0.0.0/8'] }, ttl: 60 }] },
      }),
    );
    expect(ps.map((p) => p.path)).toEqual(['sites[0].cache.rules[0].match.client_ips']);
  });
});
