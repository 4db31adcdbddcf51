// Health probes from every control plane on one database (issue 19, docs/high-availability.md):
// each control plane writes its own view of each probe target and a heartbeat that says how
// long that view counts; every control plane merges the fresh views (health/shared-health.ts).
// - probe_observers: one row per running control plane (its random instance id), with
//   `fresh_until` (ISO time): after it, its observations are ignored (a control plane killed
//   with -9 stops counting by itself). Rows long past it are deleted by the others.
// - probe_observations: per (instance, target) the state with hysteresis that control plane
//   holds ('up' | 'down'), its reason and since when. Written when they change, not per probe.
// - log_answers: the lines of a log request (docs/logs.md) that an edge gave to another control
//   plane than the one asked, passed on through here: read and deleted by the asking one at
//   once, rows older than a minute deleted by every write. Short-lived by design.
import type { Migration } from 'kysely';
import type { AnyDb } from './dialect.js';

export function probeObservations(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('probe_observers')
        .addColumn('instance', 'text', (c) => c.primaryKey())
        .addColumn('observed_at', 'text', (c) => c.notNull())
        .addColumn('fresh_until', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('probe_observations')
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('since', 'text')
        .addPrimaryKeyConstraint('probe_observations_pk', ['instance', 'target'])
        .execute();
      await db.schema
        .createTable('log_answers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('edge', 'text', (c) => c.notNull())
        .addColumn('answer', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('log_answers').execute();
      await db.schema.dropTable('probe_observations').execute();
      await db.schema.dropTable('probe_observers').execute();
    },
  };
}
