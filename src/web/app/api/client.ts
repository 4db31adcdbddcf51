// The admin API as the UI uses it: a fetch wrapper with the admin token, the API's errors (code,
// message, problems with paths) as one error class, and the few calls several pages share.
// Every answer's shape is the spec's (src/spec/api.ts, checked against the real server), taken
// as types only: see ./types.ts.
import type {
  ApiErrorAnswer,
  ChangeResult,
  Edge,
  EdgeList,
  EdgeWithToken,
  SiteEdgesStatus,
  SiteList,
  StateAnswer,
  StatusSnapshot,
} from './types.js';

const TOKEN_KEY = 'outpost.admin-token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A problem the API named, by the path of its field (what the form needs of one). */
export type ApiProblem = Pick<
  NonNullable<ApiErrorAnswer['error']['problems']>[number],
  'path' | 'message' | 'code' | 'params'
>;

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

/** What a non-2xx answer may hold: the API's error body, or anything (a proxy's page). */
type ErrorBody = { error?: Partial<ApiErrorAnswer['error']> };

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

export const getState = () => api<StateAnswer>('GET', '/v1/state');
export const getStatus = () => api<StatusSnapshot>('GET', '/v1/status');
// ---- w6-status: one site's probe through every edge (the snapshot lists only where it is down)
export const getSiteEdgesStatus = (domain: string) =>
  api<SiteEdgesStatus>('GET', `/v1/status/sites/${encodeURIComponent(domain)}`);
// ---- end w6-status
export const listEdges = () => api<EdgeList>('GET', '/v1/edges');
export const listSites = () => api<SiteList>('GET', '/v1/sites');

/** Validates and diffs a whole desired state without writing it (`outpost apply --dry-run`). */
export const dryRun = (spec: unknown) =>
  api<ChangeResult>('POST', '/v1/apply', { spec, dry_run: true });

/** An edge as the API takes it back (without the read-only `has_token`). */
export function edgeBody(edge: EdgeWithToken): Edge {
  const body: Partial<EdgeWithToken> = { ...edge };
  delete body.has_token;
  return body as Edge;
}
