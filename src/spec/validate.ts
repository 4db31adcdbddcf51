// Whole-document validation: the schema first, then the rules that span several entries
// (unique names, references to edges that exist).
import { EdgeSelector, Spec } from './schema.js';
import { problem, problemsFromZod, said, SpecError, type Problem, type Said } from './problems.js';
import { protectProblems } from './validate-protect.js';
import { edgeCapabilityProblems } from './edge-capabilities.js';

/** The longest health-check timeout GCore accepts, in seconds. */
export const GCORE_MAX_TIMEOUT = 10;

export type Validation = { ok: true; spec: Spec } | { ok: false; problems: Problem[] };

export interface ValidateOptions {
  /**
   * Entries (edges, sites) that are known to be valid as they are: the frozen objects of the
   * stored state. An entry of `input` that is one of them (the same object) is taken as is
   * instead of going through its schema again; the rules across entries still see every one.
   * An edit of one site at 10,000 sites then parses one site, not 10,000 (issue 14: ~2.5 s of
   * zod on the request thread per edit; bench:admin-reads "edit one site").
   */
  known?: ReadonlySet<unknown>;
}

/** Validates a plain object (parsed YAML or an API body) as a whole Spec. */
export function validateSpec(input: unknown, options: ValidateOptions = {}): Validation {
  const parsed = parseShape(input ?? {}, options.known);
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
export function parseSpec(input: unknown, options: ValidateOptions = {}): Spec {
  const v = validateSpec(input, options);
  if (!v.ok) throw new SpecError(v.problems);
  return v.spec;
}

/**
 * The Spec schema's parse, skipping the entries of `edges` and `sites` that are `known`: only
 * the others go through the schema, and the problems' paths are those of `input`.
 */
function parseShape(input: unknown, known: ReadonlySet<unknown> | undefined) {
  const doc = rec(input);
  if (known === undefined || known.size === 0 || doc !== input) return Spec.safeParse(input);
  const lists = ['edges', 'sites'] as const;
  // For each list, the indices (in `input`) of the entries that the schema must see.
  const fresh = new Map<string, number[]>();
  const shell: Loose = { ...doc };
  for (const key of lists) {
    const entries = doc[key];
    if (!Array.isArray(entries)) continue;
    const at = entries.flatMap((e, i) => (known.has(e) ? [] : [i]));
    fresh.set(key, at);
    shell[key] = at.map((i) => entries[i] as unknown);
  }
  const parsed = Spec.safeParse(shell);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = fresh.get(String(issue.path[0]));
      const i = issue.path[1];
      if (at !== undefined && typeof i === 'number' && at[i] !== undefined)
        issue.path = [issue.path[0]!, at[i], ...issue.path.slice(2)];
    }
    return parsed;
  }
  const data = parsed.data;
  for (const key of lists) {
    const entries = doc[key];
    const at = fresh.get(key);
    if (!Array.isArray(entries) || at === undefined) continue;
    const made: unknown[] = data[key];
    const out: unknown[] = entries.slice();
    at.forEach((i, k) => (out[i] = made[k]));
    (data as Loose)[key] = out;
  }
  return parsed;
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

  // Whether a selector names nothing, once per distinct selector (10,000 sites repeat a few).
  const unknown = new Map<string, Said | undefined>();
  const unknownOf = (sel: string) => {
    if (unknown.has(sel)) return unknown.get(sel);
    let why: Said | undefined;
    if (sel === '*' || !EdgeSelector.safeParse(sel).success) why = undefined;
    else if (sel.startsWith('tag:')) {
      const tag = sel.slice(4);
      if (!tags.has(tag)) why = said('unknown_tag', { tag });
    } else if (!edgeNames.has(sel)) why = said('unknown_edge', { edge: sel });
    unknown.set(sel, why);
    return why;
  };
  const checkSelectors = (selectors: string[], at: (string | number)[]) => {
    selectors.forEach((sel, k) => {
      const why = unknownOf(sel);
      if (why !== undefined) problems.push(problem([...at, k], why));
    });
  };

  // Who claimed a name first: the index of the site (worded only when a second one claims it).
  const names = new Map<string, number>();
  const sites = list(spec.sites);
  const claim = (name: string, i: number, at: (string | number)[]) => {
    const first = names.get(name);
    if (first === undefined) return void names.set(name, i);
    const owner = `sites[${first}] (${String(rec(sites[first]).domain)})`;
    problems.push(problem(at, said('already_served', { name, owner })));
  };
  sites.forEach((raw, i) => {
    const r = rec(raw);
    if (typeof r.domain !== 'string') return;
    const site = {
      domain: r.domain,
      aliases: strings(r.aliases),
      edges: r.edges === undefined ? ['*'] : strings(r.edges),
    };
    claim(site.domain, i, ['sites', i, 'domain']);
    site.aliases.forEach((a, k) => claim(a, i, ['sites', i, 'aliases', k]));
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
