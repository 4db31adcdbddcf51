// JSON over HTTP for DNS provider APIs, with retries on 408/409/429/5xx and network errors:
// exponential backoff, and the server's Retry-After (seconds or an HTTP date) when it sends one.
import { DnsProviderError, type DnsLogger } from './provider.js';

export interface HttpOptions {
  fetch: typeof globalThis.fetch;
  headers: Record<string, string>;
  logger: DnsLogger;
  retryBaseMs: number;
  /** Attempts in all (first try included). */
  attempts?: number;
  /** Names the API in errors ("GCore", "PowerDNS"). */
  api: string;
}

export interface HttpResult {
  status: number;
  body: unknown;
}

const RETRYABLE = (s: number): boolean => s === 408 || s === 409 || s === 429 || s >= 500;

export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends one request; returns status and parsed body for 2xx and 404 (callers decide what a
 * missing object means); throws DnsProviderError for anything else after the retries.
 */
export async function requestJson(
  opts: HttpOptions,
  method: string,
  url: string,
  body?: unknown,
): Promise<HttpResult> {
  const attempts = opts.attempts ?? 4;
  let lastError = '';
  for (let i = 0; i < attempts; i++) {
    let res: Response;
    try {
      res = await opts.fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      lastError = `${opts.api} API unreachable (${(err as Error).message})`;
      if (i + 1 < attempts) {
        await sleep(opts.retryBaseMs * 2 ** i);
        continue;
      }
      throw new DnsProviderError('network', lastError);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.ok || res.status === 404) return { status: res.status, body: parsed };
    const detail = describe(parsed);
    lastError = `${opts.api} API ${method} ${new URL(url).pathname} answered ${res.status}${detail ? `: ${detail}` : ''}`;
    if (res.status === 401 || res.status === 403)
      throw new DnsProviderError('auth', lastError, res.status);
    if (RETRYABLE(res.status) && i + 1 < attempts) {
      const wait = retryAfterMs(res.headers.get('retry-after')) ?? opts.retryBaseMs * 2 ** i;
      opts.logger.warn({ status: res.status, wait_ms: wait, attempt: i + 1 }, 'dns api retry');
      await sleep(Math.min(wait, 60_000));
      continue;
    }
    throw new DnsProviderError('api', lastError, res.status);
  }
  throw new DnsProviderError('api', lastError);
}

function describe(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300);
  if (body !== null && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    // Cloudflare: { errors: [{ code, message }] }; Alibaba: { Code, Message }
    if (Array.isArray(o.errors) && o.errors.length > 0)
      return (o.errors as { code?: unknown; message?: unknown }[])
        .map((e) => `${String(e.code)}: ${String(e.message)}`)
        .join('; ')
        .slice(0, 300);
    if (typeof o.Code === 'string')
      return `${o.Code}${typeof o.Message === 'string' ? `: ${o.Message}` : ''}`.slice(0, 300);
    for (const k of ['error', 'message', 'detail'])
      if (typeof o[k] === 'string') return o[k].slice(0, 300);
    return JSON.stringify(body).slice(0, 300);
  }
  return '';
}
