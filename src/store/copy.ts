// `outpost store migrate`: every table of one store copied into an empty other (SQLite to
// PostgreSQL, or back), in one transaction on the target, verified before it commits by the
// row count and a checksum of every table on both sides. Rows are copied as stored: the sealed
// secrets stay sealed, so the target needs the same secret key file.
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { parseStoreUrl } from './index.js';
import { StoreDataError } from './errors.js';
import { openPostgresDatabase } from './postgres.js';
import type { Database } from './schema.js';
import { openSqliteDatabase } from './sqlite.js';

/** Every table, parents first. */
export const STORE_TABLES = [
  'state',
  'edges',
  'sites',
  'blocks',
  'settings',
  'events',
  'bundles',
  'edge_status',
  'certificates',
  'certificate_renewals',
  'acme_challenges',
  'purges',
  'purge_edges',
  'api_tokens',
  'users',
] as const satisfies readonly (keyof Database)[];

/** Tables whose `id` the database numbers itself (PostgreSQL identities to move on). */
const IDENTITY_TABLES = ['events', 'purges'] as const;
const BATCH = 200;

export interface TableCheck {
  table: string;
  rows: number;
  /** SHA-256 of the table's rows (sorted canonical JSON lines), on the source. */
  checksum: string;
}

type AnyDb = Kysely<Database>;

async function openDatabase(url: string): Promise<{ db: AnyDb; flavor: 'sqlite' | 'postgres' }> {
  const location = parseStoreUrl(url);
  if (location.kind === 'postgres') {
    return { db: (await openPostgresDatabase(location.url)).db, flavor: 'postgres' };
  }
  return { db: await openSqliteDatabase(location.path), flavor: 'sqlite' };
}

async function rowsOf(db: AnyDb, table: keyof Database): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = await db.selectFrom(table).selectAll().execute();
  return rows;
}

/** Row count and checksum; rows as canonical JSON (keys sorted), lines sorted. */
export function checksumOf(rows: Record<string, unknown>[]): string {
  const lines = rows
    .map((r) =>
      JSON.stringify(
        Object.fromEntries(
          Object.keys(r)
            .sort()
            .map((k) => [k, r[k] ?? null]),
        ),
      ),
    )
    .sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return hash.digest('hex');
}

/**
 * Copies the store at `from` into the store at `to`, which must be empty (a fresh database:
 * revision 0, no rows). Returns what was checked; throws without committing on a mismatch.
 */
export async function copyStore(from: string, to: string): Promise<TableCheck[]> {
  const source = await openDatabase(from);
  try {
    const target = await openDatabase(to);
    try {
      const read = source.db.transaction();
      const snapshot = await (
        source.flavor === 'postgres' ? read.setIsolationLevel('repeatable read') : read
      ).execute(async (trx) => {
        const out = new Map<string, Record<string, unknown>[]>();
        for (const table of STORE_TABLES) out.set(table, await rowsOf(trx, table));
        return out;
      });
      return await target.db.transaction().execute(async (trx) => {
        for (const table of STORE_TABLES) {
          const present = await rowsOf(trx, table);
          const fresh =
            table === 'state'
              ? present.length === 1 && present[0]?.revision === 0
              : present.length === 0;
          if (!fresh)
            throw new StoreDataError(
              `the target store is not empty (table ${table} has rows): migrate into a new database`,
            );
        }
        await trx.deleteFrom('state').execute();
        const checks: TableCheck[] = [];
        for (const table of STORE_TABLES) {
          const rows = snapshot.get(table) ?? [];
          for (let i = 0; i < rows.length; i += BATCH) {
            await trx
              .insertInto(table)
              .values(rows.slice(i, i + BATCH))
              .execute();
          }
          const copied = await rowsOf(trx, table);
          const checksum = checksumOf(rows);
          if (copied.length !== rows.length || checksumOf(copied) !== checksum)
            throw new StoreDataError(
              `table ${table} does not match after the copy (${rows.length} rows in the source, ${copied.length} in the target, checksums ${checksum.slice(0, 12)} / ${checksumOf(copied).slice(0, 12)}): nothing was committed`,
            );
          checks.push({ table, rows: rows.length, checksum });
        }
        if (target.flavor === 'postgres')
          for (const table of IDENTITY_TABLES)
            await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
              trx,
            );
        return checks;
      });
    } finally {
      await target.db.destroy();
    }
  } finally {
    await source.db.destroy();
  }
}
