// One database connection (a Kysely over SQLite today), its clock, and `transaction()`: the
// only way the store's queries write more than one row.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { SecretBox } from './secret-box.js';

export interface ConnectionOptions {
  /** The clock for timestamps; tests may fix it. */
  now?: () => Date;
  /** Seals the secrets at rest (keys); absent: a throwaway key (an in-memory store's tests). */
  secrets?: SecretBox;
}

export class Connection {
  readonly now: () => Date;
  /** Replaced by a key rotation. */
  secrets: SecretBox;
  private closed = false;

  constructor(
    readonly db: Kysely<Database>,
    options: ConnectionOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.secrets = options.secrets ?? new SecretBox(randomBytes(32));
  }

  /**
   * Runs `fn` in a transaction that holds the write lock from its first statement, so what it
   * reads (the revision) cannot change before it commits. SQLite: BEGIN IMMEDIATE (a deferred
   * transaction that reads, then writes fails with SQLITE_BUSY when another connection wrote
   * meanwhile, without waiting on busy_timeout). A PostgreSQL dialect will take
   * `SELECT … FOR UPDATE` on the state row instead, here.
   */
  async transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}
