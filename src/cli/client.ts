// A small typed client of the control-plane admin API, used by the CLI.
import type { Problem } from '../spec/index.js';

export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
    readonly problems?: Problem[],
  ) {
    super(message);
    this.name = 'ApiClientError';
  }
}

export class ApiClient {
  constructor(
    readonly server: string,
    private readonly token: string,
  ) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = new URL(path, this.server.endsWith('/') ? this.server : `${this.server}/`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : null,
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiClientError(
        0,
        'unreachable',
        `cannot reach the control plane at ${this.server} (${cause})`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let e: { code?: string; message?: string; path?: string; problems?: Problem[] } = {};
      try {
        e = (JSON.parse(text) as { error?: typeof e }).error ?? {};
      } catch {
        /* not JSON: fall through with the status */
      }
      throw new ApiClientError(
        res.status,
        e.code ?? 'http_error',
        e.message ?? `HTTP ${res.status}`,
        e.path,
        e.problems,
      );
    }
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }
}
