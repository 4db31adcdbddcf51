// Brings a database up to the newest migration; run at every open.
import { Migrator, type Kysely } from 'kysely';
import { StoreMigrationError } from './errors.js';
import {
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  migrationProvider,
  type SqlFlavor,
} from './migrations/index.js';
import type { Database } from './schema.js';

/** Names of the migrations this call applied, in order (empty when already up to date). */
export async function migrate(db: Kysely<Database>, flavor: SqlFlavor): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(flavor),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : 'unknown error';
    throw new StoreMigrationError(
      failed
        ? `migration ${failed} failed: ${reason}`
        : `the database could not be migrated: ${reason}`,
      { cause: error },
    );
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
