// Serves the admin UI (src/web, built by Vite into src/web/dist) at `/`, with index.html for
// client-side routes such as /sites or /status. API and docs paths are never shadowed.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export function webDistDir(): string | undefined {
  for (const rel of ['../web/dist/', '../../src/web/dist/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

/**
 * A checkout (src/web/index.html beside the sources) whose UI was never built, e.g. a fresh
 * clone run with `outpost serve` instead of `npm start`: build it with the checkout's Vite (a
 * dev dependency) so that `/` is the UI. An installed package carries dist/web/dist and needs
 * nothing. Returns what happened, for the caller to say.
 */
export async function buildWebIfMissing(): Promise<
  { state: 'present' } | { state: 'built'; dir: string } | { state: 'unavailable'; why: string }
> {
  if (webDistDir() !== undefined) return { state: 'present' };
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const config = join(root, 'src', 'web', 'vite.config.ts');
  if (!existsSync(join(root, 'src', 'web', 'index.html')))
    return { state: 'unavailable', why: 'this installation has no admin UI build (dist/web)' };
  if (!existsSync(vite))
    return {
      state: 'unavailable',
      why: 'the admin UI is not built and Vite is not installed here: run `npm ci` then `npm run build:web`',
    };
  try {
    await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--config', config, '--logLevel', 'warn'],
      {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ');
    return { state: 'unavailable', why: `building the admin UI failed: ${stderr || String(err)}` };
  }
  return { state: 'built', dir: join(root, 'src', 'web', 'dist') };
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
