// The admin token: created at first start, printed once, stored hashed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { bearerToken, hashToken, newToken, sameHash } from './tokens.js';

const SETTING = 'admin_token_hash';

/** What admin auth needs of the store: its settings and the audit log. */
export interface AdminTokenStore {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  appendEvent(event: {
    actor: string;
    action: string;
    subject: string;
    detail: Record<string, unknown>;
  }): Promise<void>;
}

/** Creates the admin token if there is none; returns it only when it was just created. */
export async function ensureAdminToken(store: AdminTokenStore): Promise<string | undefined> {
  if (await store.getSetting(SETTING)) return undefined;
  return resetAdminToken(store);
}

/** Replaces the admin token (for an operator with access to the data dir). */
export async function resetAdminToken(store: AdminTokenStore): Promise<string> {
  const token = newToken('admin');
  await store.setSetting(SETTING, hashToken(token));
  await store.appendEvent({
    actor: 'system',
    action: 'admin.token.create',
    subject: '',
    detail: {},
  });
  return token;
}

/** Whether `token` is the admin token. */
export async function isAdminToken(
  store: Pick<AdminTokenStore, 'getSetting'>,
  token: string,
): Promise<boolean> {
  const expected = await store.getSetting(SETTING);
  return expected !== undefined && sameHash(hashToken(token), expected);
}

export function adminAuth(store: Pick<AdminTokenStore, 'getSetting'>) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(req.headers.authorization);
    const expected = await store.getSetting(SETTING);
    if (!token || !expected || !sameHash(hashToken(token), expected)) {
      throw new ApiError('unauthorized', 'missing or wrong admin token (Authorization: Bearer …)');
    }
  };
}
