// The spec bench:scale builds: N sites on every one of E edges.
import type { SpecInput } from '../src/spec/index.js';

/**
 * N sites, each with a cache rule and a set_header modifier, on every one of E edges; site
 * `changed` gets another origin port, and `shift` moves every site's port (all changed).
 */
export function scaleSpec(sites: number, edges: number, changed = -1, shift = 0): SpecInput {
  return {
    edges: Array.from({ length: edges }, (_, e) => ({
      name: `e${e}`,
      host: { v4: `127.1.${Math.floor(e / 250)}.${(e % 250) + 1}` },
    })),
    sites: Array.from({ length: sites }, (_, i) => ({
      domain: `site${i}.example.com`,
      origins: [
        {
          host: { v4: '127.0.0.1' },
          port: 10_000 + (i % 1000) + (i === changed ? 1 : 0) + shift,
          protocol: 'http' as const,
        },
      ],
      cache: { rules: [{ match: { paths: ['/static/*'] }, ttl: 300 }] },
      modifiers: [
        {
          match: { paths: ['/api/*'] },
          action: { type: 'set_header' as const, name: 'X-Site', value: `s${i}` },
        },
      ],
    })),
  };
}
