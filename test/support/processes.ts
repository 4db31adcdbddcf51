// Real processes for end-to-end tests: the `outpost` binary, run as a user would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUTPOST_BIN = join(ROOT, 'bin', 'outpost.js');

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `outpost-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `outpost ARGS` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OUTPOST_BIN, ...args], {
      cwd: ROOT,
      env: { ...cleanEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** The environment without any OUTPOST_* variable of the developer's shell. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('OUTPOST_') && v !== undefined) env[k] = v;
  env.XDG_CONFIG_HOME = join(tmpdir(), 'outpost-test-no-config');
  return env;
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output once `pattern` appears in it. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** Starts a long-running process (`outpost serve`, `outpost agent`, nginx …). */
export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: (() => void)[] = [];
  const feed = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(
          () =>
            reject(new Error(`timed out waiting for ${String(pattern)}; output so far:\n${out}`)),
          timeoutMs,
        );
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            clearTimeout(deadline);
            resolve(m);
          } else if (exited) {
            clearTimeout(deadline);
            reject(
              new Error(`process exited while waiting for ${String(pattern)}; output:\n${out}`),
            );
          } else waiters.push(check);
        };
        check();
      }),
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (exited || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Starts `outpost ARGS`. A control plane (`serve`) probes nothing unless the test passes
 * `--probe-interval`: specs in tests name documentation addresses (192.0.2.x, 203.0.113.x)
 * that must never receive traffic from here.
 */
export function startOutpost(
  args: string[],
  env: Record<string, string> = {},
  bin: string = OUTPOST_BIN,
): Running {
  const probes =
    args[0] === 'serve' && !args.includes('--probe-interval') ? ['--probe-interval', '0'] : [];
  return startProcess(process.execPath, [bin, ...args, ...probes], env);
}

export interface ControlPlane {
  server: Running;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
}

/**
 * Starts `outpost serve` on 127.0.0.1 (on `port`, else a free one) with its data in `dataDir`,
 * and waits until it serves.
 */
export async function startControlPlane(
  dataDir: string,
  opts: {
    port?: number;
    args?: string[];
    bin?: string;
    env?: Record<string, string>;
    /** How long to wait for it to serve (default 20 s; a loaded machine's tsx start is slow). */
    startTimeoutMs?: number;
  } = {},
): Promise<ControlPlane> {
  const port = opts.port ?? (await freePort());
  const server = startOutpost(
    [
      'serve',
      '--data-dir',
      dataDir,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
      // Tests keep the secret key in their own temporary dir (the default, beside the data dir,
      // would be one file in the shared /tmp).
      ...(opts.args?.includes('--secret-key-file')
        ? []
        : ['--secret-key-file', join(dataDir, 'secret.key')]),
      ...(opts.args ?? []),
    ],
    opts.env ?? {},
    opts.bin,
  );
  // One that does not come up is stopped, or it would hold the port from the next try.
  await server.waitFor(/Admin API:/, opts.startTimeoutMs).catch(async (err: unknown) => {
    await server.stop('SIGKILL');
    throw err;
  });
  return { server, port, url: `http://127.0.0.1:${port}` };
}

/**
 * The CLI environment of the admin token a control plane gives at its data dir's first start:
 * printed (a checkout, or a terminal), or written to a 0600 file whose path it prints (the
 * compiled package without a terminal, as under systemd).
 */
export async function readAdminEnv(
  cp: ControlPlane,
): Promise<{ OUTPOST_SERVER: string; OUTPOST_TOKEN: string }> {
  const m = await cp.server.waitFor(
    /OUTPOST_TOKEN=(opa_\S+)|the admin token is in (\S+) \(mode 0600\)/,
  );
  const token = m[1] ?? readFileSync(m[2] as string, 'utf8').trim();
  return { OUTPOST_SERVER: cp.url, OUTPOST_TOKEN: token };
}
