// The Store: one query group per capability (store/<capability>.ts) over one connection. The
// SQL stays in store/ so a second dialect (PostgreSQL) is checked by one contract suite
// (store.contract.test.ts); capabilities ask for the group they need (docs/architecture.md).
import type { Kysely } from 'kysely';
import { accessQueries } from './access.js';
import { bundleQueries } from './bundles.js';
import { certificateQueries } from './certs.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { edgeQueries } from './edges.js';
import { notificationQueries } from './notifications.js';
import { historyQueries } from './history.js';
import { logAnswerQueries, probeQueries } from './probes.js';
import { purgeQueries } from './purges.js';
import type { Database } from './schema.js';
import { settingsQueries } from './settings.js';
import { stateQueries } from './state.js';
import type { Store } from './types.js';

export type { ChangeSummary } from './state.js';

/** The Store over a migrated database. */
export function composeStore(db: Kysely<Database>, options: ConnectionOptions = {}): Store {
  const c = new Connection(db, options);
  return {
    ...stateQueries(c),
    ...edgeQueries(c),
    ...bundleQueries(c),
    ...purgeQueries(c),
    ...settingsQueries(c),
    ...certificateQueries(c),
    ...accessQueries(c),
    ...notificationQueries(c),
    ...historyQueries(c),
    ...probeQueries(c),
    ...logAnswerQueries(c),
    close: () => c.close(),
  };
}
