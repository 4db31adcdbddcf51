// What a new edge downloads from the control plane, without auth (nothing in it is secret):
//   GET /install.sh                      deploy/install.sh, the join script
//   GET /v1/install/agent                the one-file edge agent (built by `npm run release`)
//   GET /v1/install/agent.sha256         its checksum, `HEX  FILE` as sha256sum prints it
//   GET /v1/install/outpost-agent.service  the agent's systemd unit
// The agent executable is built for the control plane's own platform (linux-x64 or
// linux-arm64); its name says which, and install.sh refuses another machine's.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { OutpostError } from '../http/errors.js';
import { docs } from '../http/openapi.js';

export interface InstallRoutesOptions {
  /** The package to serve from: holds deploy/ and dist/. Default: this one. */
  packageRoot?: string;
  /** The agent executable. Default: dist/outpost-agent-linux-ARCH under the package root. */
  agentExecutable?: string;
}

/** The package root, two levels above this module in src/server/ and in dist/server/ alike. */
const DEFAULT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function agentExecutableName(arch: string = process.arch): string {
  return `outpost-agent-linux-${arch}`;
}

export interface AgentExecutable {
  path: string;
  size: number;
  sha256: string;
}

/** Hashes once per file version (path, size, mtime): an upgrade in place is picked up. */
const hashed = new Map<string, Promise<string>>();

export async function agentExecutable(path: string): Promise<AgentExecutable> {
  const st = await stat(path);
  if (!st.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'ENOENT' });
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  let sha = hashed.get(key);
  if (sha === undefined) {
    sha = new Promise<string>((resolve, reject) => {
      const h = createHash('sha256');
      createReadStream(path)
        .on('data', (d) => h.update(d))
        .once('error', reject)
        .once('end', () => resolve(h.digest('hex')));
    });
    hashed.set(key, sha);
    sha.catch(() => hashed.delete(key));
  }
  return { path, size: st.size, sha256: await sha };
}

/** A 503 through the one error mapping; its message is for the operator, so it is exposed. */
function unavailable(
  _reply: FastifyReply,
  code: 'install_script_unavailable' | 'agent_executable_unavailable',
  message: string,
): never {
  throw new OutpostError(code, message, { expose: true });
}

export const installRoutes =
  (opts: InstallRoutesOptions = {}): FastifyPluginAsync =>
  async (app) => {
    const root = opts.packageRoot ?? DEFAULT_ROOT;
    const script = join(root, 'deploy', 'install.sh');
    const unit = join(root, 'deploy', 'outpost-agent.service');
    const agentPath = opts.agentExecutable ?? join(root, 'dist', agentExecutableName());
    const doc = { tag: 'edges', door: 'open' } as const;

    const sendFile =
      (file: string, type: string, code: 'install_script_unavailable') =>
      async (req: { log: { error: (o: object, m: string) => void } }, reply: FastifyReply) => {
        let body: Buffer;
        try {
          body = await readFile(file);
        } catch (err) {
          req.log.error({ err, path: file }, 'cannot read an install file');
          return unavailable(
            reply,
            code,
            `the control plane cannot read ${file}; reinstall Outpost on the control plane`,
          );
        }
        return reply.type(type).header('cache-control', 'no-store').send(body);
      };

    app.get(
      '/install.sh',
      {
        schema: docs({
          ...doc,
          summary: 'The script a new edge runs to join (no auth)',
          answers: { 200: { media: 'text/x-shellscript', description: 'deploy/install.sh' } },
          errors: ['install_script_unavailable'],
        }),
      },
      sendFile(script, 'text/x-shellscript; charset=utf-8', 'install_script_unavailable'),
    );
    app.get(
      '/v1/install/outpost-agent.service',
      {
        schema: docs({
          ...doc,
          summary: "The edge agent's systemd unit (no auth)",
          answers: { 200: { media: 'text/plain', description: 'deploy/outpost-agent.service' } },
          errors: ['install_script_unavailable'],
        }),
      },
      sendFile(unit, 'text/plain; charset=utf-8', 'install_script_unavailable'),
    );

    const withAgent = async (
      reply: FastifyReply,
      log: { error: (o: object, m: string) => void },
      send: (a: AgentExecutable) => FastifyReply,
    ) => {
      let agent: AgentExecutable;
      try {
        agent = await agentExecutable(agentPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          log.error({ err }, 'agent executable');
        return unavailable(
          reply,
          'agent_executable_unavailable',
          `the control plane has no edge agent executable at ${agentPath}: install Outpost from its release tarball, or build it with \`npm run release\` (docs/deploy.md)`,
        );
      }
      return send(agent);
    };

    app.get(
      '/v1/install/agent.sha256',
      {
        schema: docs({
          ...doc,
          summary: "The edge agent executable's SHA-256 (no auth)",
          answers: {
            200: { media: 'text/plain', description: '`HEX  FILE`, as sha256sum prints' },
          },
          errors: ['agent_executable_unavailable'],
        }),
      },
      async (req, reply) =>
        withAgent(reply, req.log, (a) =>
          reply
            .type('text/plain; charset=utf-8')
            .header('cache-control', 'no-store')
            .send(`${a.sha256}  ${basename(a.path)}\n`),
        ),
    );

    app.get(
      '/v1/install/agent',
      {
        schema: docs({
          ...doc,
          summary: 'The edge agent as one executable file, for install.sh (no auth)',
          answers: {
            200: { media: 'application/octet-stream', description: 'The executable' },
          },
          errors: ['agent_executable_unavailable'],
        }),
      },
      async (req, reply) =>
        withAgent(reply, req.log, (a) =>
          reply
            .type('application/octet-stream')
            .header('content-length', a.size)
            .header('content-disposition', `attachment; filename="${basename(a.path)}"`)
            .header('x-outpost-agent-sha256', a.sha256)
            .header('cache-control', 'no-store')
            .send(createReadStream(a.path)),
        ),
    );
  };
