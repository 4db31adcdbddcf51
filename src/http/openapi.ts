// Route schemas for the OpenAPI document at /docs, derived from the spec's zod schemas.
// Bodies are validated by zod in the handlers (one schema per shape), not by Fastify.
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

export function docs(tag: string, summary: string, body?: z.ZodTypeAny): Record<string, unknown> {
  const schema: Record<string, unknown> = { tags: [tag], summary, security: [{ bearer: [] }] };
  if (body)
    schema.body = zodToJsonSchema(body as z.ZodType, { target: 'openApi3', $refStrategy: 'none' });
  return schema;
}
