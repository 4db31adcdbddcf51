import { describe, expect, it } from 'vitest';
import { parseSpecYaml } from './index.js';
import { selectorMatch, sitesServedBy } from './selectors.js';

const spec = parseSpecYaml(`
edges:
  - { name: a, host: { v4: 127.0.0.2 }, tags: [eu] }
  - { name: b, host: { v4: 127.0.0.3 }, tags: [us] }
  - { name: p, host: { v4: 127.0.0.4 }, tags: [eu], paused: true }
sites:
  - { domain: z.example.com, origins: [{ host: origin.example.net }], edges: ['tag:eu'] }
  - { domain: b.example.com, origins: [{ host: origin.example.net }], edges: [b] }
  - { domain: all.example.com, origins: [{ host: origin.example.net }] }
`);

describe('selectors', () => {
  it('names the level that selected an edge, and nothing for an edge not selected', () => {
    expect(selectorMatch(['b', 'tag:eu'], { name: 'b', tags: ['eu'] })).toEqual({
      level: 'edge',
      selector: 'b',
    });
    expect(selectorMatch(['tag:eu'], { name: 'a', tags: ['eu'] })).toEqual({
      level: 'tag',
      selector: 'tag:eu',
    });
    expect(selectorMatch(['*'], { name: 'a', tags: [] })?.level).toBe('tag');
    expect(selectorMatch(['tag:us', 'c'], { name: 'a', tags: ['eu'] })).toBeUndefined();
  });

  it('lists the sites an edge serves by domain, and none for a paused edge', () => {
    const served = (name: string) => {
      const edge = spec.edges.find((e) => e.name === name);
      if (edge === undefined) throw new Error(name);
      return sitesServedBy(spec, edge).map((s) => s.domain);
    };
    expect(served('a')).toEqual(['all.example.com', 'z.example.com']);
    expect(served('b')).toEqual(['all.example.com', 'b.example.com']);
    expect(served('p')).toEqual([]);
  });
});
