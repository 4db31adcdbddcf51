// Stored JSON back into its spec shape; a row that no longer parses is a StoreDataError.
import type { z } from 'zod';
import { StoreDataError } from './errors.js';

export function parseStored<T extends z.ZodTypeAny>(
  schema: T,
  text: string,
  what: string,
): z.output<T> {
  return checkStored(schema, parseJson(text, what), what);
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new StoreDataError(`the stored ${what} is not valid JSON`, { cause });
  }
}

export function checkStored<T extends z.ZodTypeAny>(
  schema: T,
  json: unknown,
  what: string,
): z.output<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    throw new StoreDataError(
      `the stored ${what} does not match its schema${where}: ${first?.message ?? 'invalid'}`,
      { cause: parsed.error },
    );
  }
  return parsed.data as z.output<T>;
}
