// The Store over Kysely. Nothing here is specific to SQLite except `beginWrite`, so a
// PostgreSQL dialect plugs in by opening a Kysely<Database> for it (see sqlite.ts) and adding
// its branch there.
//
// Decisions:
// - Entries are stored as JSON text of their zod-parsed shape, one row per edge/site/block,
//   and parsed back through the same schemas on read, so defaults added later apply.
// - `revision` counts changes of desired state as `diffSpecs` sees them. The order of edges
//   and sites is kept (column `position`) so `readState` returns entries as they were given,
//   but a new order alone is presentation, not a change: it is stored, an event records it,
//   the revision stays and `changed` is false.
// - Token hashes live in `edges.token_hash` only; they never enter an event's detail.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { z } from 'zod';
import {
  AcmeSettings,
  DnsSettings,
  Edge,
  PurgeJob,
  Site,
  diffSpecs,
  parseSpec,
  type Change,
  type PurgeResult,
  type Spec,
} from '../spec/index.js';
import { StoreDataError } from './errors.js';
import type { SqlFlavor } from './migrations/index.js';
import type { CertificateTable, Database } from './schema.js';
import {
  RevisionConflictError,
  type AcmeChallenge,
  type AuditEvent,
  type CertificateRenewal,
  type NewAuditEvent,
  type Store,
  type StoredBundle,
  type StoredCertificate,
  type StoredEdgeReport,
  type StoredPurge,
  type StoredState,
  type WriteStateOptions,
  type WriteStateResult,
} from './types.js';

export interface KyselyStoreOptions {
  flavor: SqlFlavor;
  /** The clock for timestamps; tests may fix it. */
  now?: () => Date;
}

type Db = Kysely<Database> | Transaction<Database>;

interface StoredRows {
  revision: number;
  edges: { name: string; position: number; spec: Edge }[];
  sites: { domain: string; position: number; spec: Site }[];
  dns: DnsSettings | undefined;
  acme: AcmeSettings | undefined;
}

/** What an event's detail says about a write of the desired state. Paths only, no values. */
export interface ChangeSummary {
  kind: Change['kind'];
  key: string;
  op: Change['op'];
  fields: string[];
}

