// `outpost serve` from a checkout whose admin UI was never built (a fresh clone, no `npm start`):
// it builds the UI and serves it at `/`. A temporary copy of the checkout, so the shared build
// (src/web/dist) that other tests use is never touched.
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, startProcess, tempDir, type Running } from '../support/processes.js';

describe('outpost serve builds a missing admin UI in a checkout', () => {
  const dir = tempDir('serve-ui');
  let server: Running | undefined;
  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  it('GET / is the UI, built at start from src/web', async () => {
    const clone = join(dir.path, 'clone');
    for (const f of ['package.json', 'tsconfig.json', 'bin'])
      cpSync(join(ROOT, f), join(clone, f), { recursive: true });
    cpSync(join(ROOT, 'src'), join(clone, 'src'), {
      recursive: true,
      filter: (src) => !src.startsWith(join(ROOT, 'src', 'web', 'dist')),
    });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    expect(existsSync(join(clone, 'src', 'web', 'dist'))).toBe(false);

    const port = await freePort();
    server = startProcess(process.execPath, [
      join(clone, 'bin', 'outpost.js'),
      'serve',
      '--data-dir',
      join(dir.path, 'data'),
      '--listen',
      `127.0.0.1:${port}`,
      '--probe-interval',
      '0',
      '--log-level',
      'warn',
    ]);
    await server.waitFor(/Admin API:/, 180_000);
    expect(server.output()).toContain('Built the admin UI into');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toMatch(/<script type="module"[^>]*src="\/assets\//);
    // A client-side route is the UI too; the API stays the API.
    expect((await fetch(`http://127.0.0.1:${port}/sites`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/v1/state`)).status).toBe(401);
    expect(existsSync(join(clone, 'src', 'web', 'dist', 'index.html'))).toBe(true);
  }, 240_000);
});
