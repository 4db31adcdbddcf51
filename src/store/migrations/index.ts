// Every migration, by name. Names sort in the order they run: add `00N_what.ts` and a line
// here; never edit or rename one that has shipped.
import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './001_initial.js';
import { bundlesAndEdgeStatus } from './002_bundles_and_edge_status.js';
import { certificates } from './003_certificates.js';
import { purges } from './004_purges.js';
import { access } from './005_access.js';
import { history } from './006_history.js';
import { notifications } from './007_notifications.js';
import { releaseFiles } from './008_release_files.js';
import { probeObservations } from './009_probe_observations.js';
import type { SqlFlavor } from './dialect.js';

export type { SqlFlavor } from './dialect.js';

export function migrations(flavor: SqlFlavor): Record<string, Migration> {
  return {
    '001_initial': initial(flavor),
    '002_bundles_and_edge_status': bundlesAndEdgeStatus(),
    '003_certificates': certificates(),
    '004_purges': purges(flavor),
    '005_access': access(),
    '006_history': history(flavor),
    '007_notifications': notifications(),
    '008_release_files': releaseFiles(flavor),
    '009_probe_observations': probeObservations(),
  };
}

export function migrationProvider(flavor: SqlFlavor): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(flavor)) };
}

/** Kysely's bookkeeping tables, named for this product. */
export const MIGRATION_TABLE = 'outpost_migration';
export const MIGRATION_LOCK_TABLE = 'outpost_migration_lock';
