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
} from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

interface StoredRows {
  revision: number;
  edges: { name: string; position: number; spec: Edge }[];
  sites: { domain: string; position: number; spec: Site }[];
  dns: DnsSettings | undefined;
  acme: AcmeSettings | undefined;
  ip_lists: IpLists | undefined;
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
  // through this store drops it (a new order alone keeps the revision). Callers get a copy.
  let parsed: StoredState | undefined;
  return {
    async readState(): Promise<StoredState> {
      if (parsed !== undefined) {
        const head = await c.db
          .selectFrom('state')
          .select('revision')
          .where('id', '=', 1)
          .executeTakeFirst();
        if (head?.revision === parsed.revision) return structuredClone(parsed);
      }
      const rows = await c.readTransaction((trx) => loadRows(trx));
      parsed = { spec: specOf(rows), revision: rows.revision };
      return structuredClone(parsed);
    },

    async writeState(
      next: Spec,
      event: NewAuditEvent,
      options: WriteStateOptions = {},
    ): Promise<WriteStateResult> {
      // The store never holds a state that would not validate (unique names, references), and
      // stores entries with their defaults filled in. DesiredState has already parsed `next`, so
      // this is a second parse on that path; it stays as a safety net: the `Spec` type cannot
      // express those cross-entry rules, any other caller of the Store would otherwise be
      // trusted, and one parse costs little next to the write transaction.
      const desired = parseSpec(next);
      parsed = undefined;
      return c.transaction(async (trx) => {
        const rows = await loadRows(trx);
        if (options.expectRevision !== undefined && options.expectRevision !== rows.revision) {
          throw new RevisionConflictError(options.expectRevision, rows.revision);
        }
        const diff = diffSpecs(specOf(rows), desired);
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

        const storedEdges = new Map(rows.edges.map((r) => [r.name, r]));
        for (const [position, edge] of desired.edges.entries()) {
          const stored = storedEdges.get(edge.name);
          if (stored === undefined) {
            await trx
              .insertInto('edges')
              .values({
                name: edge.name,
                position,
                spec: JSON.stringify(edge),
                token_hash: options.edgeTokenHashes?.[edge.name] ?? null,
                created_at: at,
                updated_at: at,
              })
              .execute();
          } else if (updated.has(`edge:${edge.name}`)) {
            // token_hash and created_at are left as they are.
            await trx
              .updateTable('edges')
              .set({ position, spec: JSON.stringify(edge), updated_at: at })
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
                spec: JSON.stringify(site),
                created_at: at,
                updated_at: at,
              })
              .execute();
          } else if (updated.has(`site:${site.domain}`)) {
            await trx
              .updateTable('sites')
              .set({ position, spec: JSON.stringify(site), updated_at: at })
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
        await options.beforeCommit?.();
        return { revision, changed: revision !== rows.revision };
      });
    },
  };
}

async function loadRows(db: Db): Promise<StoredRows> {
  const state = await db
    .selectFrom('state')
    .select('revision')
    .where('id', '=', 1)
    .executeTakeFirst();
  if (state === undefined) throw new StoreDataError('the store has no state row');
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
  return {
    revision: state.revision,
    edges: edges.map((r) => ({ ...r, spec: parseStored(Edge, r.spec, `edge "${r.name}"`) })),
    sites: sites.map((r) => ({ ...r, spec: parseStored(Site, r.spec, `site "${r.domain}"`) })),
    dns: dns === undefined ? undefined : parseStored(DnsSettings, dns, 'dns settings'),
    acme: acme === undefined ? undefined : parseStored(AcmeSettings, acme, 'acme settings'),
    ip_lists: ipLists === undefined ? undefined : parseStored(IpLists, ipLists, 'ip lists'),
  };
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
