// Checks a rendered Caddy release with a real `caddy validate` (adapt + provision every module,
// load the certificate and trust files), laid out as on an edge with a throwaway certificate
// per listed domain. Used by the golden tests and the control plane's opt-in check. Not pure.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CADDY_RELEASE_VARIABLE, caddyfilePath, type RenderedFile } from '../bundle/layout.js';
import { inheritedPath } from '../config/config.js';
import { writeReleaseFiles, writeThrowawayCertificates } from './nginx-check.js';

export interface CheckCaddyOptions {
  /** Path of the caddy binary, e.g. /usr/bin/caddy. */
  caddy: string;
  /** Domains to give a throwaway self-signed certificate. */
  certificates?: readonly string[];
  /** Check the Caddyfile for a Caddy with the cache module (needs such a build). */
  cache?: boolean;
  openssl?: string;
  timeoutMs?: number;
}

export interface CheckCaddyResult {
  ok: boolean;
  /** Caddy's error, without its JSON log lines. */
  output: string;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<Run>((done) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      const extra = error !== null && typeof error.code !== 'number' ? `\n${error.message}` : '';
      done({ code, stdout, stderr: stderr + extra });
    });
  });
}

/** Caddy's own words from its stderr: the `Error:` line(s), not the JSON log lines. */
export function caddyError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
  return lines.join('\n').trim();
}

/** The environment for caddy adapt/validate: the release directory and a private data dir. */
export function caddyEnvironment(releaseDir: string, dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: inheritedPath(),
    HOME: dataDir,
    XDG_DATA_HOME: join(dataDir, 'data'),
    XDG_CONFIG_HOME: join(dataDir, 'config'),
    [CADDY_RELEASE_VARIABLE]: releaseDir,
  };
}

/** Lays out `files` as a release and runs `caddy validate` on its Caddyfile. */
export async function checkCaddyConfig(
  files: readonly RenderedFile[],
  opts: CheckCaddyOptions,
): Promise<CheckCaddyResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const root = await mkdtemp(join(tmpdir(), 'outpost-caddy-check-'));
  try {
    const release = join(root, 'release');
    await writeReleaseFiles(release, files);
    await writeThrowawayCertificates(release, opts.certificates ?? [], opts.openssl, timeoutMs);
    const config = join(release, caddyfilePath(opts.cache ?? false));
    const r = await run(
      opts.caddy,
      ['validate', '--config', config, '--adapter', 'caddyfile'],
      caddyEnvironment(release, join(root, 'home')),
      timeoutMs,
    );
    return { ok: r.code === 0, output: r.code === 0 ? '' : caddyError(r.stderr) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
