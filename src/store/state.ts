// The desired state's queries: read it whole, write it whole in one transaction.
//
// Decisions:
// - Entries are stored as JSON text of their zod-parsed shape, one row per edge/site/block,
//   and parsed back through the same schemas on read, so defaults added later apply.
// - `revision` counts changes of desired state as `diffSpecs` sees them. The order of edges
//   and sites is kept (column `position`) so `readState` returns entries as they were given,
//   but a new order alone is presentation, not a change: it is stored, an event records it,
//   the revision stays and `changed` is false.
// - Token hashes live in `edges.token_hash` only; they never enter an event's detail.
import type { Kysely, Transaction } from 'kysely';
import type { z } from 'zod';
import {
  AcmeSettings,
  DnsSettings,
  IpLists,
  Edge,
  Site,
  diffSpecs,
  parseSpec,
  type Change,
  type Spec,
} from '../spec/index.js';
import type { Connection } from './connection.js';
import { StoreDataError } from './errors.js';
import { insertEvent } from './settings.js';
import { parseStored } from './parse.js';
import type { Database } from './schema.js';
import {
  RevisionConflictError,
  type NewAuditEvent,
  type StateQueries,
  type StoredState,
  type WriteStateOptions,
  type WriteStateResult,
  type WrittenEntry,
} from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

interface StoredRows {
  revision: number;
  edges: { name: string; position: number; text: string; spec: Edge }[];
  sites: { domain: string; position: number; text: string; spec: Site }[];
  dns: DnsSettings | undefined;
  acme: AcmeSettings | undefined;
  ip_lists: IpLists | undefined;
  /** Every entry parsed, by its kind and stored text (the next load reuses them). */
  parsed: Parsed;
}

/** Parsed entries by kind ('edge', 'site', a block's key), then by stored text. */
type Parsed = Map<string, Map<string, unknown>>;

function parsedOf(parsed: Parsed | undefined, kind: string, text: string): unknown {
  return parsed?.get(kind)?.get(text);
}

function remember(parsed: Parsed, kind: string, text: string, value: unknown): void {
  let texts = parsed.get(kind);
  if (texts === undefined) parsed.set(kind, (texts = new Map<string, unknown>()));
  texts.set(text, value);
}

/**
 * The state as parsed for one revision, deep-frozen (readSharedState hands it out as is), and
 * every entry by its stored text: a load after a change (ours or another control plane's)
 * parses only the rows whose text is new, and unchanged entries keep their object identity
 * from one revision to the next (the bundle builder keys its per-site work on it).
 */
interface ParsedState {
  state: StoredState;
  parsed: Parsed;
  /** The rows it was read from (or written as): a write at the same revision starts from them. */
  rows: StoredRows;
}

/** What an event's detail says about a write of the desired state. Paths only, no values. */
export interface ChangeSummary {
  kind: Change['kind'];
  key: string;
  op: Change['op'];
  fields: string[];
}

