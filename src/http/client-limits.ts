// Limits per client address (issue 15, 4): how many connections one address may hold open, and
// how many failed authentications (401 answers) it may cause on the admin and edge APIs before
// it is answered 429 with Retry-After for the rest of the window. Failed UI logins are limited
// on their own, tighter, per client address and per user name (`LoginLimiter`).
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

export interface ClientLimits {
  /** Open connections one address may hold (more are closed at once). */
  maxConnectionsPerClient: number;
  /** Failed authentications one address may cause per window, per API (admin, edge). */
  maxAuthFailures: number;
  authFailureWindowMs: number;
  /** Failed logins (POST /v1/login) one user name may get per login window, from anywhere. */
  maxLoginFailuresPerUser: number;
  /** Failed logins one client address may cause per login window, for any names. */
  maxLoginFailuresPerClient: number;
  loginFailureWindowMs: number;
}

export const CLIENT_LIMIT_DEFAULTS: ClientLimits = {
  maxConnectionsPerClient: 256,
  maxAuthFailures: 30,
  authFailureWindowMs: 60_000,
  maxLoginFailuresPerUser: 10,
  maxLoginFailuresPerClient: 20,
  loginFailureWindowMs: 15 * 60_000,
};

/** The API a path belongs to: failures on one do not lock a client out of the other. */
function apiOf(url: string): 'admin' | 'edge' | undefined {
  if (url.startsWith('/v1/edge/')) return 'edge';
  if (url.startsWith('/v1/')) return 'admin';
  return undefined;
}

/** Counts failures per key in fixed windows; bounded: expired windows are dropped. */
export class AuthFailureCounter {
  private readonly windows = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the key may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (w === undefined) return 0;
    const left = w.until - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.max ? Math.ceil(left / 1000) : 0;
  }

  failed(key: string): void {
    const now = this.now();
    if (this.windows.size > 100_000) {
      for (const [k, w] of this.windows) if (w.until <= now) this.windows.delete(k);
    }
    const w = this.windows.get(key);
    if (w === undefined || w.until <= now)
      this.windows.set(key, { count: 1, until: now + this.windowMs });
    else w.count += 1;
  }

  /** Forgets the key's failures (a successful login of that user). */
  reset(key: string): void {
    this.windows.delete(key);
  }
}

/**
 * Failed logins, per client address and per user name: a guesser is slowed down whether it
 * tries many names from one address or one name from many addresses. While either is over its
 * limit, a login is answered 429 before the password is checked (no scrypt work either); a
 * successful login clears its user name's failures.
 */
export class LoginLimiter {
  private readonly clients: AuthFailureCounter;
  private readonly users: AuthFailureCounter;

  constructor(
    limits: Pick<
      ClientLimits,
      'maxLoginFailuresPerUser' | 'maxLoginFailuresPerClient' | 'loginFailureWindowMs'
    > = CLIENT_LIMIT_DEFAULTS,
    now: () => number = Date.now,
  ) {
    this.clients = new AuthFailureCounter(
      limits.maxLoginFailuresPerClient,
      limits.loginFailureWindowMs,
      now,
    );
    this.users = new AuthFailureCounter(
      limits.maxLoginFailuresPerUser,
      limits.loginFailureWindowMs,
      now,
    );
  }

  /** The 429 to answer (its `retryAfter` in seconds) while the address or the name is over. */
  check(address: string, user: string): LoginLimitedError | undefined {
    const byClient = this.clients.retryAfter(address);
    const byUser = this.users.retryAfter(user);
    const wait = Math.max(byClient, byUser);
    if (wait === 0) return undefined;
    return new LoginLimitedError(
      byUser >= byClient
        ? `too many failed logins for user "${user}"; try again in ${wait} s`
        : `too many failed logins from ${address}; try again in ${wait} s`,
      wait,
    );
  }

  failed(address: string, user: string): void {
    this.clients.failed(address);
    this.users.failed(user);
  }

  succeeded(user: string): void {
    this.users.reset(user);
  }
}

/** A login refused for the limits: 429, and how many seconds to wait. */
export class LoginLimitedError extends ApiError {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super('too_many_requests', message);
  }
}

/** Installs both limits on the control plane's server and routes. */
export function installClientLimits(app: FastifyInstance, limits: ClientLimits): void {
  const open = new Map<string, number>();
  app.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const n = (open.get(address) ?? 0) + 1;
    if (n > limits.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  // The TLS server announces its sockets as 'secureConnection' too, but 'connection' comes
  // first for both, with the raw socket: counted once.

  const failures = new AuthFailureCounter(limits.maxAuthFailures, limits.authFailureWindowMs);
  app.addHook('onRequest', async (req, reply) => {
    const api = apiOf(req.url);
    if (api === undefined) return;
    const wait = failures.retryAfter(`${api} ${req.ip}`);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      throw new ApiError(
        'too_many_requests',
        `too many failed authentications from ${req.ip}; try again in ${wait} s`,
      );
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const api = apiOf(req.url);
    if (api !== undefined && reply.statusCode === 401) failures.failed(`${api} ${req.ip}`);
  });
}
