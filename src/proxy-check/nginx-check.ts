// Checks rendered release files with a real `nginx -t`, laid out exactly as on an edge
// (see the layout contract in nginx.ts). Used by tests, and reusable by the control plane and
// the agent. Nothing here is pure: it writes a temporary tree and runs nginx.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { certificatePaths } from '../bundle/layout.js';
import { renderNginxMain } from './nginx-main.js';

export interface CheckNginxOptions {
  /** Path of the nginx binary, e.g. /usr/sbin/nginx. */
  nginx: string;
  /** Release number: the directory name under releases/. Defaults to 1. */
  release?: number;
  /** Edge name for the main file. Defaults to "check". */
  edgeName?: string;
  /** Domains to give a throwaway self-signed certificate (the plan's `certificates`). */
  certificates?: readonly string[];
  /** Main nginx.conf to use instead of renderNginxMain(). */
  mainConf?: string;
  /** Directory to build the tree in; a fresh temporary one (removed after) by default. */
  root?: string;
  /** openssl binary for certificates. Defaults to "openssl" on PATH. */
  openssl?: string;
  timeoutMs?: number;
}

export interface CheckNginxResult {
  ok: boolean;
  /** nginx -t was stopped after `timeoutMs`: no verdict on the configuration. */
  timedOut: boolean;
  timeoutMs: number;
  /** How long nginx -t ran. */
  ms: number;
  /** nginx's own words (stderr then stdout). */
  output: string;
}

function run(
  file: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; output: string; timedOut: boolean }> {
  return new Promise((done) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      const extra = error !== null && typeof error.code !== 'number' ? error.message : '';
      // execFile kills the child at the timeout: `killed` with no exit code.
      const timedOut = error !== null && error.killed === true && typeof error.code !== 'number';
      done({
        code,
        timedOut,
        output: [stderr, stdout, extra].filter((s) => s !== '').join('\n'),
      });
    });
  });
}

/** Writes `files` under `dir`, refusing paths that would leave it. */
/** A release file to lay out: rendered text, or bytes (an OCSP response). */
export interface ReleaseFile {
  path: string;
  content: string | Buffer;
}

export async function writeReleaseFiles(dir: string, files: readonly ReleaseFile[]) {
  const base = resolve(dir);
  for (const f of files) {
    const target = resolve(base, f.path);
    if (!target.startsWith(base + sep)) throw new Error(`release file path escapes: ${f.path}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.content);
  }
}

let selfSigned: Promise<{ dir: string; crt: string; key: string }> | undefined;

/** One throwaway EC P-256 certificate per process, reused for every domain. */
function selfSignedCertificate(openssl: string, timeoutMs: number) {
  selfSigned ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outpost-selfsigned-'));
    const crt = join(dir, 'x.crt');
    const key = join(dir, 'x.key');
    const r = await run(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=x',
        '-days',
        '2',
        '-keyout',
        key,
        '-out',
        crt,
      ],
      timeoutMs,
    );
    if (r.code !== 0) throw new Error(`openssl failed: ${r.output}`);
    return { dir, crt, key };
  })();
  return selfSigned;
}

/**
 * Gives each of `domains` the same throwaway self-signed certificate and key in `releaseDir`,
 * where the rendered configs look for its real ones.
 */
export async function writeThrowawayCertificates(
  releaseDir: string,
  domains: readonly string[],
  openssl = 'openssl',
  timeoutMs = 20_000,
): Promise<void> {
  if (domains.length === 0) return;
  const cert = await selfSignedCertificate(openssl, timeoutMs);
  for (const domain of domains) {
    const paths = certificatePaths(domain);
    await mkdir(dirname(join(releaseDir, paths.certificate)), { recursive: true });
    await copyFile(cert.crt, join(releaseDir, paths.certificate));
    await copyFile(cert.key, join(releaseDir, paths.key));
  }
}

/**
 * Lays out `files` as release N with a candidate/ main file (and self-signed certificates
 * for `certificates`), then runs `nginx -t -p <root>/ -c <root>/candidate/nginx.conf`.
 */
export async function checkNginxConfig(
  files: readonly ReleaseFile[],
  opts: CheckNginxOptions,
): Promise<CheckNginxResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const release = opts.release ?? 1;
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), 'outpost-nginx-check-')));
  try {
    const releaseDir = join(root, 'releases', String(release));
    await writeReleaseFiles(releaseDir, files);
    await writeThrowawayCertificates(releaseDir, opts.certificates ?? [], opts.openssl, timeoutMs);
    for (const d of ['candidate', 'logs', 'cache', 'tmp'])
      await mkdir(join(root, d), { recursive: true });
    await writeFile(
      join(root, 'candidate', 'nginx.conf'),
      opts.mainConf ?? renderNginxMain({ edgeName: opts.edgeName ?? 'check', workerProcesses: 1 }),
    );
    await rm(join(root, 'candidate', 'release'), { force: true });
    await symlink(join('..', 'releases', String(release)), join(root, 'candidate', 'release'));
    const started = performance.now();
    const r = await run(
      opts.nginx,
      [
        '-t',
        '-q',
        '-p',
        `${root}/`,
        '-c',
        join(root, 'candidate', 'nginx.conf'),
        '-e',
        join(root, 'logs', 'error.log'),
      ],
      timeoutMs,
    );
    return {
      ok: r.code === 0 && !r.timedOut,
      timedOut: r.timedOut,
      timeoutMs,
      ms: performance.now() - started,
      output: r.output,
    };
  } finally {
    if (opts.root === undefined) await rm(root, { recursive: true, force: true });
  }
}
