// Purge jobs and, per edge that must run one, its state. An edge that was away runs its
// pending jobs when it comes back.
import type { Migration } from 'kysely';
import { autoIncrementId, type AnyDb, type SqlFlavor } from './dialect.js';

export function purges(flavor: SqlFlavor): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('purges')
        .addColumn('id', 'integer', autoIncrementId(flavor))
        .addColumn('site', 'text', (c) => c.notNull())
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('purge_edges')
        .addColumn('purge_id', 'integer', (c) => c.notNull())
        .addColumn('edge', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('removed', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('purge_edges_pk', ['purge_id', 'edge'])
        .execute();
      await db.schema
        .createIndex('purge_edges_pending')
        .on('purge_edges')
        .columns(['edge', 'state'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('purge_edges').execute();
      await db.schema.dropTable('purges').execute();
    },
  };
}
