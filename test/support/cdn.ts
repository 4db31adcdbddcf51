// A real CDN on loopback for end-to-end tests: a control plane (`outpost serve`) and edges,
// each a real nginx driven by a real `outpost agent` on its own 127.0.0.x address.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, httpGet } from './http.js';
import {
  freePort,
  readAdminEnv,
  runCli,
  startControlPlane,
  startOutpost,
  tempDir,
  type ControlPlane,
  type Running,
} from './processes.js';

export const NGINX = '/usr/sbin/nginx';

export interface EdgeStatusRow {
  name: string;
  state: string;
  applied_release: number | null;
  desired_release: number | null;
  error: string | null;
  health?: string;
}

export interface CdnOptions<E extends string> {
  /** Edge name → loopback address it listens on. */
  edges: Record<E, string>;
  /** Extra `outpost serve` flags. */
  serveArgs?: string[];
  /** Extra environment of `outpost serve` (e.g. the variables of the spec's env: secrets). */
  serveEnv?: Record<string, string>;
  /** Extra `outpost agent` flags. */
  agentArgs?: string[];
  /** The `outpost` the control plane runs from (default bin/outpost.js: the sources). */
  outpostBin?: string;
  /** How long a control plane may take to start serving (default 20 s). */
  startTimeoutMs?: number;
}

export class TestCdn<E extends string> {
  readonly tmp = tempDir('cdn');
  cpUrl = '';
  cpPort = 0;
  /** The HTTP port every edge listens on (HTTPS is the next one). */
  edgePort = 0;
  adminEnv: Record<string, string> = {};
  cp!: Running;
  readonly agents: Partial<Record<E, Running>> = {};
  readonly tokens: Partial<Record<E, string>> = {};

  constructor(readonly opts: CdnOptions<E>) {
    // nginx workers run as www-data and must reach the edge roots.
    chmodSync(this.tmp.path, 0o755);
  }

  get edgeNames(): E[] {
    return Object.keys(this.opts.edges) as E[];
  }

  address(edge: E): string {
    return this.opts.edges[edge];
  }

  root(edge: E): string {
    return join(this.tmp.path, `edge-${edge}`);
  }

  /** Starts the control plane and reads the admin token it prints. */
  async start(): Promise<void> {
    const first = this.edgeNames[0];
    this.edgePort = await freePort(first ? this.address(first) : '127.0.0.1');
    this.adminEnv = await readAdminEnv(await this.startCp());
  }

  /** Starts the control plane: again on the same port and data after a stop. */
  async startCp(): Promise<ControlPlane> {
    const cp = await startControlPlane(join(this.tmp.path, 'cp'), {
      ...(this.cpPort ? { port: this.cpPort } : {}),
      args: this.opts.serveArgs ?? [],
      ...(this.opts.serveEnv !== undefined ? { env: this.opts.serveEnv } : {}),
      ...(this.opts.outpostBin !== undefined ? { bin: this.opts.outpostBin } : {}),
      ...(this.opts.startTimeoutMs !== undefined
        ? { startTimeoutMs: this.opts.startTimeoutMs }
        : {}),
    });
    this.cp = cp.server;
    this.cpPort = cp.port;
    this.cpUrl = cp.url;
    return cp;
  }

  /** An edge's entry in a spec: name, address and the CDN's ports (more keys may follow). */
  edgeYaml(edge: E, addresses: readonly string[] = [this.address(edge)]): string {
    return `  - name: ${edge}
    host: {v4: ${this.address(edge)}}
    listen: {addresses: [${addresses.join(', ')}], http: ${this.edgePort}, https: ${this.edgePort + 1}}
`;
  }

  /** Applies a spec with the CLI; tokens of edges it creates are saved in 0600 files. */
  async apply(yaml: string): Promise<string> {
    const file = join(this.tmp.path, 'outpost.yaml');
    writeFileSync(file, yaml);
    const r = await runCli(['apply', '-f', file], this.adminEnv);
    if (r.code !== 0) throw new Error(`outpost apply failed (${r.code}):\n${r.stderr}${r.stdout}`);
    for (const edge of this.edgeNames) {
      const token = new RegExp(`New edge ${edge}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        r.stdout,
      )?.[1];
      if (token) {
        this.tokens[edge] = token;
        writeFileSync(join(this.tmp.path, `token-${edge}`), `${token}\n`, { mode: 0o600 });
      }
    }
    return r.stdout;
  }

  cli(args: string[]) {
    return runCli(args, this.adminEnv);
  }

  startAgent(edge: E): void {
    this.agents[edge] = startOutpost([
      'agent',
      '--server',
      this.cpUrl,
      '--token-file',
      join(this.tmp.path, `token-${edge}`),
      '--root',
      this.root(edge),
      '--report-interval',
      '1',
      '--log-level',
      'info',
      ...(this.opts.agentArgs ?? []),
    ]);
  }

  /** Starts every edge's agent and waits until each applied its first release. */
  startAgents(): Promise<EdgeStatusRow[]> {
    for (const edge of this.edgeNames) this.startAgent(edge);
    return this.allApplied();
  }

  /** Stops an edge's proxy (its agent does not: the proxy outlives the agent by design). */
  stopProxy(edge: E): void {
    const logs = join(this.root(edge), 'logs');
    if (existsSync(join(logs, 'nginx.pid'))) {
      const conf = join(this.root(edge), 'live', 'nginx.conf');
      try {
        execFileSync(NGINX, ['-p', `${this.root(edge)}/`, '-c', conf, '-s', 'quit'], {
          stdio: 'pipe',
        });
      } catch {
        /* not running */
      }
    }
    if (existsSync(join(logs, 'caddy.pid'))) {
      try {
        process.kill(Number(readFileSync(join(logs, 'caddy.pid'), 'utf8').trim()), 'SIGTERM');
      } catch {
        /* not running */
      }
    }
  }

  async status(): Promise<EdgeStatusRow[]> {
    const res = await fetch(`${this.cpUrl}/v1/status`, {
      headers: { authorization: `Bearer ${this.adminEnv.OUTPOST_TOKEN}` },
    });
    return ((await res.json()) as { edges: EdgeStatusRow[] }).edges;
  }

  async releases(): Promise<Record<string, number>> {
    return Object.fromEntries((await this.status()).map((r) => [r.name, r.desired_release ?? 0]));
  }

  /** Waits until every edge applied its newest release, newer than `after` when given. */
  allApplied(after: Partial<Record<string, number>> = {}): Promise<EdgeStatusRow[]> {
    return eventually('every edge to apply its newest release', async () => {
      const rows = await this.status();
      const done = rows.every(
        (r) =>
          r.desired_release !== null &&
          r.applied_release === r.desired_release &&
          r.desired_release > (after[r.name] ?? 0),
      );
      return done ? rows : undefined;
    });
  }

  get(edge: E, path: string, host: string, headers: Record<string, string> = {}) {
    return httpGet(`http://${this.address(edge)}:${this.edgePort}${path}`, { host, headers });
  }

  async close(): Promise<void> {
    for (const edge of this.edgeNames) {
      await this.agents[edge]?.stop();
      this.stopProxy(edge);
    }
    await this.cp?.stop();
    this.tmp.remove();
  }
}
