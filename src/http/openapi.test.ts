import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { docs, errorCodes, openApiSchema, openApiTransform } from './openapi.js';

const Thing = z
  .object({ name: z.string(), kind: z.enum(['a', 'b']).nullable(), n: z.number().positive() })
  .strict();

describe('route docs → OpenAPI', () => {
  it('keeps the docs out of what Fastify reads: only tags, summary, security and one key', () => {
    const schema = docs({ tag: 't', summary: 's', body: Thing, answers: { 201: Thing } });
    expect(Object.keys(schema).sort()).toEqual(['security', 'summary', 'tags', 'x-outpost-docs']);
    expect(schema).not.toHaveProperty('response');
    expect(schema).not.toHaveProperty('body');
  });

  it('builds params from the URL, the body, the success answer and every error status', () => {
    const schema = docs({
      tag: 't',
      summary: 's',
      body: Thing,
      query: z.object({ force: z.enum(['true', 'false']).optional() }),
      answers: { 201: Thing },
      errors: ['not_found', 'conflict', 'revision_conflict'],
    });
    const out = openApiSchema(schema, '/v1/things/:name') as Record<string, unknown>;
    expect(out).not.toHaveProperty('x-outpost-docs');
    expect(out.params).toEqual({
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
    });
    expect(out.querystring).toMatchObject({ properties: { force: { enum: ['true', 'false'] } } });
    expect(out.body).toMatchObject({
      additionalProperties: false,
      required: ['name', 'kind', 'n'],
    });
    const response = out.response as Record<string, Record<string, unknown> | undefined>;
    expect(Object.keys(response).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '429',
      '500',
    ]);
    expect(response['409']?.description).toBe('conflict, revision_conflict');
    expect(response['400']?.description).toBe('invalid_request, invalid_spec');
    // A nullable enum lists null (OpenAPI 3.0.3), or a null answer would not validate.
    expect(response['201']).toMatchObject({
      properties: { kind: { enum: ['a', 'b', null], nullable: true } },
    });
  });

  it('an open route outside /v1/ has no door errors; a route without docs stays as it is', () => {
    const open = docs({ tag: 't', summary: 's', door: 'open', answers: { 200: null } });
    expect([...errorCodes(open['x-outpost-docs'] as never, '/healthz').keys()]).toEqual([500]);
    const edge = docs({ tag: 't', summary: 's', door: 'edge', answers: { 204: null } });
    expect([...errorCodes(edge['x-outpost-docs'] as never, '/v1/edge/x').keys()].sort()).toEqual([
      401, 429, 500,
    ]);
    const plain = { tags: ['x'], summary: 'no docs' };
    expect(openApiTransform({ schema: plain, url: '/x' }).schema).toBe(plain);
  });
});
