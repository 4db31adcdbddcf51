// The OpenAPI document at /docs, from the same zod schemas the handlers, the UI and the CLI use
// (src/spec/api.ts). Documentation only: a route's `docs()` is kept under one key of its
// Fastify schema that Fastify ignores, and @fastify/swagger's `transform` turns it into
// parameters, body and responses when /docs/json is built. Fastify neither validates with it
// (bodies are parsed by zod in the handlers) nor serializes with it, so no answer is
// re-serialized or stripped by a response schema.
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { ApiErrorAnswer } from '../spec/index.js';
import { ERROR_STATUS, type ErrorCode } from './errors.js';

/** A success answer that is not JSON: its media type, and what it is. */
export interface MediaAnswer {
  media: string;
  description: string;
}

/** A success answer: its JSON shape, a non-JSON body, or `null` for none (204, 304). */
export type Answer = z.ZodTypeAny | MediaAnswer | null;

/**
 * Who may call a route, and the errors its door answers with: `admin` (the admin door: a
 * token or session with the route's scope: 401, 403), `edge` (an edge token: 401), `open`.
 * Every /v1/ route also answers 429 after too many failed authentications from one address.
 */
export type Door = 'admin' | 'edge' | 'open';

export interface RouteDocs {
  tag: string;
  summary: string;
  /** Success answers by HTTP status. */
  answers: Readonly<Record<number, Answer>>;
  /** The JSON body the handler parses. */
  body?: z.ZodTypeAny;
  /** Query parameters (each a string on the wire; the schema says what it must spell). */
  query?: z.AnyZodObject;
  /** Error codes the handler (or its service) throws, besides the door's and the body's. */
  errors?: readonly ErrorCode[];
  /** Default `admin`. */
  door?: Door;
}

/** The key of a Fastify route schema that holds its RouteDocs (Fastify ignores other keys). */
const DOCS_KEY = 'x-outpost-docs';

/** The Fastify `schema` of a documented route. */
export function docs(d: RouteDocs): Record<string, unknown> {
  const door = d.door ?? 'admin';
  return {
    tags: [d.tag],
    summary: d.summary,
    security: door === 'open' ? [] : [{ [door === 'edge' ? 'edgeToken' : 'bearer']: [] }],
    [DOCS_KEY]: d,
  };
}

function jsonSchema(schema: z.ZodTypeAny): Record<string, unknown> {
  return nullInEnums(
    zodToJsonSchema(schema as z.ZodType, { target: 'openApi3', $refStrategy: 'none' }),
  ) as Record<string, unknown>;
}

/**
 * OpenAPI 3.0.3 ("Schema Object", nullable): `nullable: true` does not widen an `enum`, which
 * must list null itself; zod-to-json-schema leaves it out (`z.enum([...]).nullable()`).
 */
function nullInEnums(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullInEnums);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === 'enum' ? v : nullInEnums(v)]),
  );
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null))
    out.enum = [...(out.enum as unknown[]), null];
  return out;
}

function isMedia(a: Answer): a is MediaAnswer {
  return a !== null && typeof (a as MediaAnswer).media === 'string';
}

/** Statuses Fastify itself answers before a handler runs on a route with a body. */
const BODY_STATUSES: Readonly<Record<number, ErrorCode[]>> = {
  400: ['invalid_request'], // not JSON
  413: ['invalid_request'], // larger than the body limit
  415: ['invalid_request'], // a content type without a parser
};

