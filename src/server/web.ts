// Serves the admin UI (src/web, built by Vite into src/web/dist) at `/`, with index.html for
// client-side routes such as /sites or /status. API and docs paths are never shadowed.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export function webDistDir(): string | undefined {
  for (const rel of ['../web/dist/', '../../src/web/dist/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

/** Registers the UI if it was built; returns whether it was. */
export async function registerWeb(app: FastifyInstance): Promise<boolean> {
  const dir = webDistDir();
  if (dir === undefined) return false;
  const index = readFileSync(`${dir}index.html`);
  await app.register(fastifyStatic, { root: dir, prefix: '/', wildcard: false, index: false });
  const page = async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  app.get('/', { schema: { hide: true } }, page);
  // Client-side routes (e.g. /sites/www.example.com): any other GET that is not the API or the
  // docs. Files of the build have their own routes (registered by @fastify/static above).
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (/^\/(v1|docs|metrics|healthz|install\.sh|assets)(\/|$)/.test(path)) {
      return reply
        .status(404)
        .send({ error: { code: 'not_found', message: `no route GET ${path}` } });
    }
    return page(req, reply);
  });
  return true;
}
