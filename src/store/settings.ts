// Small named values of the control plane (admin token hash, signing key, …) and the audit log.
import type { Kysely, Transaction } from 'kysely';
import type { Connection } from './connection.js';
import type { Database } from './schema.js';
import type { AuditEvent, NewAuditEvent, SettingsQueries } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

export function settingsQueries(c: Connection): SettingsQueries {
  return {
    async getSetting(key: string): Promise<string | undefined> {
      const row = await c.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirst();
      return row?.value;
    },

    async setSetting(key: string, value: string): Promise<void> {
      const updated_at = c.now().toISOString();
      await c.db
        .insertInto('settings')
        .values({ key, value, updated_at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at }))
        .execute();
    },

    async appendEvent(event: NewAuditEvent): Promise<void> {
      await insertEvent(c.db, c.now().toISOString(), event);
    },

    async listEvents(options: { limit?: number; beforeId?: number } = {}): Promise<AuditEvent[]> {
      const limit = options.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1) {
        throw new RangeError(`limit must be a positive integer, not ${limit}`);
      }
      const rows = await c.db
        .selectFrom('events')
        .selectAll()
        .$if(options.beforeId !== undefined, (q) => q.where('id', '<', options.beforeId ?? 0))
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        detail: parseDetail(r.detail),
        address: r.address,
      }));
    },
  };
}

export async function insertEvent(db: Db, at: string, event: NewAuditEvent): Promise<void> {
  await db
    .insertInto('events')
    .values({
      at,
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      detail: JSON.stringify(event.detail ?? {}),
      address: event.address ?? null,
    })
    .execute();
}

export function parseDetail(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : { value: v };
  } catch {
    return {};
  }
}
