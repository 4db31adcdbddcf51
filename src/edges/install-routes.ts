// What a new edge downloads to join, without a token (neither holds a secret):
//   GET /install.sh             deploy/install.sh, the script `outpost edge add` tells it to run
//   GET /v1/agent/outpost.tgz   this very package, packed for `npm install -g`, so every edge
//                               runs the control plane's version
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyPluginAsync } from 'fastify';
import { OutpostError } from '../http/errors.js';

const run = promisify(execFile);

export interface InstallRoutesOptions {
  /** The package to serve: holds package.json, bin/, src/ and deploy/. Default: this one. */
  packageRoot?: string;
  /** The npm binary that packs it. Default: `npm` on the PATH. */
  npm?: string;
}

/** The package root, two levels above this module in src/server/ and in dist/server/ alike. */
const DEFAULT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AgentPackage {
  file: string;
  tarball: Buffer;
}

/** Packs once per process (per package root and npm); a failure is not cached, so it can be retried. */
const packed = new Map<string, Promise<AgentPackage>>();

export function agentPackage(root: string, npm = 'npm'): Promise<AgentPackage> {
  const key = `${npm}\0${root}`;
  let p = packed.get(key);
  if (p === undefined) {
    p = packAgent(root, npm);
    packed.set(key, p);
    p.catch(() => packed.delete(key));
  }
  return p;
}

/** `npm pack` of the package root (tsx, which runs src/, is a runtime dependency). No network. */
async function packAgent(root: string, npm: string): Promise<AgentPackage> {
  const out = await mkdtemp(join(tmpdir(), 'outpost-agent-pack-'));
  try {
    await run(
      npm,
      [
        'pack',
        '--offline',
        '--ignore-scripts',
        '--update-notifier=false',
        '--loglevel=error',
        '--pack-destination',
        out,
      ],
      { cwd: root, timeout: 120_000 },
    );
    const [file] = (await readdir(out)).filter((f) => f.endsWith('.tgz'));
    if (file === undefined) throw new Error('npm pack produced no tarball');
    return { file, tarball: await readFile(join(out, file)) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { path?: string; stderr?: string };
  if (e.code === 'ENOENT' && typeof e.path === 'string') return `${e.path} is not installed`;
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim().split('\n').pop() : undefined;
  return stderr || (err instanceof Error ? err.message : String(err));
}

export const installRoutes =
  (opts: InstallRoutesOptions = {}): FastifyPluginAsync =>
  async (app) => {
    const root = opts.packageRoot ?? DEFAULT_ROOT;
    const npm = opts.npm ?? 'npm';
    const script = join(root, 'deploy', 'install.sh');

    app.get(
      '/install.sh',
      { schema: { tags: ['edges'], summary: 'The script a new edge runs to join (no auth)' } },
      async (req, reply) => {
        let body: Buffer;
        try {
          body = await readFile(script);
        } catch (err) {
          req.log.error({ err, path: script }, 'cannot read the install script');
          throw new OutpostError(
            'install_script_unavailable',
            `the control plane cannot read ${script}; reinstall Outpost on the control plane`,
            // A 503 whose message is meant for the operator who runs the installer.
            { expose: true },
          );
        }
        return reply
          .type('text/x-shellscript; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(body);
      },
    );

    app.get(
      '/v1/agent/outpost.tgz',
      {
        schema: {
          tags: ['edges'],
          summary: "This control plane's outpost package, for `npm install -g` on edges (no auth)",
        },
      },
      async (req, reply) => {
        let pkg: AgentPackage;
        try {
          pkg = await agentPackage(root, npm);
        } catch (err) {
          req.log.error({ err }, 'cannot pack the agent package');
          throw new OutpostError(
            'agent_package_unavailable',
            `the control plane cannot pack the outpost package for edges (${reason(err)}); install npm and tar on the control plane, or install outpost on the edge by hand (docs/deploy.md)`,
            { expose: true },
          );
        }
        return reply
          .type('application/gzip')
          .header('content-disposition', `attachment; filename="${pkg.file}"`)
          .header('cache-control', 'no-store')
          .send(pkg.tarball);
      },
    );
  };
