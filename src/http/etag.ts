// Validators of the admin answers made once per state (GET /v1/sites, GET /v1/state): an
// `ETag` from the revision and the answer's bytes, and the If-None-Match check for a 304.
import { createHash } from 'node:crypto';

/**
 * `"<revision>-<hash>"`: the revision says which state it is, the hash covers what the
 * revision does not (a new order alone keeps it) and is the same on every control plane that
 * answers from the same rows.
 */
export function revisionTag(revision: number, body: string): string {
  return `"${revision}-${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
}

/**
 * Whether an If-None-Match header names `etag` (RFC 9110 13.1.2: a list, `*`, the weak
 * comparison, so `W/"…"` matches too).
 */
export function noneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  return value.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
