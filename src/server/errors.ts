// Errors a user can cause, with stable codes, mapped to HTTP in one place. Never a stack.
import type { FastifyError, FastifyInstance } from 'fastify';
import { SpecError, type Problem } from '../spec/index.js';
import { RevisionConflictError } from '../store/types.js';

export type ErrorCode =
  | 'invalid_spec'
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'revision_conflict'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_spec: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  revision_conflict: 409,
  internal: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; path?: string; problems?: Problem[] };
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.path !== undefined) body.error.path = err.path;
    return { status: STATUS[err.code], body };
  }
  if (err instanceof SpecError) {
    const first = err.problems[0];
    const body: ErrorBody = {
      error: { code: 'invalid_spec', message: err.message, problems: err.problems },
    };
    if (first) body.error.path = first.path;
    return { status: 400, body };
  }
  if (err instanceof RevisionConflictError) {
    return { status: 409, body: { error: { code: 'revision_conflict', message: err.message } } };
  }
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
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal error; see the control plane log' } },
  };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
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
