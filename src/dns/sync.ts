// Plan, then apply, like Terraform: the desired sets of every zone against what the provider
// holds. Only sets Outpost marked as its own are ever replaced or deleted; unmanaged sets are
// reported, never touched. Each zone is planned and applied on its own: one failing zone does
// not stop the others, and after a failure the plan is recomputed, not replayed.
import { isDeepStrictEqual } from 'node:util';
import type { Spec } from '../spec/index.js';
import { planDnsRecords, type PlanDnsOptions, type PlanProblem, type RRsetPlan } from './plan.js';
import type { DnsProvider, ProviderRRset } from './provider.js';

export type ChangeAction = 'create' | 'replace' | 'delete';

export interface DnsChange {
  action: ChangeAction;
  name: string;
  type: string;
  before: ProviderRRset | null;
  after: ProviderRRset | null;
}

export interface ZonePlan {
  zone: string;
  changes: DnsChange[];
  /** Managed sets no site needs any more (deleted only with prune). */
  obsolete: { name: string; type: string }[];
  /** Sets Outpost does not own, reported and never touched. */
  unmanaged: { name: string; type: string; conflict: boolean }[];
  /** Why this zone could not be planned (the others still are). */
  error: string | null;
}

export interface DnsPlanResult {
  zones: ZonePlan[];
  problems: PlanProblem[];
}

export interface PlanChangesOptions extends PlanDnsOptions {
  /** Delete managed sets no site needs any more. */
  prune?: boolean;
  /** Zones whose sets Outpost managed before (so that a zone left with no site is pruned too). */
  extraZones?: readonly string[];
}

const key = (r: { name: string; type: string }): string => `${r.name} ${r.type}`;

/**
 * Plain address types that a resolver mixes into (or, for CNAME, puts in place of) the answers
 * of a set Outpost manages at the same name: PowerDNS serves a plain `A` next to a `LUA` set.
 */
const CLASHING_TYPES = ['A', 'AAAA', 'CNAME'];
const byKey = (a: { name: string; type: string }, b: { name: string; type: string }): number =>
  key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Plans one zone: desired (already rendered for the provider) against current. */
export function diffZone(
  zone: string,
  desired: readonly ProviderRRset[],
  current: readonly ProviderRRset[],
  types: readonly string[],
  prune: boolean,
): ZonePlan {
  const changes: DnsChange[] = [];
  const unmanaged: ZonePlan['unmanaged'] = [];
  const obsolete: ZonePlan['obsolete'] = [];
  const cur = new Map(current.map((r) => [key(r), r]));
  const want = new Set(desired.map(key));
  const wantedNames = new Set(desired.map((d) => d.name));
  for (const d of desired) {
    const c = cur.get(key(d));
    if (c === undefined)
      changes.push({ action: 'create', name: d.name, type: d.type, before: null, after: d });
    else if (!c.managed) unmanaged.push({ name: c.name, type: c.type, conflict: true });
    else if (c.ttl !== d.ttl || !isDeepStrictEqual(c.body, d.body))
      changes.push({ action: 'replace', name: d.name, type: d.type, before: c, after: d });
  }
  for (const c of current) {
    if (want.has(key(c))) continue;
    if (wantedNames.has(c.name) && CLASHING_TYPES.includes(c.type)) {
      // A plain record where Outpost publishes a managed set: its addresses would be served
      // too. Outpost's own (an earlier sync's) goes now, prune or not; anyone else's is a
      // conflict, shown and alerted, never touched.
      if (c.managed)
        changes.push({ action: 'delete', name: c.name, type: c.type, before: c, after: null });
      else unmanaged.push({ name: c.name, type: c.type, conflict: true });
      continue;
    }
    if (!types.includes(c.type)) continue;
    if (!c.managed) unmanaged.push({ name: c.name, type: c.type, conflict: false });
    else if (prune)
      changes.push({ action: 'delete', name: c.name, type: c.type, before: c, after: null });
    else obsolete.push({ name: c.name, type: c.type });
  }
  changes.sort(byKey);
  unmanaged.sort(byKey);
  obsolete.sort(byKey);
  return { zone, changes, obsolete, unmanaged, error: null };
}

/** Plans every zone the spec needs (plus `extraZones`), each on its own. */
export async function planDnsChanges(
  provider: DnsProvider,
  spec: Spec,
  opts: PlanChangesOptions = {},
): Promise<DnsPlanResult> {
  const plan = planDnsRecords(spec, opts);
  const byZone = new Map<string, RRsetPlan[]>();
  for (const r of plan.rrsets) byZone.set(r.zone, [...(byZone.get(r.zone) ?? []), r]);
  for (const z of opts.extraZones ?? []) if (!byZone.has(z)) byZone.set(z, []);
  let existing: string[] | undefined;
  let listError: string | null = null;
  try {
    existing = await provider.listZones();
  } catch (err) {
    listError = errorMessage(err);
  }
  const zones = await Promise.all(
    [...byZone.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(async ([zone, rrsets]): Promise<ZonePlan> => {
        try {
          if (existing === undefined) throw new Error(listError ?? 'cannot list zones');
          const desired = provider.render(rrsets);
          const current = existing.includes(zone) ? await provider.listRRsets(zone) : [];
          return diffZone(zone, desired, current, provider.managedTypes, opts.prune ?? false);
        } catch (err) {
          return { zone, changes: [], obsolete: [], unmanaged: [], error: errorMessage(err) };
        }
      }),
  );
  return { zones, problems: plan.problems };
}

export interface ZoneApplyResult {
  zone: string;
  applied: { action: ChangeAction; name: string; type: string }[];
  error: string | null;
}

/** Applies planned zones; a failing zone stops only itself. Writes nothing for empty plans. */
export async function applyDnsPlan(
  provider: DnsProvider,
  plan: DnsPlanResult,
): Promise<ZoneApplyResult[]> {
  return Promise.all(
    plan.zones.map(async (z): Promise<ZoneApplyResult> => {
      const applied: ZoneApplyResult['applied'] = [];
      if (z.error !== null) return { zone: z.zone, applied, error: z.error };
      if (z.changes.length === 0) return { zone: z.zone, applied, error: null };
      try {
        if (z.changes.some((c) => c.action === 'create')) await provider.ensureZone(z.zone);
        const written: ProviderRRset[] = [];
        for (const c of z.changes) {
          if (c.action === 'create' && c.after) await provider.createRRset(z.zone, c.after);
          else if (c.action === 'replace' && c.after) await provider.replaceRRset(z.zone, c.after);
          else await provider.deleteRRset(z.zone, c.name, c.type);
          applied.push({ action: c.action, name: c.name, type: c.type });
          if (c.after) written.push(c.after);
        }
        if (written.length > 0) await provider.afterApply?.(z.zone, written);
        return { zone: z.zone, applied, error: null };
      } catch (err) {
        return { zone: z.zone, applied, error: errorMessage(err) };
      }
    }),
  );
}