export function stateQueries(c: Connection): StateQueries {
  // The state parsed once per revision: reading the rows and parsing every entry through its
  // schema costs far more than the one-row query that says whether anything changed. A write
  // through this store replaces it with what it wrote (a new order alone keeps the revision);
  // a change by another control plane is seen by the revision and re-parses only the entries
  // whose stored text changed. readState hands out a copy, readSharedState the frozen original.
  let cache: ParsedState | undefined;
  // ---- w7-apply: entries the apply worker wrote, taken by the next load without a parse ----
  let adopted: Parsed = new Map();
  const knownOf = (parsed: Parsed | undefined) => {
    if (adopted.size === 0) return parsed;
    const known: Parsed = new Map();
    for (const [kind, texts] of parsed ?? []) known.set(kind, new Map(texts));
    for (const [kind, texts] of adopted)
      for (const [text, value] of texts) remember(known, kind, text, value);
    adopted = new Map();
    return known;
  };
  // ---- end w7-apply ----
  const shared = async (): Promise<StoredState> => {
    // The cache as it was when this read began: a write may drop or replace it while the
    // revision query is awaited.
    const current = cache;
    if (current !== undefined) {
      const head = await c.db
        .selectFrom('state')
        .select('revision')
        .where('id', '=', 1)
        .executeTakeFirst();
      if (head?.revision === current.state.revision) return current.state;
    }
    const known = knownOf(cache?.parsed); // w7-apply: with the adopted entries
    const rows = await c.readTransaction((trx) => loadRows(trx, known));
    cache = {
      state: deepFreeze({ spec: specOf(rows), revision: rows.revision }),
      parsed: rows.parsed,
      rows,
    };
    return cache.state;
  };
  return {
    async readState(): Promise<StoredState> {
      return structuredClone(await shared());
    },

    readSharedState: shared,

    // ---- w7-apply ----
    adoptWrittenEntries(entries: readonly WrittenEntry[]): void {
      for (const { kind, text } of entries)
        remember(adopted, kind, text, deepFreeze(JSON.parse(text) as unknown));
    },
    // ---- end w7-apply ----

    async writeState(
      next: Spec,
      event: NewAuditEvent,
      options: WriteStateOptions = {},
    ): Promise<WriteStateResult> {
      // The store never holds a state that would not validate (unique names, references), and
      // stores entries with their defaults filled in. Any caller's `next` is parsed here: the
      // `Spec` type cannot express the cross-entry rules. Only DesiredState, which has parsed
      // and diffed `next` itself at `expectRevision`, says so with `checked` and skips both.
      const checked = options.expectRevision !== undefined ? options.checked : undefined;
      const desired = checked !== undefined ? next : parseSpec(next);
      const prior = cache;
      cache = undefined;
      let written: ParsedState | undefined;
      const result = await c.transaction(async (trx) => {
        written = undefined;
        // w7-apply: with the entries the apply worker wrote (a write right after its apply).
        const rows = await loadRows(trx, knownOf(prior?.parsed), prior?.rows);
        if (options.expectRevision !== undefined && options.expectRevision !== rows.revision) {
          throw new RevisionConflictError(options.expectRevision, rows.revision);
        }
        const diff = checked?.diff ?? diffSpecs(specOf(rows), desired);
        const updated = new Set(
          diff.changes.filter((c) => c.op === 'update').map((c) => `${c.kind}:${c.key}`),
        );
        const reordered: string[] = [];
        const edgeOrder = desired.edges.map((e) => e.name);
        if (
          orderChanged(
            rows.edges.map((r) => r.name),
            edgeOrder,
          )
        )
          reordered.push('edges');
        const siteOrder = desired.sites.map((x) => x.domain);
        if (
          orderChanged(
            rows.sites.map((r) => r.domain),
            siteOrder,
          )
        )
          reordered.push('sites');
        if (diff.changes.length === 0 && reordered.length === 0) {
          written = {
            state: deepFreeze({ spec: specOf(rows), revision: rows.revision }),
            parsed: rows.parsed,
            rows,
          };
          return { revision: rows.revision, changed: false };
        }
        const at = c.now().toISOString();

        // Deletes first, so a name (or token hash) can move to a new entry in the same write.
        const edgeNames = new Set(desired.edges.map((e) => e.name));
        const gone = rows.edges.filter((r) => !edgeNames.has(r.name)).map((r) => r.name);
        if (gone.length > 0) await trx.deleteFrom('edges').where('name', 'in', gone).execute();
        const domains = new Set(desired.sites.map((s) => s.domain));
        const goneSites = rows.sites.filter((r) => !domains.has(r.domain)).map((r) => r.domain);
        if (goneSites.length > 0) {
          await trx.deleteFrom('sites').where('domain', 'in', goneSites).execute();
        }

        // The text of each entry written, made once: the row's and the cache's (writtenState).
        const texts = new Map<string, string>();
        const textOf = (key: string, entry: unknown) => {
          const text = JSON.stringify(entry);
          texts.set(key, text);
          return text;
        };
        const storedEdges = new Map(rows.edges.map((r) => [r.name, r]));
        for (const [position, edge] of desired.edges.entries()) {
          const stored = storedEdges.get(edge.name);
          if (stored === undefined) {
            await trx
              .insertInto('edges')
              .values({
                name: edge.name,
                position,
                spec: textOf(`edge:${edge.name}`, edge),
                token_hash: options.edgeTokenHashes?.[edge.name] ?? null,
                created_at: at,
                updated_at: at,
              })
              .execute();
          } else if (updated.has(`edge:${edge.name}`)) {
            // token_hash and created_at are left as they are.
            await trx
              .updateTable('edges')
              .set({ position, spec: textOf(`edge:${edge.name}`, edge), updated_at: at })
              .where('name', '=', edge.name)
              .execute();
          } else if (stored.position !== position) {
            await trx
              .updateTable('edges')
              .set({ position })
              .where('name', '=', edge.name)
              .execute();
          }
        }

        const storedSites = new Map(rows.sites.map((r) => [r.domain, r]));
        for (const [position, site] of desired.sites.entries()) {
          const stored = storedSites.get(site.domain);
          if (stored === undefined) {
            await trx
              .insertInto('sites')
              .values({
                domain: site.domain,
                position,
                spec: textOf(`site:${site.domain}`, site),
                created_at: at,
                updated_at: at,
              })
              .execute();
          } else if (updated.has(`site:${site.domain}`)) {
            await trx
              .updateTable('sites')
              .set({ position, spec: textOf(`site:${site.domain}`, site), updated_at: at })
              .where('domain', '=', site.domain)
              .execute();
          } else if (stored.position !== position) {
            await trx
              .updateTable('sites')
              .set({ position })
              .where('domain', '=', site.domain)
              .execute();
          }
        }

        const blockOp = (kind: 'dns' | 'acme' | 'ip_lists') =>
          diff.changes.find((c) => c.kind === kind)?.op;
        await writeBlock(trx, 'dns', blockOp('dns'), desired.dns, at);
        await writeBlock(trx, 'acme', blockOp('acme'), desired.acme, at);
        await writeBlock(trx, 'ip_lists', blockOp('ip_lists'), desired.ip_lists, at);

        const revision = diff.changes.length > 0 ? rows.revision + 1 : rows.revision;
        if (revision !== rows.revision) {
          await trx.updateTable('state').set({ revision }).where('id', '=', 1).execute();
        }
        const changes: ChangeSummary[] = diff.changes.map((c) => ({
          kind: c.kind,
          key: c.key,
          op: c.op,
          fields: c.fields.map((f) => f.path),
        }));
        await insertEvent(trx, at, {
          ...event,
          detail: {
            ...event.detail,
            revision,
            changes,
            ...(reordered.length ? { reordered } : {}),
          },
        });
        written = writtenState(rows, desired, texts, revision);
        await options.beforeCommit?.();
        return { revision, changed: revision !== rows.revision };
      });
      cache = written;
      return result;
    },
  };
}

