import { describe, expect, it } from 'vitest';
import { CertificateError } from '../certs/pem.js';
import { CertificateRequestError } from '../certs/manager.js';
import { SpecError } from '../spec/index.js';
import { RevisionConflictError } from '../store/types.js';
import { ApiError, OutpostError, toErrorBody } from './errors.js';

describe('the one mapping of errors to HTTP', () => {
  it('answers an OutpostError with its code, status and path', () => {
    expect(toErrorBody(new ApiError('not_found', 'no site "a.example"', 'domain'))).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no site "a.example"', path: 'domain' } },
    });
    const unavailable = new OutpostError('unavailable', 'npm is not installed', { expose: true });
    expect(toErrorBody(unavailable)).toEqual({
      status: 503,
      body: { error: { code: 'unavailable', message: 'npm is not installed' } },
    });
  });

  it("maps the capabilities' errors through their codes", () => {
    expect(toErrorBody(new RevisionConflictError(3, 4))).toMatchObject({
      status: 409,
      body: { error: { code: 'revision_conflict' } },
    });
    expect(toErrorBody(new CertificateError('not a PEM key', 'key'))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'not a PEM key', path: 'key' } },
    });
    expect(toErrorBody(new CertificateRequestError('conflict', 'already issuing'))).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', path: 'domain' } },
    });
  });

  it('answers a spec error with every problem and the first path', () => {
    const err = new SpecError([
      { path: 'sites[0].domain', segments: ['sites', 0, 'domain'], message: 'is not a domain' },
      { path: 'edges[1].name', segments: ['edges', 1, 'name'], message: 'is taken' },
    ]);
    const { status, body } = toErrorBody(err);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_spec');
    expect(body.error.path).toBe('sites[0].domain');
    expect(body.error.problems).toHaveLength(2);
  });

  it('never sends the message of an unexpected or unexposed error', () => {
    const secret = 'connect ECONNREFUSED postgres://u:pw@db';
    for (const err of [
      new Error(secret),
      new OutpostError('internal', secret),
      new OutpostError('conflict', secret, { expose: false, path: 'x' }),
      'a string',
    ]) {
      const { body } = toErrorBody(err);
      expect(JSON.stringify(body)).not.toContain('pw@db');
      expect(body.error.message).toBe('internal error; see the control plane log');
    }
    expect(toErrorBody(new Error(secret)).status).toBe(500);
  });

  it("keeps Fastify's own 4xx answers (body not JSON, too large)", () => {
    const err = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 });
    expect(toErrorBody(err)).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'Body is not valid JSON' } },
    });
  });
});
