// Errors a user can cause, with stable codes, mapped to HTTP in one place (the Fastify error
// handler below). Never a stack, never an unexposed message: an error that is not an
// OutpostError (or the spec's SpecError) answers 500 with a pointer to the log.
import type { FastifyError, FastifyInstance } from 'fastify';
import { SpecError, type Problem } from '../spec/index.js';

/** Every code the API answers with, and its HTTP status. Codes are stable: clients match them. */
export const ERROR_STATUS = {
  invalid_spec: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  revision_conflict: 409,
  too_many_requests: 429,
  /** A notification channel did not take a message (`outpost alerts test`). */
  notification_failed: 502,
  unavailable: 503,
  install_script_unavailable: 503,
  agent_executable_unavailable: 503,
  internal: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface OutpostErrorOptions {
  /** The field at fault (a request body path such as `sites[0].domain`, or a URL parameter). */
  path?: string;
  /** Whether the message may reach the client; false: the client sees a generic message. */
  expose?: boolean;
  cause?: unknown;
}

/** The one error type the API maps to HTTP. Capability errors are subclasses with a code. */
export class OutpostError extends Error {
  readonly status: number;
  readonly path: string | undefined;
  readonly expose: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: OutpostErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutpostError';
    this.status = ERROR_STATUS[code];
    this.path = options.path;
    this.expose = options.expose ?? this.status < 500;
  }
}

/** Shorthand kept for the routes: `new ApiError(code, message, path)`. */
export class ApiError extends OutpostError {
  constructor(code: ErrorCode, message: string, path?: string) {
    super(code, message, path === undefined ? {} : { path });
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; path?: string; problems?: Problem[] };
}

const HIDDEN = 'internal error; see the control plane log';

/** The status and body an error answers with. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof OutpostError) {
    const body: ErrorBody = {
      error: { code: err.code, message: err.expose ? err.message : HIDDEN },
    };
    if (err.path !== undefined && err.expose) body.error.path = err.path;
    return { status: err.status, body };
  }
  if (err instanceof SpecError) {
    const first = err.problems[0];
    const body: ErrorBody = {
      error: { code: 'invalid_spec', message: err.message, problems: err.problems },
    };
    if (first) body.error.path = first.path;
    return { status: ERROR_STATUS.invalid_spec, body };
  }
  // Fastify's own 4xx (a body that is not JSON, too large, …): its message is for the client.
  const fe = err as Partial<FastifyError>;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return {
      status: fe.statusCode,
      body: {
        error: {
          code: fe.statusCode === 404 ? 'not_found' : 'invalid_request',
          message: fe.message ?? 'bad request',
        },
      },
    };
  }
  return { status: 500, body: { error: { code: 'internal', message: HIDDEN } } };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorBody(err);
    // Not `unavailable` (the database down): what fails is logged where it fails, once (not
    // once per request of a UI that polls).
    if (status >= 500 && body.error.code !== 'unavailable')
      req.log.error({ err }, 'request failed');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      error: {
        code: 'not_found',
        message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}`,
      },
    });
  });
}
