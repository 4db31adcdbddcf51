// Bearer tokens: 256 random bits, shown once, stored only as a SHA-256 hash. A hash of a
// 256-bit random value needs no salt or slow KDF: it cannot be guessed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'admin' | 'edge' | 'api' | 'session';
const PREFIX: Record<TokenKind, string> = {
  admin: 'opa_',
  edge: 'ope_',
  api: 'opt_',
  session: 'ops_',
};

export function newToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The token in an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}
