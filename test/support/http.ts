// Plain HTTP requests to an edge with a chosen Host header (fetch cannot set Host).
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** An answer with its body as bytes (compressed bodies, ranges). */
export interface RawAnswer extends Omit<Answer, 'body'> {
  body: Buffer;
}

export async function httpGet(
  url: string,
  options: Parameters<typeof httpGetRaw>[1] = {},
): Promise<Answer> {
  const r = await httpGetRaw(url, options);
  return { ...r, body: r.body.toString() };
}

export function httpGetRaw(
  url: string,
  options: {
    host?: string;
    headers?: Record<string, string>;
    method?: string;
    timeoutMs?: number;
    /** Local address to send from (a loopback address: 127.0.0.0/8). */
    localAddress?: string;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.host) headers.host = options.host;
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers: flat,
            body: Buffer.concat(chunks),
          });
        });
        res.on('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.once('error', reject);
    req.end();
  });
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