/**
 * The state a write leaves, as the cache holds it: entries it did not change are the objects
 * it loaded (same identity as before the write), the others the ones it wrote, frozen.
 */
function writtenState(
  rows: StoredRows,
  desired: Spec,
  /** The text of each entry the write inserted or updated, by `kind:key`. */
  texts: ReadonlyMap<string, string>,
  revision: number,
): ParsedState {
  const parsed: Parsed = new Map();
  // A row the write left as it was is the row loaded (no new object, no new text).
  const keep = <R extends { position: number; text: string; spec: T }, T>(
    kind: string,
    old: R | undefined,
    next: T,
    key: string,
    position: number,
  ): R => {
    const text = texts.get(`${kind}:${key}`);
    const row: R =
      text === undefined && old !== undefined
        ? old.position === position
          ? old
          : { ...old, position }
        : ({
            [kind === 'edge' ? 'name' : 'domain']: key,
            position,
            text,
            spec: deepFreeze(next),
          } as R);
    remember(parsed, kind, row.text, row.spec);
    return row;
  };
  const oldEdges = new Map(rows.edges.map((r) => [r.name, r]));
  const oldSites = new Map(rows.sites.map((r) => [r.domain, r]));
  const edges = desired.edges.map((e, i) => keep('edge', oldEdges.get(e.name), e, e.name, i));
  const sites = desired.sites.map((x, i) => keep('site', oldSites.get(x.domain), x, x.domain, i));
  // The blocks are small: the written ones, frozen.
  const block = <T>(kind: string, value: T | undefined): T | undefined => {
    if (value === undefined) return undefined;
    const frozen = deepFreeze(value);
    remember(parsed, kind, JSON.stringify(value), frozen);
    return frozen;
  };
  const written: StoredRows = {
    revision,
    edges,
    sites,
    dns: block('dns', desired.dns),
    acme: block('acme', desired.acme),
    ip_lists: block('ip_lists', desired.ip_lists),
    parsed,
  };
  return { state: deepFreeze({ spec: specOf(written), revision }), parsed, rows: written };
}

