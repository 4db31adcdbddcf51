// Whole-document validation: the schema first, then the rules that span several entries
// (unique names, references to edges that exist).
import { EdgeSelector, Spec } from './schema.js';
import { problem, problemsFromZod, said, SpecError, type Problem } from './problems.js';
import { protectProblems } from './validate-protect.js';
import { edgeCapabilityProblems } from './edge-capabilities.js';

/** The longest health-check timeout GCore accepts, in seconds. */
export const GCORE_MAX_TIMEOUT = 10;

export type Validation = { ok: true; spec: Spec } | { ok: false; problems: Problem[] };

/** Validates a plain object (parsed YAML or an API body) as a whole Spec. */
export function validateSpec(input: unknown): Validation {
  const parsed = Spec.safeParse(input ?? {});
  // Cross-entry rules run on the raw input too, so one pass reports every problem.
  const cross = crossCheck(input);
  if (!parsed.success)
    return { ok: false, problems: [...problemsFromZod(parsed.error, input), ...cross] };
  // Protection rules (issue 16 part A) need the parsed shapes: list references, Caddy limits;
  // issue 16 part B: what the serving edges' proxies can do (WAF, geography matchers).
  const named = [...cross, ...protectProblems(parsed.data)];
  // What the serving edges can do is only asked of a document whose names all resolve.
  const all = named.length > 0 ? named : edgeCapabilityProblems(parsed.data);
  return all.length > 0 ? { ok: false, problems: all } : { ok: true, spec: parsed.data };
}

/** Like validateSpec, but throws a SpecError carrying every problem. */
export function parseSpec(input: unknown): Spec {
  const v = validateSpec(input);
  if (!v.ok) throw new SpecError(v.problems);
  return v.spec;
}

type Loose = Record<string, unknown>;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const rec = (v: unknown): Loose =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {};
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

/**
 * Rules across entries (unique names, references to edges that exist). Reads the input
 * defensively, so it also reports on a document whose shape has other problems.
 */
export function crossCheck(input: unknown): Problem[] {
  const spec = rec(input);
  const problems: Problem[] = [];
  const edgeNames = new Map<string, number>();
  const tags = new Set<string>();
  list(spec.edges).forEach((raw, i) => {
    const edge = { name: rec(raw).name, tags: strings(rec(raw).tags) };
    if (typeof edge.name !== 'string') return;
    const first = edgeNames.get(edge.name);
    if (first !== undefined) {
      problems.push(
        problem(['edges', i, 'name'], said('duplicate_edge', { name: edge.name, first })),
      );
    } else {
      edgeNames.set(edge.name, i);
    }
    for (const t of edge.tags) tags.add(t);
  });

  const checkSelectors = (selectors: string[], at: (string | number)[]) => {
    selectors.forEach((sel, k) => {
      if (sel === '*' || !EdgeSelector.safeParse(sel).success) return;
      if (sel.startsWith('tag:')) {
        const tag = sel.slice(4);
        if (!tags.has(tag)) problems.push(problem([...at, k], said('unknown_tag', { tag })));
      } else if (!edgeNames.has(sel)) {
        problems.push(problem([...at, k], said('unknown_edge', { edge: sel })));
      }
    });
  };

  const names = new Map<string, string>();
  list(spec.sites).forEach((raw, i) => {
    const r = rec(raw);
    if (typeof r.domain !== 'string') return;
    const site = {
      domain: r.domain,
      aliases: strings(r.aliases),
      edges: r.edges === undefined ? ['*'] : strings(r.edges),
    };
    const claim = (name: string, at: (string | number)[]) => {
      const owner = names.get(name);
      if (owner !== undefined) {
        problems.push(problem(at, said('already_served', { name, owner })));
      } else {
        names.set(name, `sites[${i}] (${site.domain})`);
      }
    };
    claim(site.domain, ['sites', i, 'domain']);
    site.aliases.forEach((a, k) => claim(a, ['sites', i, 'aliases', k]));
    checkSelectors(site.edges, ['sites', i, 'edges']);
    list(rec(r.waf).overrides).forEach((o, k) => {
      checkSelectors(strings(rec(o).edges), ['sites', i, 'waf', 'overrides', k, 'edges']);
    });
    list(r.networks).forEach((o, k) => {
      checkSelectors(strings(rec(o).edges), ['sites', i, 'networks', k, 'edges']);
    });
    list(r.modifiers).forEach((m, k) => {
      if (rec(m).edges !== undefined)
        checkSelectors(strings(rec(m).edges), ['sites', i, 'modifiers', k, 'edges']);
    });
    // GCore's health checks ("What Healthcheck are and how to configure them": timeout 1-10
    // s) refuse a longer timeout; say so here instead of capping it without a word.
    const timeout = rec(r.health_check).timeout;
    if (
      rec(spec.dns).provider === 'gcore' &&
      typeof timeout === 'number' &&
      timeout > GCORE_MAX_TIMEOUT
    )
      problems.push(
        problem(
          ['sites', i, 'health_check', 'timeout'],
          said('gcore_timeout', { timeout, max: GCORE_MAX_TIMEOUT }),
        ),
      );
  });
  return problems;
}
