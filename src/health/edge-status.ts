// Where each edge stands: desired release vs what its agent last reported. Pure.
import type { Spec } from '../spec/index.js';
import { codeOf, coded, englishOf, EdgeReport, type CodedMessage } from '../spec/index.js';

export type EdgeState = 'ok' | 'pending' | 'error' | 'offline' | 'never-seen';

export interface EdgeStatus {
  name: string;
  paused: boolean;
  state: EdgeState;
  /** Newest release built for the edge, and the desired-state revision it came from. */
  desired_release: number | null;
  desired_revision: number | null;
  applied_release: number | null;
  last_seen: string | null;
  /** Seconds since the last report. */
  age_seconds: number | null;
  proxy_running: boolean | null;
  /** The edge's proxy, as its spec says. */
  proxy: 'nginx' | 'caddy';
  /** Whether the edge caches, as its agent reported (null before a report says). */
  cache: boolean | null;
  /** Something the operator should know that is not an error, in one sentence, or null. */
  note: string | null;
  /** `note`'s code and values (spec/messages.ts), for the UI's catalogues. */
  note_code?: CodedMessage | null;
  /** The edge's own last error, or the control plane's reason for not publishing. */
  error: string | null;
  /** `error`'s code and values, when one fits (an agent's own error may have none). */
  error_code?: CodedMessage | null;
  /** The last request claiming to be this edge that its token did not open, if newer than its last report. */
  token_rejected_at: string | null;
  /** The control-plane URL the edge's agent last reported to (null before it said). */
  control_plane: string | null;
}

export interface EdgeStatusInput {
  spec: Spec;
  bundles: { edge: string; release: number; revision: number }[];
  reports: { edge: string; report: Record<string, unknown>; last_seen: string }[];
  buildErrors: { edge: string; message: string }[];
  now: Date;
  /** After this long without a report an edge is offline. */
  offlineAfterSeconds: number;
  /**
   * When a request naming the edge (the agent's X-Outpost-Edge header) was last refused for its
   * token. A claim, not a proof: it is shown only when no report came since.
   */
  tokenRefusals?: ReadonlyMap<string, Date>;
}

export function edgeStatuses(input: EdgeStatusInput): EdgeStatus[] {
  return input.spec.edges.map((edge) => {
    const bundle = input.bundles.find((b) => b.edge === edge.name);
    const raw = input.reports.find((r) => r.edge === edge.name);
    const parsed = raw ? EdgeReport.safeParse(raw.report) : undefined;
    const report = parsed?.success ? parsed.data : undefined;
    const buildError = input.buildErrors.find((e) => e.edge === edge.name)?.message ?? null;
    const age = raw
      ? Math.max(0, Math.round((input.now.getTime() - Date.parse(raw.last_seen)) / 1000))
      : null;
    const applied = report?.applied_release ?? null;
    const desired = bundle?.release ?? null;
    const edgeError = report?.last_error ?? null;
    const refusedAt = input.tokenRefusals?.get(edge.name);
    const rejected =
      refusedAt !== undefined && (!raw || refusedAt.getTime() > Date.parse(raw.last_seen))
        ? refusedAt.toISOString()
        : null;
    let state: EdgeState;
    if (rejected !== null) state = 'error';
    else if (!raw) state = 'never-seen';
    else if (age !== null && age > input.offlineAfterSeconds) state = 'offline';
    else if (buildError !== null || edgeError !== null || report?.proxy_running === false)
      state = 'error';
    else if (desired !== null && applied !== desired) state = 'pending';
    else state = 'ok';
    const error =
      rejected !== null
        ? coded('edge_token_rejected', { at: rejected })
        : buildError !== null
          ? coded('edge_control_plane_error', { error: parseOrText(buildError) })
          : edgeError;
    const note = proxyNote(edge.proxy, report?.capabilities?.cache);
    return {
      name: edge.name,
      paused: edge.paused,
      state,
      desired_release: desired,
      desired_revision: bundle?.revision ?? null,
      applied_release: applied,
      last_seen: raw?.last_seen ?? null,
      age_seconds: age,
      proxy_running: report?.proxy_running ?? null,
      proxy: edge.proxy,
      cache: report?.capabilities?.cache ?? null,
      note: note === null ? null : englishOf(note),
      note_code: note,
      error: typeof error === 'string' || error === null ? error : englishOf(error),
      error_code: typeof error === 'string' || error === null ? codeOf(error) : error,
      token_rejected_at: rejected,
      control_plane: report?.control_plane ?? null,
    };
  });
}

/** Says plainly when an edge serves without a cache (a Caddy without the cache module). */
export function proxyNote(
  proxy: 'nginx' | 'caddy',
  cache: boolean | undefined,
): CodedMessage | null {
  if (cache !== false) return null;
  return coded(proxy === 'caddy' ? 'edge_note_caddy_no_cache' : 'edge_note_no_cache');
}

/** A text another module worded, as its code when the table has one, else as it is. */
export function parseOrText(text: string): CodedMessage | string {
  return codeOf(text) ?? text;
}
