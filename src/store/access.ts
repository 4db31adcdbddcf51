// Named API tokens, UI sessions and users (src/access/ decides what they may do).
import type { Grant } from '../spec/index.js';
import type { Connection } from './connection.js';
import { StoreDataError } from './errors.js';
import type { ApiTokenTable, UserTable } from './schema.js';
import { insertEvent } from './settings.js';
import type { AccessQueries, NewAuditEvent, StoredApiToken, StoredUser } from './types.js';

export function accessQueries(c: Connection): AccessQueries {
  return {
    async createApiToken(token: StoredApiToken, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const taken = await trx
          .selectFrom('api_tokens')
          .select('name')
          .where('name', '=', token.name)
          .executeTakeFirst();
        if (taken) return false;
        await trx.insertInto('api_tokens').values(tokenRow(token)).execute();
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },

    async listApiTokens(kind: StoredApiToken['kind']): Promise<StoredApiToken[]> {
      const rows = await c.db
        .selectFrom('api_tokens')
        .selectAll()
        .where('kind', '=', kind)
        .orderBy('name')
        .execute();
      return rows.map(tokenOf);
    },

    async findApiToken(hash: string): Promise<StoredApiToken | undefined> {
      const row = await c.db
        .selectFrom('api_tokens')
        .selectAll()
        .where('hash', '=', hash)
        .executeTakeFirst();
      return row === undefined ? undefined : tokenOf(row);
    },

    async touchApiToken(name: string, at: string): Promise<void> {
      await c.db
        .updateTable('api_tokens')
        .set({ last_used_at: at })
        .where('name', '=', name)
        .execute();
    },

    async deleteApiToken(name: string, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const r = await trx.deleteFrom('api_tokens').where('name', '=', name).executeTakeFirst();
        if (r.numDeletedRows === 0n) return false;
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },

    async deleteExpiredSessions(now: string): Promise<void> {
      await c.db
        .deleteFrom('api_tokens')
        .where('kind', '=', 'session')
        .where('expires_at', '<=', now)
        .execute();
    },

    async putUser(user: StoredUser, event: NewAuditEvent, create: boolean): Promise<boolean> {
      return c.transaction(async (trx) => {
        const exists = await trx
          .selectFrom('users')
          .select('name')
          .where('name', '=', user.name)
          .executeTakeFirst();
        if (create === (exists !== undefined)) return false;
        const at = c.now().toISOString();
        const row: UserTable = {
          name: user.name,
          password_hash: user.password_hash,
          grant: JSON.stringify(user.grant),
          created_at: user.created_at,
          updated_at: at,
        };
        if (create) await trx.insertInto('users').values(row).execute();
        else {
          await trx
            .updateTable('users')
            .set({ password_hash: row.password_hash, updated_at: at })
            .where('name', '=', user.name)
            .execute();
          // A new password ends the user's open sessions.
          await trx.deleteFrom('api_tokens').where('user', '=', user.name).execute();
        }
        await insertEvent(trx, at, event);
        return true;
      });
    },

    async getUser(name: string): Promise<StoredUser | undefined> {
      const row = await c.db
        .selectFrom('users')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      return row === undefined ? undefined : userOf(row);
    },

    async listUsers(): Promise<StoredUser[]> {
      const rows = await c.db.selectFrom('users').selectAll().orderBy('name').execute();
      return rows.map(userOf);
    },

    async deleteUser(name: string, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const r = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst();
        if (r.numDeletedRows === 0n) return false;
        await trx.deleteFrom('api_tokens').where('user', '=', name).execute();
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },
  };
}

function tokenRow(t: StoredApiToken): ApiTokenTable {
  return {
    name: t.name,
    hash: t.hash,
    kind: t.kind,
    user: t.user,
    grant: JSON.stringify(t.grant),
    created_at: t.created_at,
    expires_at: t.expires_at,
    last_used_at: t.last_used_at,
  };
}

function tokenOf(row: ApiTokenTable): StoredApiToken {
  if (row.kind !== 'token' && row.kind !== 'session')
    throw new StoreDataError(`the stored token "${row.name}" has kind "${row.kind}"`);
  return {
    name: row.name,
    hash: row.hash,
    kind: row.kind,
    user: row.user,
    grant: grantOf(row.grant, `token "${row.name}"`),
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
  };
}

function userOf(row: UserTable): StoredUser {
  return {
    name: row.name,
    password_hash: row.password_hash,
    grant: grantOf(row.grant, `user "${row.name}"`),
    created_at: row.created_at,
  };
}

function grantOf(text: string, what: string): Grant {
  try {
    const v = JSON.parse(text) as Grant;
    if (Array.isArray(v.scopes) && Array.isArray(v.sites) && Array.isArray(v.tags)) return v;
  } catch (cause) {
    throw new StoreDataError(`the stored grant of ${what} is not JSON`, { cause });
  }
  throw new StoreDataError(`the stored grant of ${what} lacks scopes, sites or tags`);
}
