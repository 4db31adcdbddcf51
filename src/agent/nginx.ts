// Drives a real nginx master process for the edge: test a candidate, start, reload, check.
// Programs are run with execFile (no shell), with the layout of render/nginx.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BundleManifest } from '../bundle/index.js';
import { CRS_RULES_DIR, MODULES_PATH, NGINX_MODULES } from '../bundle/layout.js';
import { renderNginxMain } from '../proxy-check/nginx-main.js';
import type { MainFile, ProxyCapabilities, ProxyDriver, ProxyRun } from './driver.js';
import { livePid } from './pid-file.js';

export type NginxRun = ProxyRun;

export class NginxDriver implements ProxyDriver {
  readonly proxy = 'nginx';
  readonly validation = 'nginx -t';
  readonly mainFile = 'nginx.conf';

  constructor(
    /** The nginx binary. */
    readonly binary: string,
    /** The agent's root: nginx prefix. */
    readonly root: string,
    /** Worker user when the master runs as root. */
    readonly user?: string,
    /** A syslog server nginx also sends the access log to. */
    readonly syslog?: string,
  ) {}

  /** nginx.conf including `release/nginx/*.conf` through the symlink beside it. */
  main(manifest: BundleManifest): Promise<MainFile> {
    const content = renderNginxMain({
      edgeName: manifest.edge,
      ...(this.user !== undefined ? { user: this.user } : {}),
      ...(this.syslog !== undefined ? { syslog: this.syslog } : {}),
    });
    return Promise.resolve({ ok: true, content });
  }

  validate(conf: string): Promise<ProxyRun> {
    return this.test(conf);
  }

  async activate(conf: string): Promise<ProxyRun> {
    return (await this.running()) ? this.reload(conf) : this.start(conf);
  }

  recover(conf: string): Promise<ProxyRun> {
    return this.activate(conf);
  }

  stop(conf: string): Promise<ProxyRun> {
    return this.quit(conf);
  }

  /** nginx caches with proxy_cache (built into every Debian nginx). */
  capabilities(): Promise<ProxyCapabilities> {
    return Promise.resolve({ cache: true });
  }

  private run(args: string[], timeoutMs = 30_000): Promise<NginxRun> {
    return new Promise((resolve) => {
      execFile(
        this.binary,
        ['-p', `${this.root}/`, '-e', join(this.root, 'logs', 'error.log'), ...args],
        { timeout: timeoutMs, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const output = [
            stderr,
            stdout,
            error && typeof error.code !== 'number' ? error.message : '',
          ]
            .filter((s) => s !== '')
            .join('\n')
            .trim();
          resolve({ ok: error === null, output });
        },
      );
    });
  }

  /**
   * `nginx -t` on a main file (candidate/nginx.conf), naming a missing module's package. The
   * modules the release loads (and the CRS for the WAF) are checked first: every missing one
   * is named with the apt command, and nginx is not asked.
   */
  async test(conf: string): Promise<NginxRun> {
    let modulesConf = '';
    try {
      modulesConf = await readFile(join(dirname(conf), 'release', MODULES_PATH), 'utf8');
    } catch {
      /* an older release without modules.conf: nginx -t decides */
    }
    const missing = missingModules(modulesConf, existsSync);
    if (missing !== undefined) return { ok: false, output: missing };
    const r = await this.run(['-t', '-q', '-c', conf]);
    return r.ok ? r : { ok: false, output: withModuleHint(r.output) };
  }

  /** Starts the master (it daemonises) with the live main file. */
  start(conf: string): Promise<NginxRun> {
    return this.run(['-c', conf]);
  }

  /** Graceful reload: the master re-reads the configuration; old workers finish their requests. */
  reload(conf: string): Promise<NginxRun> {
    return this.run(['-c', conf, '-s', 'reload']);
  }

  /** Graceful stop. */
  quit(conf: string): Promise<NginxRun> {
    return this.run(['-c', conf, '-s', 'quit']);
  }

  pid(): Promise<number | undefined> {
    return livePid(join(this.root, 'logs', 'nginx.pid'));
  }

  async running(): Promise<boolean> {
    return (await this.pid()) !== undefined;
  }

  async version(): Promise<string | undefined> {
    return new Promise((resolve) => {
      execFile(this.binary, ['-v'], { encoding: 'utf8' }, (error, stdout, stderr) => {
        resolve(error ? undefined : /nginx\/(\S+)/.exec(`${stderr}${stdout}`)?.[1]);
      });
    });
  }
}

/**
 * nginx's words when a release loads a dynamic module this machine lacks, followed by the
 * Debian package that has it (the release's nginx/main/modules.conf names them too).
 */
export function withModuleHint(output: string): string {
  for (const m of Object.values(NGINX_MODULES))
    if (output.includes(`${m.file}" failed`))
      return `${output}\nThis release needs the nginx module ${m.file}: install it on the edge with: apt-get install ${m.package}`;
  return output;
}

/**
 * The modules a release's modules.conf loads that this machine lacks (and the OWASP CRS when
 * it loads ModSecurity), as one message with the apt command; undefined when all are there.
 */
export function missingModules(
  modulesConf: string,
  exists: (path: string) => boolean,
): string | undefined {
  const files = [...modulesConf.matchAll(/^load_module "([^"]+)";/gm)].map((m) => m[1] ?? '');
  const missing: string[] = [];
  const packages = new Set<string>();
  for (const file of files) {
    const known = Object.values(NGINX_MODULES).find((m) => file.endsWith(`/${m.file}`));
    const needsCrs = known?.file === NGINX_MODULES.modsecurity.file && !exists(CRS_RULES_DIR);
    if (exists(file) && !needsCrs) continue;
    missing.push(exists(file) ? `the OWASP CRS (${CRS_RULES_DIR})` : file);
    for (const p of (known?.package ?? '').split(' ')) if (p !== '') packages.add(p);
  }
  if (missing.length === 0) return undefined;
  const apt = packages.size > 0 ? ` Install with: apt-get install ${[...packages].join(' ')}` : '';
  return `This release needs nginx modules this edge lacks: ${missing.join(', ')}.${apt}`;
}
