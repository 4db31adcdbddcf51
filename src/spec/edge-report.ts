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
    // ---- issue 16 part A (protect): requests the edge refused itself ----
    /** Refused by an access rule (`$outpost_block` "denied" in the access log). */
    denied: z.number().int().nonnegative().optional(),
    /** Refused by a rate limit (`$limit_req_status` REJECTED). */
    rate_limited: z.number().int().nonnegative().optional(),
    // ---- end issue 16 part A ----
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

/** One disk figure: the filesystem holding one of the agent's directories (statfs). */
export const DiskUse = z
  .object({
    /** `cache` (the proxy cache) or `state` (the agent's root: releases, logs). */
    dir: z.enum(['cache', 'state']),
    total_bytes: z.number().nonnegative(),
    free_bytes: z.number().nonnegative(),
    /** What the machine's users may still write (statfs bavail; `df`'s Avail). */
    available_bytes: z.number().nonnegative(),
  })
  .strict();
export type DiskUse = z.infer<typeof DiskUse>;

/**
 * The machine's resources at one instant (src/agent/resources.ts reads them from /proc and
 * statfs). Rates (CPU, network) are over the time since the agent's previous sample, null for
 * the first one.
 */
export const NodeResources = z
  .object({
    at: z.string().max(64),
    /** Busy share of all CPUs, 0-100. */
    cpu_percent: z.number().min(0).max(100).nullable(),
    /** /proc/loadavg: 1, 5 and 15 minutes. */
    load: z.array(z.number().nonnegative()).length(3),
    cpus: z.number().int().positive(),
    memory: z
      .object({
        total_bytes: z.number().nonnegative(),
        /** MemAvailable: what can be used without swapping. */
        available_bytes: z.number().nonnegative(),
      })
      .strict(),
    disks: z.array(DiskUse).max(2),
    /** Bytes per second in and out of every interface but loopback, from /proc/net/dev. */
    network: z
      .object({
        rx_bytes_per_second: z.number().nonnegative(),
        tx_bytes_per_second: z.number().nonnegative(),
      })
      .strict()
      .nullable(),
    /** Established TCP connections (/proc/net/tcp and tcp6). */
    tcp_established: z.number().int().nonnegative().nullable(),
    uptime_seconds: z.number().nonnegative(),
    /** `nginx -v` / `caddy version`, or null when the binary does not say. */
    proxy_version: z.string().max(128).nullable(),
  })
  .strict();
export type NodeResources = z.infer<typeof NodeResources>;

/** At most this many resource samples travel in one report (the agent thins older ones). */
export const MAX_RESOURCE_SAMPLES = 240;

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
    /**
     * How long the agent's last validation of a release took (`nginx -t`, `caddy validate`), in
     * milliseconds: it grows with the number of sites (issue 14), null before the first.
     */
    validation_ms: z.number().int().nonnegative().nullable().optional(),
    traffic: TrafficReport.optional(),
    /**
     * Resource samples not yet accepted by the control plane, oldest first; the last one is now.
     * Samples taken while the control plane was away travel with the next accepted report.
     */
    resources: z.array(NodeResources).max(MAX_RESOURCE_SAMPLES).optional(),
    /**
     * The control-plane URL the agent sent this report to (it may have several, in order of
     * preference: docs/high-availability.md).
     */
    control_plane: z.string().url().max(2048).optional(),
  })
  .strict();
export type EdgeReport = z.infer<typeof EdgeReport>;

/**
 * The header in which an agent names its edge on every request. A claim, not a credential (the
 * token decides): it lets the control plane say that an edge's token is being refused.
 */
export const EDGE_NAME_HEADER = 'x-outpost-edge';
