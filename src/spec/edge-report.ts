// What an edge's agent reports to the control plane (heartbeat), shared by both sides.
import { z } from 'zod';

export const EdgeReport = z
  .object({
    agent_version: z.string().max(64),
    /** The release the proxy is serving (verified by probing), or null before the first. */
    applied_release: z.number().int().positive().nullable(),
    applied_hash: z.string().max(128).nullable(),
    /** The last release that failed to apply on this edge (not retried until it changes). */
    failed_release: z.number().int().positive().nullable(),
    /** Why the last release failed, or null when the last attempt succeeded. */
    last_error: z.string().max(8192).nullable(),
    proxy: z.enum(['nginx', 'caddy']),
    proxy_running: z.boolean(),
    /** When the agent process started (ISO 8601). */
    started_at: z.string().max(64),
  })
  .strict();
export type EdgeReport = z.infer<typeof EdgeReport>;
