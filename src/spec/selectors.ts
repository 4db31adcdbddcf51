// Who serves what: a site's `edges` selectors against an edge's name and tags. Certificates,
// DNS, health, purges and the compiler all ask this, so it lives with the shapes.
import type { Edge, EdgeSelector, Site, Spec } from './schema.js';

/**
 * How `edge` is selected by `selectors`: 'edge' when named, 'tag' when matched by one of its
 * tags or `*`, undefined when not selected.
 */
export function selectorMatch(
  selectors: readonly EdgeSelector[],
  edge: Pick<Edge, 'name' | 'tags'>,
): { level: 'edge' | 'tag'; selector: string } | undefined {
  const named = selectors.find((s) => s === edge.name);
  if (named !== undefined) return { level: 'edge', selector: named };
  const tagged = selectors.find(
    (s) => s === '*' || (s.startsWith('tag:') && edge.tags.includes(s.slice(4))),
  );
  return tagged === undefined ? undefined : { level: 'tag', selector: tagged };
}

/** Code-unit order, independent of the locale. */
const byDomain = (a: Site, b: Site): number =>
  a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0;

/**
 * The sites `edge` serves, by domain, as compileEdgePlan plans them: none when it is paused,
 * else every site whose selectors pick it.
 */
export function sitesServedBy(
  spec: Pick<Spec, 'sites'>,
  edge: Pick<Edge, 'name' | 'tags' | 'paused'>,
): Site[] {
  if (edge.paused) return [];
  return spec.sites.filter((site) => selectorMatch(site.edges, edge) !== undefined).sort(byDomain);
}
