// Release bundles built per edge, and what each edge last reported (heartbeats).
import type { Migration } from 'kysely';
import type { AnyDb } from './dialect.js';

export function bundlesAndEdgeStatus(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('bundles')
        .addColumn('edge', 'text', (c) => c.notNull())
        .addColumn('release', 'integer', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('content_key', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('bundles_pk', ['edge', 'release'])
        .execute();

      await db.schema
        .createTable('edge_status')
        .addColumn('edge', 'text', (c) => c.primaryKey())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('edge_status').execute();
      await db.schema.dropTable('bundles').execute();
    },
  };
}
