// Certificates (ACME-issued or uploaded) with their private keys, the renewal state of each
// site, and pending ACME HTTP-01 challenge answers. Keys are readable only through the store,
// whose SQLite file is mode 0600.
import type { Migration } from 'kysely';
import type { AnyDb } from './dialect.js';

export function certificates(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('certificates')
        .addColumn('domain', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('names', 'text', (c) => c.notNull())
        .addColumn('chain_pem', 'text', (c) => c.notNull())
        .addColumn('key_pem', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('serial', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('certificate_renewals')
        .addColumn('domain', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('acme_challenges')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('key_authorization', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      for (const table of ['acme_challenges', 'certificate_renewals', 'certificates']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