export class KyselyStore implements Store {
  private closed = false;
  private readonly now: () => Date;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: KyselyStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async readState(): Promise<StoredState> {
    const rows = await this.db.transaction().execute((trx) => loadRows(trx));
    return { spec: specOf(rows), revision: rows.revision };
  }

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
    return this.write(async (trx) => {
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
      const at = this.now().toISOString();

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
          await trx.updateTable('edges').set({ position }).where('name', '=', edge.name).execute();
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

      const blockOp = (kind: 'dns' | 'acme') => diff.changes.find((c) => c.kind === kind)?.op;
      await writeBlock(trx, 'dns', blockOp('dns'), desired.dns, at);
      await writeBlock(trx, 'acme', blockOp('acme'), desired.acme, at);

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
        detail: { ...event.detail, revision, changes, ...(reordered.length ? { reordered } : {}) },
      });
      return { revision, changed: revision !== rows.revision };
    });
  }

  async setEdgeTokenHash(
    edgeName: string,
    tokenHash: string | null,
    event: NewAuditEvent,
  ): Promise<boolean> {
    return this.write(async (trx) => {
      const result = await trx
        .updateTable('edges')
        .set({ token_hash: tokenHash })
        .where('name', '=', edgeName)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await insertEvent(trx, this.now().toISOString(), event);
      return true;
    });
  }

  async findEdgeByTokenHash(tokenHash: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('edges')
      .select('name')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row?.name;
  }

  async edgeHasToken(edgeName: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('edges')
      .select('name')
      .where('name', '=', edgeName)
      .where('token_hash', 'is not', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async saveBundle(bundle: Omit<StoredBundle, 'created_at'>, keep = 10): Promise<StoredBundle> {
    const row: StoredBundle = { ...bundle, created_at: this.now().toISOString() };
    await this.write(async (trx) => {
      await trx.insertInto('bundles').values(row).execute();
      await trx
        .deleteFrom('bundles')
        .where('edge', '=', bundle.edge)
        .where('release', '<=', bundle.release - keep)
        .execute();
    });
    return row;
  }

  async latestBundles(): Promise<StoredBundle[]> {
    return this.db
      .selectFrom('bundles as b')
      .selectAll()
      .where('b.release', '=', (eb) =>
        eb
          .selectFrom('bundles as l')
          .select((x) => x.fn.max('l.release').as('m'))
          .whereRef('l.edge', '=', 'b.edge'),
      )
      .orderBy('b.edge')
      .execute();
  }

  async latestBundle(edgeName: string): Promise<StoredBundle | undefined> {
    return this.db
      .selectFrom('bundles')
      .selectAll()
      .where('edge', '=', edgeName)
      .orderBy('release', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async saveEdgeReport(
    edgeName: string,
    report: Record<string, unknown>,
  ): Promise<StoredEdgeReport> {
    const last_seen = this.now().toISOString();
    const text = JSON.stringify(report);
    await this.db
      .insertInto('edge_status')
      .values({ edge: edgeName, report: text, last_seen })
      .onConflict((oc) => oc.column('edge').doUpdateSet({ report: text, last_seen }))
      .execute();
    return { edge: edgeName, report, last_seen };
  }

  async listEdgeReports(): Promise<StoredEdgeReport[]> {
    const rows = await this.db.selectFrom('edge_status').selectAll().orderBy('edge').execute();
    return rows.map((r) => ({
      edge: r.edge,
      report: parseDetail(r.report),
      last_seen: r.last_seen,
    }));
  }

  async createPurge(
    job: Omit<PurgeJob, 'id'>,
    edges: string[],
    event: NewAuditEvent,
  ): Promise<StoredPurge> {
    const at = this.now().toISOString();
    const id = await this.write(async (trx) => {
      const row = await trx
        .insertInto('purges')
        .values({ site: job.site, job: JSON.stringify(job), created_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const edge of edges) {
        await trx
          .insertInto('purge_edges')
          .values({
            purge_id: row.id,
            edge,
            state: 'pending',
            removed: 0,
            error: null,
            updated_at: at,
          })
          .execute();
      }
      await insertEvent(trx, at, { ...event, detail: { ...event.detail, purge: row.id, edges } });
      return row.id;
    });
    const stored = await this.getPurge(id);
    if (!stored) throw new StoreDataError(`purge ${id} vanished`);
    return stored;
  }

  async getPurge(id: number): Promise<StoredPurge | undefined> {
    const row = await this.db
      .selectFrom('purges')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const edges = await this.db
      .selectFrom('purge_edges')
      .select(['edge', 'state', 'removed', 'error', 'updated_at'])
      .where('purge_id', '=', id)
      .orderBy('edge')
      .execute();
    return {
      job: purgeJobOf(row.id, row.job),
      edges: edges.map((e) => ({ ...e, state: e.state as StoredPurge['edges'][number]['state'] })),
    };
  }

  async pendingPurges(edge: string): Promise<PurgeJob[]> {
    const rows = await this.db
      .selectFrom('purge_edges as e')
      .innerJoin('purges as p', 'p.id', 'e.purge_id')
      .select(['p.id', 'p.job'])
      .where('e.edge', '=', edge)
      .where('e.state', '=', 'pending')
      .orderBy('p.id')
      .execute();
    return rows.map((r) => purgeJobOf(r.id, r.job));
  }

  async recordPurgeResult(edge: string, result: PurgeResult): Promise<boolean> {
    const r = await this.db
      .updateTable('purge_edges')
      .set({
        state: result.ok ? 'done' : 'failed',
        removed: result.removed,
        error: result.error,
        updated_at: this.now().toISOString(),
      })
      .where('purge_id', '=', result.id)
      .where('edge', '=', edge)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    const updated_at = this.now().toISOString();
    await this.db
      .insertInto('settings')
      .values({ key, value, updated_at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at }))
      .execute();
  }

  async appendEvent(event: NewAuditEvent): Promise<void> {
    await insertEvent(this.db, this.now().toISOString(), event);
  }

  async listEvents(options: { limit?: number; beforeId?: number } = {}): Promise<AuditEvent[]> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    }
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .$if(options.beforeId !== undefined, (q) => q.where('id', '<', options.beforeId ?? 0))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detail: parseDetail(r.detail),
    }));
  }

  async listCertificates(): Promise<StoredCertificate[]> {
    const rows = await this.db
      .selectFrom('certificates')
      .select(CERTIFICATE_COLUMNS)
      .orderBy('domain')
      .execute();
    return rows.map(certificateOf);
  }

  async getCertificate(domain: string): Promise<StoredCertificate | undefined> {
    const row = await this.db
      .selectFrom('certificates')
      .select(CERTIFICATE_COLUMNS)
      .where('domain', '=', domain)
      .executeTakeFirst();
    return row === undefined ? undefined : certificateOf(row);
  }

  async certificateKey(domain: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('certificates')
      .select('key_pem')
      .where('domain', '=', domain)
      .executeTakeFirst();
    return row?.key_pem;
  }

  async saveCertificate(
    certificate: Omit<StoredCertificate, 'created_at'> & { key_pem: string },
    event: NewAuditEvent,
  ): Promise<StoredCertificate> {
    const at = this.now().toISOString();
    const row = { ...certificate, names: JSON.stringify(certificate.names), created_at: at };
    await this.write(async (trx) => {
      await trx
        .insertInto('certificates')
        .values(row)
        .onConflict((oc) => oc.column('domain').doUpdateSet(omit(row, 'domain')))
        .execute();
      await insertEvent(trx, at, event);
    });
    return { ...omit(certificate, 'key_pem'), created_at: at };
  }

  async deleteCertificate(domain: string, event: NewAuditEvent): Promise<boolean> {
    return this.write(async (trx) => {
      const r = await trx
        .deleteFrom('certificates')
        .where('domain', '=', domain)
        .executeTakeFirst();
      if (r.numDeletedRows === 0n) return false;
      await trx.deleteFrom('certificate_renewals').where('domain', '=', domain).execute();
      await insertEvent(trx, this.now().toISOString(), event);
      return true;
    });
  }

  async listCertificateRenewals(): Promise<CertificateRenewal[]> {
    return this.db
      .selectFrom('certificate_renewals')
      .select(['domain', 'failures', 'last_attempt_at', 'last_error', 'next_attempt_at'])
      .orderBy('domain')
      .execute();
  }

  async saveCertificateRenewal(renewal: CertificateRenewal): Promise<void> {
    const row = { ...renewal, updated_at: this.now().toISOString() };
    await this.db
      .insertInto('certificate_renewals')
      .values(row)
      .onConflict((oc) => oc.column('domain').doUpdateSet(omit(row, 'domain')))
      .execute();
  }

  async putAcmeChallenge(challenge: AcmeChallenge): Promise<void> {
    await this.db
      .insertInto('acme_challenges')
      .values(challenge)
      .onConflict((oc) => oc.column('token').doUpdateSet(omit(challenge, 'token')))
      .execute();
  }

  async getAcmeChallenge(token: string, now: Date): Promise<AcmeChallenge | undefined> {
    return this.db
      .selectFrom('acme_challenges')
      .selectAll()
      .where('token', '=', token)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
  }

  async deleteAcmeChallenge(token: string, now: Date): Promise<void> {
    await this.db
      .deleteFrom('acme_challenges')
      .where((eb) => eb.or([eb('token', '=', token), eb('expires_at', '<=', now.toISOString())]))
      .execute();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  /**
   * Runs `fn` in a transaction that holds the write lock from its first statement, so the
   * revision it reads cannot change before it commits. SQLite: BEGIN IMMEDIATE (a deferred
   * transaction that reads, then writes fails with SQLITE_BUSY when another connection wrote
   * meanwhile, without waiting on busy_timeout). PostgreSQL will take `SELECT … FOR UPDATE` on
   * the state row instead.
   */
  private async write<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.options.flavor !== 'sqlite') {
      throw new Error(`writes are not implemented for ${this.options.flavor}`);
    }
    return this.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        try {
          await sql`rollback`.execute(conn);
        } catch {
          // No transaction left to roll back (SQLite already did); the first error matters.
        }
        throw error;
      }
    });
  }
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

