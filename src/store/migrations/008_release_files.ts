// The contents of release files by SHA-256 (issue 14): a release is a signed manifest of file
// hashes (bundles.body), each content stored once however many releases and edges share it.
import type { Migration } from 'kysely';
import type { AnyDb, SqlFlavor } from './dialect.js';

export function releaseFiles(flavor: SqlFlavor): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('release_files')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('content', flavor === 'sqlite' ? 'blob' : 'bytea', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('release_files').execute();
    },
  };
}
