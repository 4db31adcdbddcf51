// The admin API as the UI uses it: a fetch wrapper with the admin token, typed answers, and
// the API's errors (code, message, problems with paths) as one error class.
// Shapes of the desired state come from the spec's zod schemas (types only: nothing of zod
// reaches the bundle).
import type { Edge, Problem, Site, Spec, SpecDiff } from '../../spec/index.js';

export type { Edge, Problem, Site, Spec, SpecDiff };

const TOKEN_KEY = 'outpost.admin-token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export interface ApiProblem {
  path: string;
  message: string;
  line?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
    readonly problems: ApiProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The control plane has no such route: a capability it does not have (yet). */
  get routeMissing(): boolean {
    return this.status === 404 && this.message.startsWith('no route ');
  }
}

/** Listeners told when the token is refused, so the app can go back to the login page. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

interface ErrorBody {
  error?: { code?: string; message?: string; path?: string; problems?: ApiProblem[] };
}

export async function errorFrom(res: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    /* not JSON */
  }
  const e = body.error ?? {};
  return new ApiError(
    res.status,
    e.code ?? 'http_error',
    e.message ?? `${res.status} ${res.statusText}`,
    e.path,
    e.problems ?? [],
  );
}

export function authHeaders(token = storedToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** One admin API call. Throws ApiError for any non-2xx answer. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(options.token ?? storedToken()) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && options.token === undefined)
      for (const l of unauthorizedListeners) l();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

// ---- Shapes of the answers (the admin API's contract, docs/api.md) ----

export type EdgeState = 'ok' | 'pending' | 'error' | 'offline' | 'never-seen';
export type Health = 'up' | 'degraded' | 'down' | 'unknown';

export interface TrafficPoint {
  t: string;
  requests: number;
  bytes: number;
  hits: number;
  misses: number;
}

export interface EdgeTraffic {
  requests: number;
  bytes: number;
  hit_ratio: number | null;
  series: TrafficPoint[];
}

export interface EdgeStatus {
  name: string;
  paused: boolean;
  state: EdgeState;
  desired_release: number | null;
  applied_release: number | null;
  last_seen: string | null;
  age_seconds: number | null;
  proxy_running: boolean | null;
  error: string | null;
  health?: Health;
  health_reason?: string | null;
  traffic?: EdgeTraffic;
}

export interface SiteHealth {
  domain: string;
  health: Health;
  reason?: string | null;
}

export interface Alert {
  /** 'edge_down' | 'config_error' | 'cert_expiring' | 'dns_drift' (others shown as they are) */
  kind: string;
  subject: string;
  message: string;
  since?: string | null;
}

export interface StatusAnswer {
  revision: number;
  edges: EdgeStatus[];
  sites?: SiteHealth[];
  alerts?: Alert[];
}

export interface PublicStatus {
  edges: { name: string; state: EdgeState; health: Health }[];
  sites: { domain: string; health: Health }[];
  updated_at: string;
}

export interface ChangeAnswer {
  changed: boolean;
  revision: number;
  diff: SpecDiff;
  text: string;
  edge_tokens: Record<string, string>;
}

export type EdgeWithToken = Edge & { has_token?: boolean };

export interface NewEdgeAnswer {
  edge: Edge;
  revision: number;
  token: string;
  join_command: string;
}

export interface TokenAnswer {
  name: string;
  token: string;
  join_command: string;
}

/** A site's certificate as GET /v1/certificates lists it (one row per site). */
export interface CertificateRow {
  domain: string;
  names: string[];
  certificate_names: string[] | null;
  source: 'acme' | 'upload' | null;
  issuer: string | null;
  not_after: string | null;
  days_left: number | null;
  next_renewal: string | null;
  failures: number;
  last_error: string | null;
  acme: boolean;
  challenge: string | null;
  problem: string | null;
  edges: string[];
}

export interface CertificateAttempt {
  id: string;
  domain: string;
  done: boolean;
  ok: boolean | null;
  events: { seq: number; at: string; step: string; message: string }[];
}

export interface ProviderRRset {
  name: string;
  type: string;
  ttl: number;
  body: unknown;
  managed?: boolean;
}

export interface DnsPlan {
  provider: string | null;
  zones: {
    zone: string;
    changes: {
      action: 'create' | 'replace' | 'delete';
      name: string;
      type: string;
      before: ProviderRRset | null;
      after: ProviderRRset | null;
    }[];
    obsolete: { name: string; type: string }[];
    unmanaged: { name: string; type: string; conflict: boolean }[];
    error: string | null;
  }[];
  problems: { site: string; message: string }[];
}

export interface DnsStatus {
  provider: string | null;
  syncing: boolean;
  last_sync: string | null;
  zones: {
    zone: string;
    state: 'in_sync' | 'pending' | 'error';
    pending_changes: number;
    obsolete: number;
    unmanaged: number;
    error: string | null;
    checked_at: string;
  }[];
}

export const getState = () => api<{ spec: Spec; revision: number }>('GET', '/v1/state');
export const getStatus = () => api<StatusAnswer>('GET', '/v1/status');
export const listEdges = () =>
  api<{ revision: number; edges: EdgeWithToken[] }>('GET', '/v1/edges');
export const listSites = () => api<{ revision: number; sites: Site[] }>('GET', '/v1/sites');

/** Validates and diffs a whole desired state without writing it (`outpost apply --dry-run`). */
export const dryRun = (spec: unknown) =>
  api<ChangeAnswer>('POST', '/v1/apply', { spec, dry_run: true });

/** An edge as the API takes it back (without the read-only `has_token`). */
export function edgeBody(edge: EdgeWithToken): Edge {
  const copy: EdgeWithToken = { ...edge };
  delete copy.has_token;
  return copy;
}
