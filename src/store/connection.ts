// One database connection (a Kysely over SQLite or a PostgreSQL pool), its clock, and
// `transaction()`: the only way the store's queries write more than one row.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { SqlFlavor } from './migrations/index.js';
import type { Database } from './schema.js';
import { SecretBox } from './secret-box.js';

export interface ConnectionOptions {
  /** The clock for timestamps; tests may fix it. */
  now?: () => Date;
  /** Seals the secrets at rest (keys); absent: a throwaway key (an in-memory store's tests). */
  secrets?: SecretBox;
  /** The SQL dialect behind `db` (default sqlite). */
  flavor?: SqlFlavor;
}

/**
 * The PostgreSQL advisory lock every write transaction takes first (a constant: "OUTP").
 * Writes are serialized across every control plane on the database, as SQLite's single writer
 * does on one file, so a transaction's reads (the revision) cannot change before it commits.
 */
export const WRITE_LOCK_KEY = 0x4f555450;

export class Connection {
  readonly now: () => Date;
  readonly flavor: SqlFlavor;
  /** Replaced by a key rotation. */
  secrets: SecretBox;
  private closed = false;

  constructor(
    readonly db: Kysely<Database>,
    options: ConnectionOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.flavor = options.flavor ?? 'sqlite';
    this.secrets = options.secrets ?? new SecretBox(randomBytes(32));
  }

  /**
   * Runs `fn` in a transaction that holds the write lock from its first statement, so what it
   * reads (the revision) cannot change before it commits. SQLite: BEGIN IMMEDIATE (a deferred
   * transaction that reads, then writes fails with SQLITE_BUSY when another connection wrote
   * meanwhile, without waiting on busy_timeout). PostgreSQL: the write advisory lock
   * (WRITE_LOCK_KEY) as the first statement, released at commit or rollback.
   */
  async transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.flavor === 'postgres') {
      return this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx);
        return fn(trx);
      });
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

  /**
   * Runs reads that must see one snapshot (SQLite: any transaction; PostgreSQL: REPEATABLE
   * READ, whose statements all see the database as of the first one).
   */
  async readTransaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    const trx = this.db.transaction();
    return (this.flavor === 'postgres' ? trx.setIsolationLevel('repeatable read') : trx).execute(
      fn,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}
