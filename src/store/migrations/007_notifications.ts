// Notification channels (their secret sealed by store/secret-box.ts) and the alerts the
// notifier tracks, so a restart neither repeats a "firing" message nor forgets a "resolved".
import type { Migration } from 'kysely';
import type { AnyDb } from './dialect.js';

export function notifications(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('notification_channels')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('kinds', 'text', (c) => c.notNull())
        .addColumn('min_severity', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_sent_at', 'text')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createTable('tracked_alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('alert', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('tracked_alerts').execute();
      await db.schema.dropTable('notification_channels').execute();
    },
  };
}
