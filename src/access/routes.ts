// /v1/tokens, /v1/users, /v1/whoami (admin API, behind access/auth.ts) and /v1/login (open:
// a user's name and password buy a session token for the UI).
import type { FastifyPluginAsync } from 'fastify';
import { actorOf } from '../http/actor.js';
import { ApiError } from '../http/errors.js';
import { LoginLimiter } from '../http/client-limits.js';
import { docs } from '../http/openapi.js';
import { parseBody } from '../http/parse-body.js';
import { hashToken, newToken } from '../http/tokens.js';
import {
  ApiTokenCreated,
  ApiTokenList,
  LoginAnswer,
  LoginRequest,
  TokenCreate,
  TokenRevoked,
  UserAnswer,
  UserCreate,
  UserList,
  UserPassword,
  UserRemoved,
  WhoAmI,
  type ApiTokenInfo,
  type UserInfo,
} from '../spec/index.js';
import type { AccessQueries, StoredApiToken, StoredUser } from '../store/types.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';

/** How long a UI login lasts. */
export const SESSION_HOURS = 12;

function tokenInfo(t: StoredApiToken): ApiTokenInfo {
  return {
    name: t.name,
    scopes: t.grant.scopes,
    sites: t.grant.sites,
    tags: t.grant.tags,
    created_at: t.created_at,
    expires_at: t.expires_at,
    last_used_at: t.last_used_at,
  };
}

function userInfo(u: StoredUser): UserInfo {
  return {
    name: u.name,
    scopes: u.grant.scopes,
    sites: u.grant.sites,
    tags: u.grant.tags,
    created_at: u.created_at,
  };
}

