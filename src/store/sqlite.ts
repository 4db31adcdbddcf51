// Opens the SQLite store: the file (mode 0600, it holds token hashes and later keys), the
// pragmas, the migrations.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { StoreFileError } from './errors.js';
import { migrate } from './migrate.js';
import { MIGRATION_TABLE } from './migrations/index.js';
import type { Database } from './schema.js';
import type { ConnectionOptions } from './connection.js';
import { composeStore } from './store.js';
import type { Store } from './types.js';

/** How long a write waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/** How many prepared statements a connection keeps (distinct SQL texts; IN lists vary). */
const PREPARED_STATEMENTS = 500;

/** `location` is an absolute file path or `:memory:`. */
export async function openSqliteStore(
  location: string,
  options: ConnectionOptions = {},
): Promise<Store> {
  return composeStore(await openSqliteDatabase(location), options);
}

/** The checked, migrated database under Kysely (the store's queries, or a raw copy). */
export async function openSqliteDatabase(location: string): Promise<Kysely<Database>> {
  const existed = location !== ':memory:' && prepareFile(location);
  const sqlite = new BetterSqlite3(location);
  let db: Kysely<Database> | undefined;
  try {
    if (existed) checkExisting(sqlite, location);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: preparedOnce(sqlite, PREPARED_STATEMENTS) }),
    });
    await migrate(db, 'sqlite');
    return db;
  } catch (error) {
    if (db) await db.destroy();
    else sqlite.close();
    throw error;
  }
}

/**
 * The database as Kysely's dialect uses it, each SQL text prepared once (issue 14): Kysely
 * prepares every query anew, ~2.2 s of the request thread's 43 s in three rounds of 1,000
 * edges polling (docs/benchmarks.md, "Where the time went at 1,000 edges"). Safe because the
 * dialect runs one query at a time on its one connection and never leaves a statement
 * iterating (`all`/`run` finish before it returns; nothing here streams). The least recently
 * used statement is dropped beyond `limit`.
 */
export function preparedOnce(sqlite: BetterSqlite3.Database, limit: number): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => void sqlite.close(),
    prepare(sql: string) {
      let statement = kept.get(sql);
      if (statement !== undefined) kept.delete(sql);
      else statement = sqlite.prepare(sql);
      kept.set(sql, statement);
      if (kept.size > limit) kept.delete(kept.keys().next().value as string);
      return statement;
    },
  };
}

/**
 * Creates the parent directory (0700 when new) and the file with mode 0600, and tightens an
 * existing one. SQLite gives its -wal and -shm files the mode of the database file. Refuses a
 * zero-length file: SQLite writes its header when the store switches to WAL, so an empty file
 * is a truncated store (a full disk, a bad copy), never one of ours. Returns whether it existed.
 */
function prepareFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const existed = existsSync(path);
  if (existed && statSync(path).size === 0) throw new StoreFileError(path, 'is empty (0 bytes)');
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
  return existed;
}

/**
 * An existing file must be a sound SQLite database (quick_check: pages, indexes, records) that
 * Outpost migrated before; otherwise migrations would build a brand-new CDN inside it.
 */
export function checkExisting(sqlite: BetterSqlite3.Database, path: string): void {
  let problems: string[];
  try {
    problems = (sqlite.pragma('quick_check') as { quick_check: string }[]).map(
      (r) => r.quick_check,
    );
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new StoreFileError(path, `is damaged or not a database (${code})`, { cause });
    throw cause;
  }
  if (problems.length !== 1 || problems[0] !== 'ok')
    throw new StoreFileError(path, `is damaged (quick_check: ${problems.slice(0, 3).join('; ')})`);
  const ours = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(MIGRATION_TABLE);
  const tables = sqlite
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
    .get() as {
    n: number;
  };
  if (ours === undefined && tables.n > 0)
    throw new StoreFileError(path, 'is a SQLite database, but not an Outpost store');
}