/** Every column of `certificates` but the private key. */
const CERTIFICATE_COLUMNS = [
  'domain',
  'source',
  'names',
  'chain_pem',
  'issuer',
  'serial',
  'not_before',
  'not_after',
  'created_at',
] as const;

function certificateOf(
  row: Pick<CertificateTable, (typeof CERTIFICATE_COLUMNS)[number]>,
): StoredCertificate {
  if (row.source !== 'acme' && row.source !== 'upload')
    throw new StoreDataError(
      `the stored certificate of "${row.domain}" has source "${row.source}", not acme or upload`,
    );
  let names: unknown;
  try {
    names = JSON.parse(row.names);
  } catch (cause) {
    throw new StoreDataError(`the stored names of certificate "${row.domain}" are not JSON`, {
      cause,
    });
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    throw new StoreDataError(
      `the stored names of certificate "${row.domain}" are not a list of strings`,
    );
  return { ...row, source: row.source, names };
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
  return {
    revision: state.revision,
    edges: edges.map((r) => ({ ...r, spec: parseStored(Edge, r.spec, `edge "${r.name}"`) })),
    sites: sites.map((r) => ({ ...r, spec: parseStored(Site, r.spec, `site "${r.domain}"`) })),
    dns: dns === undefined ? undefined : parseStored(DnsSettings, dns, 'dns settings'),
    acme: acme === undefined ? undefined : parseStored(AcmeSettings, acme, 'acme settings'),
  };
}

function specOf(rows: StoredRows): Spec {
  const spec: Spec = { edges: rows.edges.map((r) => r.spec), sites: rows.sites.map((r) => r.spec) };
  if (rows.dns !== undefined) spec.dns = rows.dns;
  if (rows.acme !== undefined) spec.acme = rows.acme;
  return spec;
}

function parseStored<T extends z.ZodTypeAny>(schema: T, text: string, what: string): z.output<T> {
  return checkStored(schema, parseJson(text, what), what);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new StoreDataError(`the stored ${what} is not valid JSON`, { cause });
  }
}

function checkStored<T extends z.ZodTypeAny>(schema: T, json: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    throw new StoreDataError(
      `the stored ${what} does not match its schema${where}: ${first?.message ?? 'invalid'}`,
      { cause: parsed.error },
    );
  }
  return parsed.data as z.output<T>;
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
  key: 'dns' | 'acme',
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

async function insertEvent(db: Db, at: string, event: NewAuditEvent): Promise<void> {
  await db
    .insertInto('events')
    .values({
      at,
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      detail: JSON.stringify(event.detail ?? {}),
    })
    .execute();
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : { value: v };
  } catch {
    return {};
  }
}

/** The row holds the job without its id (the row's key); errors name the purge and the field. */
function purgeJobOf(id: number, text: string): PurgeJob {
  const what = `purge ${id}`;
  const job = parseJson(text, what);
  if (job === null || typeof job !== 'object' || Array.isArray(job))
    throw new StoreDataError(`the stored ${what} is not a JSON object`);
  return checkStored(PurgeJob, { ...job, id }, what);
}
