// Who made a request, once the admin auth (access/auth.ts) has found its credential: the
// audit log's actor and the request's client address.
import type { FastifyRequest } from 'fastify';
import type { Grant } from '../spec/index.js';

export interface Principal {
  /** `admin`: the break-glass admin token; `token`: a named API token; `user`: a UI login. */
  kind: 'admin' | 'token' | 'user';
  name: string;
  grant: Grant;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The audit log's name for a credential: `admin token`, `token:NAME`, `user:NAME`. */
export function actorName(principal: Principal | undefined): string {
  if (principal === undefined || principal.kind === 'admin') return 'admin token';
  return `${principal.kind}:${principal.name}`;
}

/** The actor of an admin request (`admin token` when no credential was attached). */
export function actorOf(req: FastifyRequest): string {
  return actorName(req.principal);
}