/** Freezes `value` and everything it holds (already frozen parts are skipped). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

async function loadRows(db: Db, known?: Parsed, prior?: StoredRows): Promise<StoredRows> {
  const state = await db
    .selectFrom('state')
    .select('revision')
    .where('id', '=', 1)
    .executeTakeFirst();
  if (state === undefined) throw new StoreDataError('the store has no state row');
  // At the revision of rows read (or written) before, their texts are those stored: only the
  // order may have moved (a new order alone keeps the revision), so read the positions only.
  // At 10,000 sites that spares reading and comparing ~5 MB of text per write of one site.
  if (prior?.revision === state.revision) {
    const again = await reorderedRows(db, prior);
    if (again !== undefined) return again;
  }
  const edges = await db
    .selectFrom('edges')
    .select(['name', 'position', 'spec'])
    .orderBy('position')
    .orderBy('name')
    .execute();
  const sites = await db
    .selectFrom('sites')
    .select(['domain', 'position', 'spec'])
    .orderBy('position')
    .orderBy('domain')
    .execute();
  const blocks = await db.selectFrom('blocks').select(['key', 'value']).execute();
  const block = (key: string) => blocks.find((b) => b.key === key)?.value;
  const dns = block('dns');
  const acme = block('acme');
  const ipLists = block('ip_lists');
  const parsed: Parsed = new Map();
  // An entry whose stored text was parsed before is that (frozen) object again.
  const parse = <T extends z.ZodTypeAny>(kind: string, schema: T, text: string, what: string) => {
    let value = parsedOf(known, kind, text) as z.output<T> | undefined;
    if (value === undefined) value = deepFreeze(parseStored(schema, text, what));
    remember(parsed, kind, text, value);
    return value as z.output<T>;
  };
  return {
    revision: state.revision,
    edges: edges.map((r) => ({
      name: r.name,
      position: r.position,
      text: r.spec,
      spec: parse('edge', Edge, r.spec, `edge "${r.name}"`),
    })),
    sites: sites.map((r) => ({
      domain: r.domain,
      position: r.position,
      text: r.spec,
      spec: parse('site', Site, r.spec, `site "${r.domain}"`),
    })),
    dns: dns === undefined ? undefined : parse('dns', DnsSettings, dns, 'dns settings'),
    acme: acme === undefined ? undefined : parse('acme', AcmeSettings, acme, 'acme settings'),
    ip_lists: ipLists === undefined ? undefined : parse('ip_lists', IpLists, ipLists, 'ip lists'),
    parsed,
  };
}

/**
 * `prior`'s rows in the order stored now (positions only are read), or undefined when the
 * stored entries are not the same ones (then the caller reads everything).
 */
async function reorderedRows(db: Db, prior: StoredRows): Promise<StoredRows | undefined> {
  const edges = await db
    .selectFrom('edges')
    .select(['name', 'position'])
    .orderBy('position')
    .orderBy('name')
    .execute();
  const sites = await db
    .selectFrom('sites')
    .select(['domain', 'position'])
    .orderBy('position')
    .orderBy('domain')
    .execute();
  if (edges.length !== prior.edges.length || sites.length !== prior.sites.length) return undefined;
  const edgeRows = new Map(prior.edges.map((r) => [r.name, r]));
  const siteRows = new Map(prior.sites.map((r) => [r.domain, r]));
  const again: StoredRows = { ...prior, edges: [], sites: [] };
  for (const { name, position } of edges) {
    const row = edgeRows.get(name);
    if (row === undefined) return undefined;
    again.edges.push(row.position === position ? row : { ...row, position });
  }
  for (const { domain, position } of sites) {
    const row = siteRows.get(domain);
    if (row === undefined) return undefined;
    again.sites.push(row.position === position ? row : { ...row, position });
  }
  return again;
}

function specOf(rows: StoredRows): Spec {
  const spec: Spec = { edges: rows.edges.map((r) => r.spec), sites: rows.sites.map((r) => r.spec) };
  if (rows.dns !== undefined) spec.dns = rows.dns;
  if (rows.acme !== undefined) spec.acme = rows.acme;
  if (rows.ip_lists !== undefined) spec.ip_lists = rows.ip_lists;
  return spec;
}

/** Whether the entries in both lists come in a different order (additions, removals aside). */
function orderChanged(before: string[], after: string[]): boolean {
  if (before.length === after.length && before.every((k, i) => k === after[i])) return false;
  const inAfter = new Set(after);
  const inBefore = new Set(before);
  const kept = before.filter((k) => inAfter.has(k));
  const keptAfter = after.filter((k) => inBefore.has(k));
  return kept.some((k, i) => keptAfter[i] !== k);
}

async function writeBlock(
  trx: Db,
  key: 'dns' | 'acme' | 'ip_lists',
  op: Change['op'] | undefined,
  value: unknown,
  at: string,
): Promise<void> {
  if (op === 'delete') {
    await trx.deleteFrom('blocks').where('key', '=', key).execute();
  } else if (op === 'create') {
    await trx
      .insertInto('blocks')
      .values({ key, value: JSON.stringify(value), created_at: at, updated_at: at })
      .execute();
  } else if (op === 'update') {
    await trx
      .updateTable('blocks')
      .set({ value: JSON.stringify(value), updated_at: at })
      .where('key', '=', key)
      .execute();
  }
}
