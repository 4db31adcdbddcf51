// Cache rules beyond the original static list (issue 8): what the spec accepts, refuses, and
// that documents written before keep parsing to exactly the same rules.
import { describe, expect, it } from 'vitest';
import { CacheRule, DEFAULT_CACHE_RULES, parseSpecYaml, validateSpecYaml } from './index.js';

const withRules = (rules: string) => `edges:
  - name: a
    host: {v4: 192.0.2.1}
sites:
  - domain: example.com
    origins:
      - host: {v4: 192.0.2.2}
    cache:
      rules:
${rules}`;

function problems(rules: string): [string, string][] {
  const v = validateSpecYaml(withRules(rules));
  if (v.ok) throw new Error('expected the document to be rejected');
  return v.problems.map((p) => [p.path, p.message]);
}

describe('cache rules', () => {
  it('old documents parse to the same rules, with no new keys', () => {
    const spec = parseSpecYaml(
      withRules(`        - {match: {paths: ['/a/*']}, ttl: 60}
        - {match: {extensions: [css]}, action: bypass, ttl: 5}`),
    );
    expect(spec.sites[0]?.cache).toEqual({
      rules: [
        { match: { paths: ['/a/*'] }, action: 'cache', ttl: 60 },
        { match: { extensions: ['css'] }, action: 'bypass', ttl: 5 },
      ],
      stale_if_error: true,
      stale_while_updating: false,
    });
    const defaults = parseSpecYaml(
      withRules('        []').replace('rules:\n        []', 'rules: []'),
    );
    expect(defaults.sites[0]?.cache.rules).toEqual([]);
    expect(CacheRule.array().parse(DEFAULT_CACHE_RULES)).toEqual(DEFAULT_CACHE_RULES);
  });

  it('accepts every rule kind', () => {
    const spec = parseSpecYaml(
      withRules(`        - {match: {content_types: [text/html, 'image/*']}, action: bypass}
        - {match: {paths: ['/e/*'], statuses: [404]}, ttl: 30}
        - {match: {paths: ['/f/*']}, ttl: 300, force: true, browser_ttl: 0}
        - {match: {paths: ['/s']}, key: {query: [q, page_2]}}
        - {match: {paths: ['/i/*']}, key: {query: ignore}, ignore_cookies: true}
        - {match: {extensions: [mp4]}, slice: true}`),
    );
    expect(spec.sites[0]?.cache.rules.map((r) => Object.keys(r).sort().join(','))).toEqual([
      'action,match',
      'action,match,ttl',
      'action,browser_ttl,force,match,ttl',
      'action,key,match',
      'action,ignore_cookies,key,match',
      'action,match,slice',
    ]);
  });

  it('refuses cache options on a bypass rule, force without a ttl, slices with statuses', () => {
    expect(
      problems(`        - {match: {paths: ['/a']}, action: bypass, force: true, browser_ttl: 5}
        - {match: {paths: ['/b']}, force: true}
        - {match: {paths: ['/c'], statuses: [200]}, slice: true}`),
    ).toEqual([
      ['sites[0].cache.rules[0].force', 'only a rule with action "cache" can set force'],
      [
        'sites[0].cache.rules[0].browser_ttl',
        'only a rule with action "cache" can set browser_ttl',
      ],
      [
        'sites[0].cache.rules[1].force',
        'needs a ttl: force applies the ttl whatever the origin says',
      ],
      [
        'sites[0].cache.rules[2].match.statuses',
        'cannot be combined with slice: a sliced object is stored as the 206 answers of its slices',
      ],
    ]);
  });

  it('refuses bad statuses, content types and query parameter names', () => {
    const ps =
      problems(`        - {match: {statuses: [99], content_types: ['text/*; charset=utf-8', 'Text/HTML', '*/*']}}
        - {match: {paths: ['/s']}, key: {query: ['a-b', '']}}
        - {match: {paths: ['/s']}, key: {query: some}}`);
    expect(ps.map(([path]) => path)).toEqual([
      'sites[0].cache.rules[0].match.statuses[0]',
      'sites[0].cache.rules[0].match.content_types[0]',
      'sites[0].cache.rules[0].match.content_types[1]',
      'sites[0].cache.rules[0].match.content_types[2]',
      'sites[0].cache.rules[1].key.query[0]',
      'sites[0].cache.rules[1].key.query[1]',
      'sites[0].cache.rules[2].key.query',
    ]);
    expect(ps[1]?.[1]).toMatch(/lowercase media type/);
    expect(ps[4]?.[1]).toMatch(/letters, digits or "_"/);
  });

  it('gzip is off unless set', () => {
    const on = parseSpecYaml(
      withRules('        []').replace('rules:\n        []', 'rules: []\n      gzip: true'),
    );
    expect(on.sites[0]?.cache.gzip).toBe(true);
    const off = parseSpecYaml(withRules('        []').replace('rules:\n        []', 'rules: []'));
    expect(off.sites[0]?.cache.gzip).toBeUndefined();
  });
});
