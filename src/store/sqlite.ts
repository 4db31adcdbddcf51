// Opens the SQLite store: the file (mode 0600, it holds token hashes and later keys), the
// pragmas, the migrations.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';
import type { ConnectionOptions } from './connection.js';
import { composeStore } from './store.js';
import type { Store } from './types.js';

/** How long a write waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/** `location` is an absolute file path or `:memory:`. */
export async function openSqliteStore(
  location: string,
  options: ConnectionOptions = {},
): Promise<Store> {
  if (location !== ':memory:') prepareFile(location);
  const sqlite = new BetterSqlite3(location);
  let db: Kysely<Database> | undefined;
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('synchronous = NORMAL');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrate(db, 'sqlite');
    return composeStore(db, options);
  } catch (error) {
    if (db) await db.destroy();
    else sqlite.close();
    throw error;
  }
}

/**
 * Creates the parent directory (0700 when new) and the file with mode 0600, and tightens an
 * existing one. SQLite gives its -wal and -shm files the mode of the database file.
 */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}
