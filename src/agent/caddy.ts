// Drives a real Caddy for the edge (Caddy 2.6 or newer): adapt the release's Caddyfile to JSON,
// validate it, load it through the admin API (an atomic swap; a refused config leaves the old
// one serving) or start Caddy on it, and stop it. Programs run with execFile (no shell).
//
// Layout under the agent's root (besides releases/, live/, candidate/ shared with nginx):
//   live/caddy.json        the adapted config Caddy serves (candidate/caddy.json: being tested)
//   caddy-admin.sock       Caddy's admin API (a Unix socket: no port to collide, owner only)
//   caddy-home/            Caddy's HOME and XDG dirs: its storage (OCSP staples, locks)
//   logs/caddy.pid, logs/caddy.log
// File paths in the JSON name the immutable release directory (releases/<N>/…) directly.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BundleManifest } from '../bundle/index.js';
import { caddyEnvironment, caddyError } from '../proxy-check/caddy-check.js';
import { CADDY_CACHE_MODULE, CADDYFILE, CADDYFILE_CACHE } from '../bundle/layout.js';
import type { MainFile, ProxyCapabilities, ProxyDriver, ProxyRun } from './driver.js';
import { livePid } from './pid-file.js';

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Longest Unix socket path (sun_path is 108 bytes on Linux, with the trailing NUL). */
const MAX_SOCKET_PATH = 107;

export class CaddyDriver implements ProxyDriver {
  readonly proxy = 'caddy';
  readonly validation = 'caddy validate';
  readonly mainFile = 'caddy.json';
  private modules: Promise<string[]> | undefined;

  constructor(
    /** The caddy binary. */
    readonly binary: string,
    /** The agent's root. */
    readonly root: string,
  ) {}

  get adminSocket(): string {
    return join(this.root, 'caddy-admin.sock');
  }

  private get home(): string {
    return join(this.root, 'caddy-home');
  }

  private get pidFile(): string {
    return join(this.root, 'logs', 'caddy.pid');
  }

  private exec(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Exec> {
    return new Promise((resolve) => {
      execFile(
        this.binary,
        args,
        { timeout: timeoutMs, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, cwd: this.root },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          const extra =
            error !== null && typeof error.code !== 'number' ? `\n${error.message}` : '';
          resolve({ code, stdout, stderr: stderr + extra });
        },
      );
    });
  }

  /** `caddy list-modules`, once per agent process. */
  listModules(): Promise<string[]> {
    this.modules ??= this.exec(['list-modules'], caddyEnvironment(this.root, this.home)).then(
      (r) => (r.code === 0 ? r.stdout.split('\n').map((l) => l.trim()) : []),
    );
    return this.modules;
  }

  /** `caddy version`: its first word (v2.6.2), or undefined when it does not run. */
  async version(): Promise<string | undefined> {
    if (!existsSync(this.binary)) return undefined;
    const r = await this.exec(['version'], caddyEnvironment(this.root, this.home), 10_000);
    return r.code === 0 ? r.stdout.trim().split(/\s+/)[0] : undefined;
  }

  async capabilities(): Promise<ProxyCapabilities> {
    if (!existsSync(this.binary)) return { cache: false };
    return { cache: (await this.listModules()).includes(CADDY_CACHE_MODULE) };
  }

