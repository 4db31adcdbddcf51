// A small origin for end-to-end tests: HTTP or HTTPS, with a log of every request it saw
// (path, Host, SNI) and a few routes that exercise caching.
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SeenRequest {
  path: string;
  host: string;
  sni: string | undefined;
  method: string;
}

export interface TestOrigin {
  port: number;
  seen: SeenRequest[];
  count: (path: string) => number;
  /**
   * Stops answering at once, as a killed process would: every open connection is cut and
   * the port refuses new ones until `start`.
   */
  stop: () => Promise<void>;
  /** Listens again on the same address and port (after `stop`). */
  start: () => Promise<void>;
  /** Whether it listens now. */
  readonly up: boolean;
  close: () => Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Default routes: static assets cacheable for 5 minutes, an API never cacheable. */
export const defaultRoutes: Record<string, Route> = {
  '/api/x': (_req, res) => {
    res.setHeader('cache-control', 'max-age=300'); // cacheable by headers, but no rule matches
    res.end('api');
  },
};

export async function startOrigin(options: {
  tls?: { cert: string; key: string };
  routes?: Record<string, Route>;
  host?: string;
}): Promise<TestOrigin> {
  const seen: SeenRequest[] = [];
  const routes = { ...defaultRoutes, ...options.routes };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push({
      path,
      host: req.headers.host ?? '',
      sni: (req.socket as TLSSocket).servername || undefined,
      method: req.method ?? 'GET',
    });
    const route = routes[path];
    if (route) {
      void Promise.resolve(route(req, res));
      return;
    }
    res.setHeader('cache-control', 'max-age=300');
    res.setHeader('content-type', 'text/plain');
    res.end(`origin says ${path}`);
  };
  const server: Server = options.tls
    ? createHttps({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttp(handler);
  const host = options.host ?? '127.0.0.1';
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    count: (path) => seen.filter((s) => s.path === path).length,
    stop,
    start: () => (server.listening ? Promise.resolve() : listen(port)),
    get up() {
      return server.listening;
    },
    close: stop,
  };
}
