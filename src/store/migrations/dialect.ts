// The few things migrations write differently per SQL dialect. Everything else goes through
// Kysely's schema builder with portable types (text, integer).
import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

export type SqlFlavor = 'sqlite' | 'postgres';

/** An integer primary key the database numbers itself. */
export function autoIncrementId(flavor: SqlFlavor) {
  return (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    flavor === 'sqlite'
      ? col.primaryKey().autoIncrement()
      : col.primaryKey().generatedByDefaultAsIdentity();
}

/**
 * Migrations see the database as it was when they were written, not as schema.ts describes it
 * now, so they use an untyped handle.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
