// What an edge's agent reports to the control plane (heartbeat), shared by both sides.
import { z } from 'zod';

/** What one site served on an edge during a report's period. */
export const SiteTraffic = z
  .object({
    requests: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** By status class: `2xx`, `3xx`, `4xx`, `5xx`. */
    status: z.record(z.string().max(8), z.number().int().nonnegative()),
    /** By cache status: HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS, EDGE. */
    cache: z.record(z.string().max(16), z.number().int().nonnegative()),
    // ---- issue 16 part B (w3-waf) ----
    /** The WAF's verdicts (from the edge's WAF log), when the site has it on. */
    waf: z
      .object({
        /** Requests answered 403 by the WAF (block mode). */
        blocked: z.number().int().nonnegative(),
        /** Requests over the anomaly threshold let through (detect mode). */
        detected: z.number().int().nonnegative(),
        /** Matches per CRS rule id (the scoring rules 949110/959100/980130 left out). */
        rules: z.record(z.string().regex(/^\d{1,8}$/), z.number().int().nonnegative()),
      })
      .strict()
      .optional(),
    // ---- end issue 16 part B ----
  })
  .strict();
export type SiteTraffic = z.infer<typeof SiteTraffic>;
export type SiteWafCounts = NonNullable<SiteTraffic['waf']>;

/** Traffic counted from the access log since the last accepted report. */
export const TrafficReport = z
  .object({
    since: z.string().max(64),
    until: z.string().max(64),
    sites: z.record(z.string().max(253), SiteTraffic),
  })
  .strict();
export type TrafficReport = z.infer<typeof TrafficReport>;

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
    /**
     * What the edge's proxy can do. `cache: false`: it proxies without caching (a Caddy without
     * the http.handlers.cache module, detected with `caddy list-modules`).
     */
    capabilities: z.object({ cache: z.boolean() }).strict().optional(),
    /** When the agent process started (ISO 8601). */
    started_at: z.string().max(64),
    /** Open client connections (nginx stub_status), when known. */
    active_connections: z.number().int().nonnegative().nullable().optional(),
    traffic: TrafficReport.optional(),
  })
  .strict();
export type EdgeReport = z.infer<typeof EdgeReport>;

/**
 * The header in which an agent names its edge on every request. A claim, not a credential (the
 * token decides): it lets the control plane say that an edge's token is being refused.
 */
export const EDGE_NAME_HEADER = 'x-outpost-edge';
