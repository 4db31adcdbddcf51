// Small named values of the control plane (admin token hash, signing key, …) and the audit log.
import type { Kysely, Transaction } from 'kysely';
import type { Connection } from './connection.js';
import type { Database } from './schema.js';
import type { SecretBox } from './secret-box.js';
import type { AuditEvent, NewAuditEvent, SecretQueries, SettingsQueries } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Settings that hold key material: sealed at rest (store/secret-box.ts). */
export const SECRET_SETTINGS: readonly string[] = ['bundle_signing_key', 'acme.account'];

export function settingsQueries(c: Connection): SettingsQueries & SecretQueries {
  return {
    async getSetting(key: string): Promise<string | undefined> {
      const row = await c.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return SECRET_SETTINGS.includes(key) ? c.secrets.open(row.value) : row.value;
    },

    async setSetting(key: string, plain: string): Promise<void> {
      const value = SECRET_SETTINGS.includes(key) ? c.secrets.seal(plain) : plain;
      const updated_at = c.now().toISOString();
      await c.db
        .insertInto('settings')
        .values({ key, value, updated_at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at }))
        .execute();
    },

    async rotateSecrets(next: SecretBox, event: NewAuditEvent): Promise<number> {
      const count = await c.transaction(async (trx) => {
        let n = 0;
        const at = c.now().toISOString();
        const settings = await trx
          .selectFrom('settings')
          .select(['key', 'value'])
          .where('key', 'in', [...SECRET_SETTINGS])
          .execute();
        for (const row of settings) {
          const value = next.seal(c.secrets.open(row.value));
          await trx.updateTable('settings').set({ value }).where('key', '=', row.key).execute();
          n++;
        }
        const certs = await trx.selectFrom('certificates').select(['domain', 'key_pem']).execute();
        for (const row of certs) {
          const key_pem = next.seal(c.secrets.open(row.key_pem));
          await trx
            .updateTable('certificates')
            .set({ key_pem })
            .where('domain', '=', row.domain)
            .execute();
          n++;
        }
        const channels = await trx
          .selectFrom('notification_channels')
          .select(['name', 'secret'])
          .where('secret', 'is not', null)
          .execute();
        for (const row of channels) {
          if (row.secret === null) continue;
          const secret = next.seal(c.secrets.open(row.secret));
          await trx
            .updateTable('notification_channels')
            .set({ secret })
            .where('name', '=', row.name)
            .execute();
          n++;
        }
        await insertEvent(trx, at, {
          ...event,
          detail: { ...event.detail, secrets: n, key: next.currentId },
        });
        return n;
      });
      c.secrets = next;
      return count;
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