export const accessRoutes =
  (store: AccessQueries, now: () => Date = () => new Date()): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/whoami',
      {
        schema: docs({
          tag: 'access',
          summary: 'The credential of this request',
          answers: { 200: WhoAmI },
        }),
      },
      async (req) => {
        const p = req.principal;
        if (!p) throw new ApiError('unauthorized', 'no credential');
        const answer: WhoAmI = { kind: p.kind, name: p.name, ...p.grant };
        return answer;
      },
    );

    app.get(
      '/v1/tokens',
      {
        schema: docs({
          tag: 'access',
          summary: 'List the named API tokens',
          answers: { 200: ApiTokenList },
        }),
      },
      async () => {
        const answer: ApiTokenList = {
          tokens: (await store.listApiTokens('token')).map(tokenInfo),
        };
        return answer;
      },
    );

    app.post(
      '/v1/tokens',
      {
        schema: docs({
          tag: 'access',
          summary: 'Create a named API token (its value is shown once)',
          body: TokenCreate,
          answers: { 201: ApiTokenCreated },
          errors: ['invalid_request', 'conflict'],
        }),
      },
      async (req, reply) => {
        const body = parseBody(TokenCreate, req.body);
        const at = now();
        if (body.expires_at !== undefined && Date.parse(body.expires_at) <= at.getTime())
          throw new ApiError('invalid_request', 'is in the past', 'expires_at');
        const value = newToken('api');
        const token: StoredApiToken = {
          name: body.name,
          hash: hashToken(value),
          kind: 'token',
          user: null,
          grant: { scopes: body.scopes, sites: body.sites, tags: body.tags },
          created_at: at.toISOString(),
          expires_at:
            body.expires_at === undefined ? null : new Date(body.expires_at).toISOString(),
          last_used_at: null,
        };
        const created = await store.createApiToken(token, {
          actor: actorOf(req),
          action: 'token.create',
          subject: body.name,
          detail: { scopes: body.scopes, sites: body.sites, tags: body.tags },
          address: req.ip,
        });
        if (!created) throw new ApiError('conflict', `a token "${body.name}" exists`, 'name');
        const answer: ApiTokenCreated = { token: tokenInfo(token), value };
        return reply.status(201).send(answer);
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/tokens/:name',
      {
        schema: docs({
          tag: 'access',
          summary: 'Revoke a named API token',
          answers: { 200: TokenRevoked },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const ok = await store.deleteApiToken(req.params.name, {
          actor: actorOf(req),
          action: 'token.revoke',
          subject: req.params.name,
          detail: {},
          address: req.ip,
        });
        if (!ok) throw new ApiError('not_found', `no token "${req.params.name}"`, 'name');
        return { name: req.params.name, revoked: true };
      },
    );

    app.get(
      '/v1/users',
      {
        schema: docs({ tag: 'access', summary: 'List the UI users', answers: { 200: UserList } }),
      },
      async () => {
        const answer: UserList = { users: (await store.listUsers()).map(userInfo) };
        return answer;
      },
    );

    app.post(
      '/v1/users',
      {
        schema: docs({
          tag: 'access',
          summary: 'Add a UI user',
          body: UserCreate,
          answers: { 201: UserAnswer },
          errors: ['conflict'],
        }),
      },
      async (req, reply) => {
        const body = parseBody(UserCreate, req.body);
        const user: StoredUser = {
          name: body.name,
          password_hash: await hashPassword(body.password),
          grant: { scopes: body.scopes, sites: body.sites, tags: body.tags },
          created_at: now().toISOString(),
        };
        const ok = await store.putUser(
          user,
          {
            actor: actorOf(req),
            action: 'user.create',
            subject: body.name,
            detail: { scopes: body.scopes },
            address: req.ip,
          },
          true,
        );
        if (!ok) throw new ApiError('conflict', `a user "${body.name}" exists`, 'name');
        return reply.status(201).send({ user: userInfo(user) });
      },
    );

    app.put<{ Params: { name: string } }>(
      '/v1/users/:name/password',
      {
        schema: docs({
          tag: 'access',
          summary: "Set a user's password (ends their sessions)",
          body: UserPassword,
          answers: { 200: UserAnswer },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const body = parseBody(UserPassword, req.body);
        const existing = await store.getUser(req.params.name);
        if (!existing) throw new ApiError('not_found', `no user "${req.params.name}"`, 'name');
        await store.putUser(
          { ...existing, password_hash: await hashPassword(body.password) },
          {
            actor: actorOf(req),
            action: 'user.password',
            subject: existing.name,
            detail: {},
            address: req.ip,
          },
          false,
        );
        return { user: userInfo(existing) };
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/users/:name',
      {
        schema: docs({
          tag: 'access',
          summary: 'Remove a UI user (ends their sessions)',
          answers: { 200: UserRemoved },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const ok = await store.deleteUser(req.params.name, {
          actor: actorOf(req),
          action: 'user.delete',
          subject: req.params.name,
          detail: {},
          address: req.ip,
        });
        if (!ok) throw new ApiError('not_found', `no user "${req.params.name}"`, 'name');
        return { name: req.params.name, removed: true };
      },
    );
  };

/** POST /v1/login: outside the admin door (it is how a user gets through it). */
export const loginRoutes =
  (
    store: AccessQueries & {
      appendEvent: (e: import('../store/types.js').NewAuditEvent) => Promise<void>;
    },
    limiter: LoginLimiter = new LoginLimiter(),
    now: () => Date = () => new Date(),
  ): FastifyPluginAsync =>
  async (app) => {
    app.post(
      '/v1/login',
      {
        schema: docs({
          tag: 'access',
          summary: 'Log in to the UI: a session token (no auth)',
          door: 'open',
          body: LoginRequest,
          answers: { 200: LoginAnswer },
          errors: ['unauthorized'],
        }),
      },
      async (req, reply) => {
        const body = parseBody(LoginRequest, req.body);
        const limited = limiter.check(req.ip, body.user);
        if (limited) {
          void reply.header('retry-after', String(limited.retryAfter));
          throw limited;
        }
        const user = await store.getUser(body.user);
        // The same scrypt work for an unknown name: the answer's time does not tell names apart.
        const ok = await verifyPassword(body.password, user?.password_hash ?? DUMMY_HASH);
        if (!user || !ok) {
          limiter.failed(req.ip, body.user);
          await store.appendEvent({
            actor: `user:${body.user}`,
            action: 'login.failed',
            subject: body.user,
            detail: {},
            address: req.ip,
          });
          throw new ApiError('unauthorized', 'wrong user name or password');
        }
        limiter.succeeded(body.user);
        const at = now();
        await store.deleteExpiredSessions(at.toISOString());
        const value = newToken('session');
        const expires = new Date(at.getTime() + SESSION_HOURS * 3_600_000).toISOString();
        await store.createApiToken(
          {
            name: `session:${user.name}:${hashToken(value).slice(0, 12)}`,
            hash: hashToken(value),
            kind: 'session',
            user: user.name,
            grant: user.grant,
            created_at: at.toISOString(),
            expires_at: expires,
            last_used_at: null,
          },
          {
            actor: `user:${user.name}`,
            action: 'login',
            subject: user.name,
            detail: {},
            address: req.ip,
          },
        );
        const answer: LoginAnswer = {
          token: value,
          expires_at: expires,
          user: user.name,
          scopes: user.grant.scopes,
        };
        return answer;
      },
    );
  };