/** Error codes a route can answer with, by HTTP status. */
export function errorCodes(d: RouteDocs, url: string): Map<number, Set<ErrorCode>> {
  const byStatus = new Map<number, Set<ErrorCode>>();
  const add = (status: number, code: ErrorCode) => {
    const set = byStatus.get(status) ?? new Set<ErrorCode>();
    set.add(code);
    byStatus.set(status, set);
  };
  const door = d.door ?? 'admin';
  if (door !== 'open') add(ERROR_STATUS.unauthorized, 'unauthorized');
  if (door === 'admin') add(ERROR_STATUS.forbidden, 'forbidden');
  if (url.startsWith('/v1/')) add(ERROR_STATUS.too_many_requests, 'too_many_requests');
  if (d.body) {
    add(ERROR_STATUS.invalid_spec, 'invalid_spec'); // parseBody: every problem with its path
    for (const [status, codes] of Object.entries(BODY_STATUSES))
      for (const code of codes) add(Number(status), code);
  }
  for (const code of d.errors ?? []) add(ERROR_STATUS[code], code);
  add(ERROR_STATUS.internal, 'internal');
  return byStatus;
}

/** ApiErrorAnswer with `error.code` narrowed to the codes this status carries. */
function errorSchema(codes: ReadonlySet<ErrorCode>): Record<string, unknown> {
  const schema = jsonSchema(ApiErrorAnswer);
  const error = (schema.properties as Record<string, { properties: Record<string, unknown> }>)
    .error;
  if (error) error.properties.code = { type: 'string', enum: [...codes].sort() };
  return schema;
}

function responses(d: RouteDocs, url: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(d.answers)) {
    if (answer === null) out[status] = { type: 'null', description: 'No body' };
    else if (isMedia(answer))
      out[status] = {
        description: answer.description,
        content: { [answer.media]: { schema: { type: 'string' } } },
      };
    else out[status] = { ...jsonSchema(answer), description: 'OK' };
  }
  for (const [status, codes] of errorCodes(d, url))
    out[status] = { ...errorSchema(codes), description: [...codes].sort().join(', ') };
  return out;
}

/** The OpenAPI view of a route schema: its RouteDocs as params, querystring, body, response. */
export function openApiSchema(
  schema: Record<string, unknown> | undefined,
  url: string,
): Record<string, unknown> | undefined {
  const d = schema?.[DOCS_KEY] as RouteDocs | undefined;
  if (schema === undefined || d === undefined) return schema;
  const rest = Object.fromEntries(Object.entries(schema).filter(([k]) => k !== DOCS_KEY));
  const out: Record<string, unknown> = { ...rest };
  const params = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  if (params.length > 0)
    out.params = {
      type: 'object',
      properties: Object.fromEntries(params.map((p) => [p, { type: 'string' }])),
      required: params,
    };
  if (d.query) out.querystring = jsonSchema(d.query);
  if (d.body) out.body = jsonSchema(d.body);
  out.response = responses(d, url);
  return out;
}

/** @fastify/swagger's `transform`: every documented route gets its OpenAPI schema. */
export function openApiTransform({ schema, url }: { schema: unknown; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  return { schema: openApiSchema(schema as Record<string, unknown> | undefined, url) ?? {}, url };
}

/** Security schemes the `docs()` security entries name. */
export const OPENAPI_SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The admin token, a named API token (outpost token create) or a UI session',
  },
  edgeToken: {
    type: 'http',
    scheme: 'bearer',
    description: "An edge's own token (outpost edge add / edge token); the agent's API",
  },
} as const;

/** Every route Fastify registered on an app, as its onRoute hook saw it (HEAD included). */
const registered = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Records the routes registered on `app` from now on (call it before any route). */
export function recordRoutes(app: FastifyInstance): void {
  const list: RouteOptions[] = [];
  registered.set(app, list);
  app.addHook('onRoute', (route) => {
    list.push(route);
  });
}

/** The routes recorded by recordRoutes: `METHOD url` and their Fastify schema. */
export function registeredRoutes(
  app: FastifyInstance,
): { method: string; url: string; schema: Record<string, unknown> | undefined }[] {
  return (registered.get(app) ?? []).flatMap((r) =>
    (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({
      method: String(method),
      url: r.url,
      schema: r.schema as Record<string, unknown> | undefined,
    })),
  );
}
