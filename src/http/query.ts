// A route's query string, read the one way every admin route reads it: each parameter a
// documented one and given once, numbers whole and in range, every problem an
// `invalid_request` naming its parameter (`limit: must be a whole number from 1 to 1000`).
import { ApiError } from './errors.js';

/** The problem with one parameter of the query. */
export function badQuery(field: string, message: string): ApiError {
  return new ApiError('invalid_request', `${field}: ${message}`, field);
}

/** The query's parameters, each a documented one (a key of `shape`) given once. */
export function queryParams(
  query: unknown,
  shape: Readonly<Record<string, unknown>>,
): Record<string, string | undefined> {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    if (!(k in shape)) throw badQuery(k, 'is not a parameter of this route');
    if (typeof v !== 'string') throw badQuery(k, 'must be given once');
  }
  return q as Record<string, string | undefined>;
}

/** A whole number from `min` to `max`, or undefined when the parameter is absent. */
export function wholeNumber(
  raw: string | undefined,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n < min || n > max)
    throw badQuery(field, `must be a whole number from ${min} to ${max}`);
  return n;
}
