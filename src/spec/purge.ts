// Purge requests: what a user asks to drop from the edges' caches, and the job an edge runs.
import { z } from 'zod';
import { describeChar } from './primitives.js';
import { issue, said, sentence } from './problems.js';

/** A path with an optional query, as requested from the edge: `/assets/app.js?v=2`. */
export const PurgePath = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((v, ctx) => {
    const bad = /[\0-\x20\x7f]/.exec(v)?.[0];
    if (bad !== undefined) ctx.addIssue(issue(said('bad_char', { char: describeChar(bad) })));
    else if (!v.startsWith('/')) ctx.addIssue(issue(said('path_start')));
  });

export const CacheTag = z
  .string()
  .regex(/^[A-Za-z0-9._:/@+=-]{1,128}$/, sentence('cache_tag_format'));

export const PurgeRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('urls'), paths: z.array(PurgePath).min(1).max(1000) }).strict(),
  z.object({ kind: z.literal('prefix'), prefix: PurgePath }).strict(),
  z.object({ kind: z.literal('all') }).strict(),
  z.object({ kind: z.literal('tags'), tags: z.array(CacheTag).min(1).max(100) }).strict(),
]);
export type PurgeRequest = z.infer<typeof PurgeRequest>;

/** A purge as an edge receives it: which names the site answers to, and what to drop. */
export const PurgeJob = z
  .object({
    id: z.number().int().positive(),
    site: z.string(),
    /** The site's domain and aliases: the hosts cache keys may carry. */
    hosts: z.array(z.string()).min(1),
    request: PurgeRequest,
    /** Response headers that carry cache tags (first listed wins), e.g. Cache-Tag. */
    tag_headers: z.array(z.string()).default(['cache-tag', 'surrogate-key']),
    created_at: z.string(),
  })
  .strict();
export type PurgeJob = z.infer<typeof PurgeJob>;

/** What an edge says it did with a purge job. */
export const PurgeResult = z
  .object({
    id: z.number().int().positive(),
    ok: z.boolean(),
    /** Cache entries removed. */
    removed: z.number().int().nonnegative(),
    error: z.string().max(2000).nullable(),
  })
  .strict();
export type PurgeResult = z.infer<typeof PurgeResult>;
