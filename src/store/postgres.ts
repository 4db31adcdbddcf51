// Opens the PostgreSQL store: a pool (npm `pg`) under Kysely's PostgresDialect, the same
// migrations as SQLite in their PostgreSQL flavor (migrations/dialect.ts), the same query
// groups. Several control planes may open one database at once: Kysely's migrator takes a
// row lock on its lock table, so only one of them migrates.
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { OutpostError } from '../http/errors.js';
import type { ConnectionOptions } from './connection.js';
import { StoreMigrationError } from './errors.js';
import { migrate } from './migrate.js';
import type { Database } from './schema.js';
import { postgresCoordination } from './coordination.js';
import { composeStore } from './store.js';
import type { Store } from './types.js';

/** Connections each control plane keeps (long-polls do not hold one: they wait in memory). */
const POOL_SIZE = 10;

// int8 (count(*), sums) as numbers, as SQLite gives them; the store keeps no value above 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** A new pool for `url` (`postgres://user@host:port/db`); the URL is never logged. */
export function postgresPool(url: string, max = POOL_SIZE): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client whose server went away emits 'error' on the pool; without a listener that
  // would end the process. The next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The pool as Kysely takes it, a connection that cannot be made (the database is down or
 * unreachable) failing as OutpostError `unavailable` (HTTP 503, its sentence shown) rather
 * than an internal error, and a checked-out connection the server ends never an unhandled
 * 'error'; docs/high-availability.md "When PostgreSQL is down".
 */
function unreachableAsUnavailable(pool: pg.Pool): PostgresPool {
  const guarded = new WeakSet<pg.PoolClient>();
  return {
    connect: async () => {
      try {
        const client = await pool.connect();
        // The pool listens for errors of idle clients only: one checked out (between two
        // statements of a transaction) whose server ends the session ("terminating connection
        // due to administrator command") would emit 'error' with no listener and end the
        // process (seen in test/e2e/ha-postgres-down.test.ts). Its next query fails instead,
        // and the pool drops it when it is released.
        if (!guarded.has(client)) {
          guarded.add(client);
          client.on('error', () => undefined);
        }
        return client;
      } catch (err) {
        throw new OutpostError(
          'unavailable',
          `the database is unreachable (${(err as Error).message}); the edges keep serving their last releases`,
          { cause: err, expose: true },
        );
      }
    },
    end: () => pool.end(),
  };
}

export async function openPostgresStore(
  url: string,
  options: Omit<ConnectionOptions, 'flavor'> = {},
): Promise<Store> {
  const { db, pool } = await openPostgresDatabase(url);
  const store = composeStore(db, { ...options, flavor: 'postgres' });
  const coordination = postgresCoordination(url, pool);
  return {
    ...store,
    coordination,
    close: async () => {
      await coordination.close();
      await store.close();
    },
  };
}

/** The migrated database under Kysely (the store's queries, or a raw copy) and its pool. */
export async function openPostgresDatabase(
  url: string,
  poolSize = POOL_SIZE,
): Promise<{ db: Kysely<Database>; pool: pg.Pool }> {
  const pool = postgresPool(url, poolSize);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: unreachableAsUnavailable(pool) }),
  });
  try {
    await migrate(db, 'postgres');
  } catch (error) {
    await db.destroy();
    if (error instanceof StoreMigrationError) throw error;
    // A connection refused, a wrong password, no such database: said without the URL.
    throw new StoreMigrationError(`cannot open the PostgreSQL store: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { db, pool };
}