  /**
   * Adapts the release's Caddyfile (the `.cache` one when this Caddy has the cache module) to
   * JSON with OUTPOST_RELEASE = the release directory, then sets what is local to this edge:
   * the admin socket, no config persistence, and storage under the agent's root.
   */
  async main(manifest: BundleManifest, releaseDir: string): Promise<MainFile> {
    if (!existsSync(this.binary))
      return {
        ok: false,
        output: `caddy is not installed at ${this.binary}: install it with "apt-get install caddy" (or pass --caddy PATH)`,
      };
    if (this.adminSocket.length > MAX_SOCKET_PATH)
      return { ok: false, output: `the agent root is too long for Caddy's admin socket` };
    if (/[\s"'{}\\]/.test(releaseDir))
      return { ok: false, output: `the agent root must not contain spaces, quotes or braces` };
    const hasCacheFile = manifest.files.some((f) => f.path === CADDYFILE_CACHE);
    const caddyfile =
      (await this.capabilities()).cache && hasCacheFile ? CADDYFILE_CACHE : CADDYFILE;
    const r = await this.exec(
      ['adapt', '--config', join(releaseDir, caddyfile), '--adapter', 'caddyfile'],
      caddyEnvironment(releaseDir, this.home),
    );
    if (r.code !== 0) return { ok: false, output: caddyError(r.stderr) };
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      return { ok: false, output: 'caddy adapt did not print a JSON config' };
    }
    config.admin = { listen: `unix/${this.adminSocket}`, config: { persist: false } };
    config.storage = { module: 'file_system', root: join(this.home, 'data') };
    return { ok: true, content: `${JSON.stringify(config, null, 2)}\n` };
  }

  async validate(configPath: string): Promise<ProxyRun> {
    const r = await this.exec(
      ['validate', '--config', configPath],
      caddyEnvironment(this.root, this.home),
    );
    return { ok: r.code === 0, output: r.code === 0 ? '' : caddyError(r.stderr) };
  }

  async activate(configPath: string): Promise<ProxyRun> {
    return (await this.running()) ? this.load(configPath) : this.start(configPath);
  }

  /**
   * A stop and a start on `configPath`. After a refused /load this is the only clean state:
   * Caddy 2.6 rolls back a config that fails while starting (say, a `bind` to an address the
   * machine lacks) but leaves the servers it had started accepting on the shared listeners,
   * so requests would be answered by the refused release and the old one in turn.
   */
  async recover(configPath: string): Promise<ProxyRun> {
    const stopped = await this.stop();
    if (!stopped.ok) return stopped;
    return this.start(configPath);
  }

  /**
   * POST /load: Caddy swaps configs atomically; a config it refuses is not applied (but see
   * recover()).
   */
  async load(configPath: string): Promise<ProxyRun> {
    const body = await readFile(configPath);
    const res = await this.admin('POST', '/load', body).catch((err: unknown) => ({
      status: 0,
      body: `cannot reach Caddy's admin API at ${this.adminSocket}: ${(err as Error).message}`,
    }));
    if (res.status === 200) return { ok: true, output: '' };
    return { ok: false, output: adminError(res.body) || `HTTP ${res.status}` };
  }

  /**
   * Starts `caddy run` on the config in its own session, output to logs/caddy.log: Caddy keeps
   * serving when the agent stops. Ready once its admin API answers; failed if it exits first.
   */
  async start(configPath: string): Promise<ProxyRun> {
    const log = join(this.root, 'logs', 'caddy.log');
    await mkdir(join(this.root, 'logs'), { recursive: true });
    await mkdir(this.home, { recursive: true, mode: 0o700 });
    const fd = openSync(log, 'a');
    let exited: string | undefined;
    try {
      const child = spawn(this.binary, ['run', '--config', configPath, '--pidfile', this.pidFile], {
        cwd: this.root,
        env: caddyEnvironment(this.root, this.home),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.once('exit', (code, signal) => (exited = `caddy exited (${signal ?? code ?? '?'})`));
      child.once('error', (err) => (exited = err.message));
      child.unref();
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        const tail = await readFile(log, 'utf8').catch(() => '');
        const error = caddyError(tail.split('\n').slice(-20).join('\n'));
        return { ok: false, output: error || exited };
      }
      const up = await this.admin('GET', '/config/').then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) return { ok: true, output: '' };
      await sleep(50);
    }
    return { ok: false, output: 'caddy did not open its admin API within 15 s' };
  }

  async stop(): Promise<ProxyRun> {
    const pid = await this.pid();
    if (pid === undefined) return { ok: true, output: '' };
    await this.admin('POST', '/stop').catch(() => process.kill(pid, 'SIGTERM'));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await this.pid()) === undefined) return { ok: true, output: '' };
      await sleep(50);
    }
    return { ok: false, output: `caddy (pid ${pid}) did not stop within 10 s` };
  }

  pid(): Promise<number | undefined> {
    return livePid(this.pidFile);
  }

  async running(): Promise<boolean> {
    return (await this.pid()) !== undefined;
  }

  private admin(
    method: string,
    path: string,
    body?: Buffer,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.adminSocket,
          path,
          method,
          // On a socket, Caddy 2.6 allows only an empty Host (its origins are [""]).
          setHost: false,
          headers: {
            host: '',
            ...(body !== undefined
              ? { 'content-type': 'application/json', 'content-length': body.length }
              : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.once('timeout', () => req.destroy(new Error('timed out')));
      req.once('error', reject);
      req.end(body);
    });
  }
}

/** The `error` of an admin API answer (`{"error": "…"}`), or its text. */
function adminError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    /* not JSON */
  }
  return body.trim();
}
