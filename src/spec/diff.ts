// What changes between two desired states, entry by entry and field by field. Pure.
import { formatPath, type PathSegment } from './problems.js';
import type { Spec } from './schema.js';

export type ChangeOp = 'create' | 'update' | 'delete';
export type EntryKind = 'edge' | 'site' | 'dns' | 'acme' | 'ip_lists';

export interface FieldChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface Change {
  kind: EntryKind;
  /** Edge name, site domain, or the block name for dns/acme. */
  key: string;
  op: ChangeOp;
  fields: FieldChange[];
}

export interface SpecDiff {
  changes: Change[];
}

export function diffSpecs(current: Spec, desired: Spec): SpecDiff {
  const changes: Change[] = [
    ...diffKeyed('edge', current.edges, desired.edges, (e) => e.name),
    ...diffKeyed('site', current.sites, desired.sites, (s) => s.domain),
    ...diffBlock('dns', current.dns, desired.dns),
    ...diffBlock('acme', current.acme, desired.acme),
    ...diffBlock('ip_lists', current.ip_lists, desired.ip_lists),
  ];
  return { changes };
}

function diffKeyed<T>(kind: EntryKind, before: T[], after: T[], key: (t: T) => string): Change[] {
  // Same entries in the same places (an edit that kept every entry but some): compare place by
  // place, without two maps of 10,000 entries.
  if (before.length === after.length && before.every((t, i) => key(t) === key(after[i] as T))) {
    const out: Change[] = [];
    before.forEach((t, i) => {
      const fields = diffValues(t, after[i]);
      if (fields.length > 0) out.push({ kind, key: key(t), op: 'update', fields });
    });
    return out;
  }
  const old = new Map(before.map((t) => [key(t), t]));
  const next = new Map(after.map((t) => [key(t), t]));
  const out: Change[] = [];
  for (const [k, t] of next) {
    const prev = old.get(k);
    if (prev === undefined) out.push({ kind, key: k, op: 'create', fields: [] });
    else {
      const fields = diffValues(prev, t);
      if (fields.length > 0) out.push({ kind, key: k, op: 'update', fields });
    }
  }
  for (const k of old.keys()) {
    if (!next.has(k)) out.push({ kind, key: k, op: 'delete', fields: [] });
  }
  return out;
}

function diffBlock(kind: EntryKind, before: unknown, after: unknown): Change[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ kind, key: kind, op: 'create', fields: [] }];
  if (after === undefined) return [{ kind, key: kind, op: 'delete', fields: [] }];
  const fields = diffValues(before, after);
  return fields.length > 0 ? [{ kind, key: kind, op: 'update', fields }] : [];
}

/** Leaf-level differences between two JSON-like values. */
export function diffValues(a: unknown, b: unknown, at: PathSegment[] = []): FieldChange[] {
  // The same object (an entry an edit kept, the stored state's frozen entries): no change,
  // without a walk (a one-site edit at 10,000 sites compares one site).
  if (a === b) return [];
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diffValues(a[k], b[k], [...at, k]));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    return a.flatMap((x, i) => diffValues(x, b[i], [...at, i]));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const change: FieldChange = { path: formatPath(at) };
  if (a !== undefined) change.from = a;
  if (b !== undefined) change.to = b;
  return [change];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const SIGN: Record<ChangeOp, string> = { create: '+', update: '~', delete: '-' };

/** A readable, plan-like rendering of a diff, one line per entry and per changed field. */
export function formatDiff(diff: SpecDiff): string {
  if (diff.changes.length === 0) return 'No changes.';
  const lines: string[] = [];
  for (const c of diff.changes) {
    lines.push(
      `${SIGN[c.op]} ${c.kind} ${c.kind === 'dns' || c.kind === 'acme' || c.kind === 'ip_lists' ? '' : c.key}`.trimEnd(),
    );
    for (const f of c.fields) {
      lines.push(`    ${f.path}: ${show(f.from)} → ${show(f.to)}`);
    }
  }
  const count = (op: ChangeOp) => diff.changes.filter((c) => c.op === op).length;
  lines.push(
    '',
    `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete.`,
  );
  return lines.join('\n');
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}
