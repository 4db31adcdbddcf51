// Notification channels and the alerts the notifier tracks (src/notify/ decides what to send).
// A channel's secret (signing secret, webhook URL, bot token, SMTP password) is sealed at rest
// like every other secret (store/secret-box.ts) and re-sealed by `secrets rotate-key`.
import { AlertKind, ChannelSettings, Severity, TrackedAlert } from '../spec/index.js';
import type { Connection } from './connection.js';
import { StoreDataError } from './errors.js';
import type { NotificationChannelTable } from './schema.js';
import { insertEvent } from './settings.js';
import type { NewAuditEvent, NotificationQueries, StoredChannel } from './types.js';

export function notificationQueries(c: Connection): NotificationQueries {
  return {
    async createChannel(channel, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const taken = await trx
          .selectFrom('notification_channels')
          .select('name')
          .where('name', '=', channel.name)
          .executeTakeFirst();
        if (taken) return false;
        const at = c.now().toISOString();
        const row: NotificationChannelTable = {
          name: channel.name,
          type: channel.settings.type,
          settings: JSON.stringify(channel.settings),
          secret: channel.secret === null ? null : c.secrets.seal(channel.secret),
          kinds: JSON.stringify(channel.kinds),
          min_severity: channel.min_severity,
          created_at: at,
          last_sent_at: null,
          last_error: null,
        };
        await trx.insertInto('notification_channels').values(row).execute();
        await insertEvent(trx, at, event);
        return true;
      });
    },

    async listChannels(): Promise<StoredChannel[]> {
      const rows = await c.db
        .selectFrom('notification_channels')
        .selectAll()
        .orderBy('name')
        .execute();
      return rows.map((r) => channelOf(r, null));
    },

    async getChannel(name: string): Promise<StoredChannel | undefined> {
      const row = await c.db
        .selectFrom('notification_channels')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return channelOf(row, row.secret === null ? null : c.secrets.open(row.secret));
    },

    async deleteChannel(name: string, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const r = await trx
          .deleteFrom('notification_channels')
          .where('name', '=', name)
          .executeTakeFirst();
        if (r.numDeletedRows === 0n) return false;
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },

    async recordDelivery(name: string, at: string, error: string | null): Promise<void> {
      await c.db
        .updateTable('notification_channels')
        .set(error === null ? { last_sent_at: at, last_error: null } : { last_error: error })
        .where('name', '=', name)
        .execute();
    },

    async listTrackedAlerts(): Promise<TrackedAlert[]> {
      const rows = await c.db.selectFrom('tracked_alerts').selectAll().orderBy('id').execute();
      return rows.map((r) => parseJson(TrackedAlert, r.alert, `tracked alert "${r.id}"`));
    },

    async saveTrackedAlerts(alerts: readonly TrackedAlert[]): Promise<void> {
      await c.transaction(async (trx) => {
        await trx.deleteFrom('tracked_alerts').execute();
        if (alerts.length > 0)
          await trx
            .insertInto('tracked_alerts')
            .values(alerts.map((a) => ({ id: a.id, alert: JSON.stringify(a) })))
            .execute();
      });
    },
  };
}

function channelOf(row: NotificationChannelTable, secret: string | null): StoredChannel {
  const what = `notification channel "${row.name}"`;
  return {
    name: row.name,
    settings: parseJson(ChannelSettings, row.settings, what),
    secret,
    has_secret: row.secret !== null,
    kinds: parseJson(AlertKind.array(), row.kinds, what),
    min_severity: parseJson(Severity, JSON.stringify(row.min_severity), what),
    created_at: row.created_at,
    last_sent_at: row.last_sent_at,
    last_error: row.last_error,
  };
}

function parseJson<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  text: string,
  what: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StoreDataError(`the stored ${what} is not JSON`, { cause });
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new StoreDataError(`the stored ${what} does not match its shape`);
  return r.data;
}
