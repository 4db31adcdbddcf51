// The admin token: created at first start, printed once, stored hashed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/types.js';
import { ApiError } from './errors.js';
import { bearerToken, hashToken, newToken, sameHash } from './tokens.js';

const SETTING = 'admin_token_hash';

/** Creates the admin token if there is none; returns it only when it was just created. */
export async function ensureAdminToken(store: Store): Promise<string | undefined> {
  if (await store.getSetting(SETTING)) return undefined;
  return resetAdminToken(store);
}

/** Replaces the admin token (for an operator with access to the data dir). */
export async function resetAdminToken(store: Store): Promise<string> {
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

export function adminAuth(store: Store) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerToken(req.headers.authorization);
    const expected = await store.getSetting(SETTING);
    if (!token || !expected || !sameHash(hashToken(token), expected)) {
      throw new ApiError('unauthorized', 'missing or wrong admin token (Authorization: Bearer …)');
    }
  };
}
