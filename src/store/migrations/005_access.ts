// Named API tokens (and the UI's session tokens), users, and where an audited request came
// from. Token values and passwords are never stored: a SHA-256 of the token, an scrypt hash
// of the password.
import type { Migration } from 'kysely';
import type { AnyDb } from './dialect.js';

export function access(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('api_tokens')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('user', 'text')
        .addColumn('grant', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('grant', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('events').addColumn('address', 'text').execute();
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('events').dropColumn('address').execute();
      await db.schema.dropTable('users').execute();
      await db.schema.dropTable('api_tokens').execute();
    },
  };
}
