import type { z } from 'zod';
import { problemsFromZod, SpecError } from '../spec/index.js';

/** Parses a request body with a spec schema; problems name the body's own fields. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new SpecError(problemsFromZod(r.error, body));
  return r.data as z.infer<S>;
}
