// The edge agent: pull the edge's signed bundle (long-poll), verify it against the key pinned
// at join time, write it as a new release, validate it with the edge's proxy (nginx -t, or
// caddy adapt + validate), switch atomically, reload gracefully, check the new release
// answers, and roll back on any failure. The last good release stays on disk and is served
// through control-plane outages and reboots. The proxy is the bundle's `proxy`: a ProxyDriver
// (nginx.ts, caddy.ts) does what differs between them.
//
// Layout under the root (see src/render/nginx.ts):
//   agent.json        pinned key, edge name, applied and failed releases
//   releases/<N>/     immutable releases
//   live/             nginx.conf or caddy.json + release -> ../releases/<N>   (what is served)
//   candidate/        the same for release <M>                  (what is validated)
//   logs/ cache/ tmp/
import { request } from 'node:http';
import { chmod, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  BundleVerificationError,
  inlineBlobs,
  verifyBundle,
  type BundleManifest,
  type ResolvedFile,
} from '../bundle/index.js';
import { fetchReleaseFiles } from './fetch-files.js';
import { CACHE_DIR, STUB_STATUS_PATH, WAF_LOG_PATH } from '../bundle/layout.js';
import type { EdgeReport, LogRequest, PurgeJob, PurgeResult } from '../spec/index.js';
import { ControlPlaneClient, ControlPlaneError, type RefusedPurge } from './control-plane.js';
import { readSymlink, replaceSymlink, writeFileAtomic } from './files.js';
import { writeReleaseDir } from './release-files.js';
import { CaddyDriver } from './caddy.js';
import type { ProxyDriver, ProxyKind } from './driver.js';
import { NginxDriver } from './nginx.js';
import { AccessLogCounter } from './traffic.js';
import { searchLog } from './log-search.js';
import { ResourceSampler } from './resources.js';
import { WafLogCounter } from './waf-log.js';
import { purgeCache } from './cache-purge.js';
import { unenterableParent } from './root-access.js';

export const AGENT_VERSION = '0.1.0';
/** The longest wait between two attempts to reach the control plane. */
const MAX_BACKOFF_MS = 10_000;
/** First wait before installing again a release whose install failed (disk full…); doubles. */
const INSTALL_RETRY_MS = 5_000;
const MAX_INSTALL_RETRY_MS = 300_000;
/** The live probe waits at least this long, and this many times the release's validation. */
const PROBE_FLOOR_MS = 10_000;
const PROBE_FACTOR = 5;
/** Debian's caddy package. */
export const DEFAULT_CADDY = '/usr/bin/caddy';

export interface AgentOptions {
  /** The control plane's URL, or several in order of preference (failover: control-plane.ts). */
  server: string | readonly string[];
  /** On a fallback control plane, how often the preferred ones are tried again (default 60 s). */
  preferAfterMs?: number;
  token: string;
  root: string;
  nginx: string;
  /** The caddy binary, for an edge whose bundles say `proxy: caddy` (default /usr/bin/caddy). */
  caddy?: string;
  logger: Logger;
  /** Accept a plain http:// control plane that is not on loopback. */
  insecureHttp?: boolean;
  /** Expected `sha256:…` fingerprint of the signing key at join time. */
  pin?: string;
  /** Worker user for nginx when the agent runs as root. */
  nginxUser?: string;
  waitSeconds?: number;
  reportIntervalMs?: number;
  /** Rotation of the JSON access log (default 64 MiB, 5 rotated files kept). */
  accessLog?: { maxBytes: number; keep: number };
  /** A syslog server nginx also sends each access-log line to (docs/logs.md). */
  accessLogSyslog?: string;
  /** How many releases to keep on disk. */
  keepReleases?: number;
  /** First wait before retrying a release whose install failed (default 5 s; doubles to 5 min). */
  installRetryMs?: number;
}

const AgentState = z.object({
  edge: z.string(),
  public_key: z.string(),
  fingerprint: z.string(),
  applied: z
    .object({
      release: z.number(),
      hash: z.string(),
      probe_url: z.string().optional(),
      /** The proxy serving it (absent in state written before Caddy edges: nginx). */
      proxy: z.enum(['nginx', 'caddy']).optional(),
    })
    .nullable(),
  failed: z.object({ release: z.number(), hash: z.string(), error: z.string() }).nullable(),
});
type AgentState = z.infer<typeof AgentState>;

/** In the agent's root: whether the control plane answers (read by `outpost agent status`). */
export const CONTROL_PLANE_FILE = 'control-plane.json';

export class AgentSetupError extends Error {}

/**
 * How long the live probe waits for a release: it follows the measured validation time (a
 * machine that took 8 s for `nginx -t` will take a while to reload too), with a floor.
 */
export function probeDeadlineMs(validationMs: number): number {
  return Math.max(PROBE_FLOOR_MS, Math.ceil(validationMs * PROBE_FACTOR));
}

/** The release did not go live in time: rolled back, and tried again later (not failed). */
class ProbeTimeout extends Error {}

export class Agent {
  private state!: AgentState;
  private readonly cp: ControlPlaneClient;
  private readonly drivers: Record<ProxyKind, ProxyDriver>;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly startedAt = new Date().toISOString();
  private lastError: string | null = null;
  /** How long the last validation of a release took (ms), for the report; null before one. */
  private validationMs: number | null = null;
  /** Hash of a bundle that failed verification: not fetched again until it changes. */
  private rejectedHash: string | undefined;
  /**
   * A release whose install failed for a reason of this machine (disk full, permissions): not
   * the release's fault, so it is retried, but not fetched again before `at` (backoff).
   */
  private installRetry: { hash: string; attempts: number; at: number } | undefined;
  private loops: Promise<void>[] = [];
  /** Traffic counted from nginx's access log, kept until the control plane accepts a report. */
  private readonly traffic: AccessLogCounter;
  private readonly waf: WafLogCounter;
  /** The local listener of the applied release (from its manifest). */
  private probeUrl: string | undefined;
  /** CPU, memory, disks, network…, kept until the control plane accepts a report. */
  private readonly resources: ResourceSampler;
  /** The proxy's version, asked again every 10 minutes (an upgrade changes it). */
  private proxyVersion: { proxy: ProxyKind; at: number; version: string | undefined } | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.cp = new ControlPlaneClient(opts.server, opts.token, {
      insecureHttp: opts.insecureHttp === true,
      ...(opts.preferAfterMs !== undefined ? { preferAfterMs: opts.preferAfterMs } : {}),
      onSwitch: (from, to, reason) => {
        this.log.warn({ from, to, reason }, `now talking to the control plane at ${to}`);
        void this.noteControlPlane(undefined);
      },
    });
    this.drivers = {
      nginx: new NginxDriver(opts.nginx, opts.root, opts.nginxUser, opts.accessLogSyslog),
      caddy: new CaddyDriver(opts.caddy ?? DEFAULT_CADDY, opts.root),
    };
    this.log = opts.logger;
    this.traffic = new AccessLogCounter(join(opts.root, 'logs', 'access.json'));
    this.waf = new WafLogCounter(join(opts.root, WAF_LOG_PATH));
    this.resources = new ResourceSampler({
      proc: '/proc',
      cacheDir: join(opts.root, CACHE_DIR),
      stateDir: opts.root,
      proxyVersion: () => this.activeProxyVersion(),
      now: () => new Date(),
    });
  }

  private async activeProxyVersion(): Promise<string | undefined> {
    const driver = this.active;
    const v = this.proxyVersion;
    if (v && v.proxy === driver.proxy && Date.now() - v.at < 600_000) return v.version;
    const version = await driver.version();
    this.proxyVersion = { proxy: driver.proxy, at: Date.now(), version };
    return version;
  }

  /** What control-plane.json last said (written only when it changes). */
  private cpNote: string | undefined;

  /**
   * Whether the control plane answers, for `outpost agent status` (it reads the state dir):
   * written to control-plane.json when that changes, and said once in the log.
   */
  private async noteControlPlane(error: string | undefined): Promise<void> {
    const key = `${this.cp.server} ${error ?? 'ok'}`;
    if (this.cpNote === key) return;
    this.cpNote = key;
    if (error !== undefined) this.log.error({ server: this.cp.server }, error);
    const note = {
      server: this.cp.server,
      servers: this.cp.servers,
      reachable: error === undefined,
      error: error ?? null,
      since: new Date().toISOString(),
    };
    await writeFileAtomic(
      this.path(CONTROL_PLANE_FILE),
      JSON.stringify(note, null, 2) + '\n',
      0o644,
    ).catch(() => undefined);
  }

  private path(...parts: string[]): string {
    return join(this.opts.root, ...parts);
  }

  /** The driver of the proxy serving the applied release (nginx before any). */
  private get active(): ProxyDriver {
    return this.drivers[this.state.applied?.proxy ?? 'nginx'];
  }

  /** Prepares the layout, joins if needed, serves the last good release, then starts the loops. */
  async start(): Promise<void> {
    if (this.opts.nginxUser !== undefined) {
      const blocked = await unenterableParent(this.opts.root, this.opts.nginxUser);
      if (blocked !== undefined)
        throw new AgentSetupError(
          `--root ${this.opts.root}: nginx's worker user ${this.opts.nginxUser} cannot enter ${blocked.dir} (mode ${blocked.mode.toString(8).padStart(4, '0')}), so every cached request would fail with 500; fix: chmod o+x ${blocked.dir}, or use a --root it can reach (the default is /var/lib/outpost-agent)`,
        );
    }
    await mkdir(this.opts.root, { recursive: true });
    await chmod(this.opts.root, 0o755); // nginx workers (an unprivileged user) need to traverse it
    for (const d of ['releases', 'live', 'candidate', 'logs', 'cache', 'tmp']) {
      await mkdir(this.path(d), { recursive: true, mode: 0o755 });
    }
    this.state = await this.loadOrJoin();
    this.cp.trust({ publicKeyPem: this.state.public_key, edge: this.state.edge });
    this.probeUrl = this.state.applied?.probe_url;
    // Lines already in the log were counted by an earlier run (or belong to no report).
    await this.traffic.skipExisting();
    await this.waf.skipExisting();
    this.log.info({ edge: this.state.edge, fingerprint: this.state.fingerprint }, 'agent started');
    await this.serveLastGood();
    this.loops = [this.pullLoop(), this.reportLoop()];
  }

  async stop(options: { stopProxy?: boolean } = {}): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
    const proxy = this.active;
    if (options.stopProxy && (await proxy.running())) {
      await proxy.stop(this.path('live', proxy.mainFile));
    }
  }

  get edge(): string {
    return this.state.edge;
  }

  private async loadOrJoin(): Promise<AgentState> {
    const file = this.path('agent.json');
    try {
      return AgentState.parse(JSON.parse(await readFile(file, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new AgentSetupError(
          `${file} is unreadable (${(err as Error).message}); remove it to join again`,
        );
      }
    }
    const hello = await this.retry('join', () => this.cp.hello());
    if (this.opts.pin !== undefined && hello.fingerprint !== this.opts.pin) {
      throw new AgentSetupError(
        `the control plane's signing key is ${hello.fingerprint}, not the pinned ${this.opts.pin}: refusing to join`,
      );
    }
    const state: AgentState = {
      edge: hello.edge,
      public_key: hello.public_key,
      fingerprint: hello.fingerprint,
      applied: null,
      failed: null,
    };
    await this.saveState(state);
    this.log.info({ edge: hello.edge }, 'joined the control plane; signing key pinned');
    return state;
  }

  private async saveState(state: AgentState = this.state): Promise<void> {
    await writeFileAtomic(this.path('agent.json'), JSON.stringify(state, null, 2) + '\n', 0o600);
  }

  /** After a restart or reboot: the proxy serves the last good release without the control plane. */
  private async serveLastGood(): Promise<void> {
    const proxy = this.active;
    const live = await readSymlink(this.path('live', 'release'));
    if (live === undefined || (await proxy.running())) return;
    // Back from a reboot or an outage: run the purges made meanwhile before serving from the
    // cache again, if the control plane answers quickly (if not, serving comes first).
    const pending = await this.cp
      .poll(this.state.applied?.hash, 0, AbortSignal.timeout(3000))
      .then(async (a) => (await this.refuse(a.refused), a.purges))
      .catch(() => []);
    if (pending.length > 0) await this.purge(pending);
    const r = await proxy.activate(this.path('live', proxy.mainFile));
    const release = this.state.applied?.release;
    if (r.ok) this.log.info({ release }, `started ${proxy.proxy} on the last good release`);
    else
      this.log.error(
        { output: r.output },
        `could not start ${proxy.proxy} on the last good release`,
      );
  }

  private async pullLoop(): Promise<void> {
    let backoff = 1000;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        let wait = this.opts.waitSeconds ?? 30;
        let known = this.rejectedHash ?? this.state.failed?.hash ?? this.state.applied?.hash;
        const retry = this.installRetry;
        if (retry !== undefined && Date.now() < retry.at) {
          // Until the backoff ends, the release that failed to install counts as known.
          known = retry.hash;
          wait = Math.max(1, Math.min(wait, Math.ceil((retry.at - Date.now()) / 1000)));
        }
        const answer = await this.cp.poll(known, wait, signal);
        backoff = 1000;
        await this.noteControlPlane(undefined);
        // Answered beside the loop: a release being validated does not hold a log request.
        if (answer.logs.length > 0) this.answerLogs(answer.logs);
        if (answer.bundle) await this.apply(answer.bundle.body, answer.bundle.hash);
        await this.refuse(answer.refused);
        if (answer.purges.length > 0) await this.purge(answer.purges);
      } catch (err) {
        if (signal.aborted) return;
        const message = err instanceof ControlPlaneError ? err.message : (err as Error).message;
        if (err instanceof ControlPlaneError) await this.noteControlPlane(message);
        this.log.warn({ err: message, retry_ms: backoff }, 'pull failed; retrying');
        await sleep(backoff + Math.floor(Math.random() * 250), undefined, { signal }).catch(
          () => undefined,
        );
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async reportLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.report().catch((err: unknown) =>
        this.log.debug({ err: (err as Error).message }, 'report failed'),
      );
      await sleep(this.opts.reportIntervalMs ?? 10_000, undefined, { signal }).catch(
        () => undefined,
      );
    }
  }

  async report(): Promise<void> {
    await this.traffic
      .read()
      .catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'cannot read the access log'),
      );
    await this.waf
      .read()
      .catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'cannot read the WAF log'),
      );
    await this.rotateLogs().catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'cannot rotate the logs'),
    );
    const traffic = this.traffic.peek();
    this.waf.addTo(traffic);
    await this.resources
      .sample()
      .catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'cannot read the machine resources'),
      );
    const resources = this.resources.peek();
    const report: EdgeReport = {
      agent_version: AGENT_VERSION,
      applied_release: this.state.applied?.release ?? null,
      applied_hash: this.state.applied?.hash ?? null,
      failed_release: this.state.failed?.release ?? null,
      last_error: this.lastError ?? this.state.failed?.error ?? null,
      proxy: this.active.proxy,
      proxy_running: await this.active.running(),
      capabilities: await this.active.capabilities(),
      started_at: this.startedAt,
      active_connections: await this.activeConnections(),
      validation_ms: this.validationMs,
      traffic,
      resources,
    };
    await this.cp.report(report);
    this.traffic.acknowledge(traffic);
    this.resources.acknowledge(resources);
    this.waf.acknowledge(traffic);
  }

  /**
   * Keeps the JSON access log and the WAF log bounded on disk, with the same limits: at its size
   * limit a log is renamed and nginx told to reopen its logs (SIGUSR1 to the master: no reload,
   * no configuration read). Caddy edges write neither.
   */
  private async rotateLogs(): Promise<void> {
    const limits = this.opts.accessLog ?? { maxBytes: 64 * 1024 * 1024, keep: 5 };
    if (this.active.proxy !== 'nginx') return;
    const nginx = this.drivers.nginx as NginxDriver;
    const rotation = {
      ...limits,
      reopen: async () => {
        const pid = await nginx.pid();
        if (pid !== undefined) process.kill(pid, 'SIGUSR1');
      },
    };
    for (const log of [this.traffic, this.waf]) {
      if (await log.rotate(rotation))
        this.log.info({ log: log.path, keep: limits.keep }, 'log rotated');
    }
  }

  /** Log requests being answered (a few at once; more are left to time out). */
  private logsInFlight = 0;

  /**
   * Answers log requests from the edge's own rotated JSON log (log-search.ts): the matching
   * lines only, bounded. Caddy edges write no access.json: they answer with an error.
   */
  private answerLogs(requests: LogRequest[]): void {
    for (const req of requests) {
      if (this.logsInFlight >= 4) {
        this.log.warn({ site: req.site }, 'too many log requests at once; one left unanswered');
        continue;
      }
      this.logsInFlight += 1;
      const keep = this.opts.accessLog?.keep ?? 5;
      const answer =
        this.active.proxy === 'nginx'
          ? searchLog(this.traffic.path, keep, req).catch((err: unknown) => ({
              id: req.id,
              lines: [],
              cursor: req.after ?? { file: 0, offset: 0 },
              truncated: false,
              error: `cannot read the access log: ${(err as Error).message}`.slice(0, 500),
            }))
          : Promise.resolve({
              id: req.id,
              lines: [],
              cursor: { file: 0, offset: 0 },
              truncated: false,
              error: `a ${this.active.proxy} edge writes no access log`,
            });
      void answer
        .then((a) => this.cp.logAnswer(a))
        .catch((err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'could not send a log answer'),
        )
        .finally(() => (this.logsInFlight -= 1));
    }
  }

  /**
   * Purge jobs that did not verify are never run. Each refusal is logged and, when the job
   * names its id, reported as failed: the control plane shows it, and stops offering it.
   */
  private async refuse(refused: RefusedPurge[]): Promise<void> {
    if (refused.length === 0) return;
    const results: PurgeResult[] = [];
    for (const r of refused) {
      this.log.error({ purge: r.id ?? null, reason: r.reason }, 'refused a purge job');
      if (r.id !== undefined)
        results.push({ id: r.id, ok: false, removed: 0, error: `refused: ${r.reason}` });
    }
    if (results.length > 0) await this.cp.purgeResults(results);
  }

  /** Runs purge jobs against the local cache and tells the control plane what was done. */
  private async purge(jobs: PurgeJob[]): Promise<void> {
    const results: PurgeResult[] = [];
    let removed = new Map<number, number>();
    let error: string | null = null;
    try {
      removed = await purgeCache(this.path(CACHE_DIR), jobs);
    } catch (err) {
      error = (err as Error).message;
    }
    for (const job of jobs) {
      results.push({ id: job.id, ok: error === null, removed: removed.get(job.id) ?? 0, error });
    }
    this.log.info({ purges: results.map((r) => [r.id, r.removed]) }, 'purged');
    await this.cp.purgeResults(results);
  }

  /** nginx's open client connections, from stub_status on the local listener. */
  private async activeConnections(): Promise<number | null> {
    const url = this.probeUrl;
    if (url === undefined) return null;
    const text = await httpText(new URL(STUB_STATUS_PATH, url).href).catch(() => undefined);
    const n = /Active connections:\s*(\d+)/.exec(text ?? '')?.[1];
    return n === undefined ? null : Number(n);
  }

  /** Verifies and applies one bundle; any failure keeps the last good release serving. */
  async apply(body: unknown, hash: string): Promise<void> {
    let manifest: BundleManifest;
    try {
      manifest = verifyBundle(body, this.state.public_key, this.state.edge);
    } catch (err) {
      // Not recorded as a failed release: a bad signature is not the release's fault.
      this.lastError = `rejected a bundle: ${(err as Error).message}`;
      this.rejectedHash = hash;
      this.log.error({ err: this.lastError }, 'bundle rejected');
      await this.report().catch(() => undefined);
      return;
    }
    const release = manifest.release;
    if (this.state.applied?.hash === hash) return;
    if (this.state.failed?.hash === hash) return; // never retry the same failed release
    const started = Date.now();
    // Only the files this edge lacks come over the wire (a control plane that cannot be reached
    // now throws: the pull loop retries). Contents that do not match their signed hash refuse
    // the bundle, like a bad signature.
    let files: ResolvedFile[];
    try {
      const fetched = await fetchReleaseFiles(manifest, {
        inline: inlineBlobs(body),
        liveDir: this.state.applied ? this.path('live', 'release') : undefined,
        fetch: (hashes) => this.cp.files(hashes, this.abort.signal),
      });
      files = fetched.files;
      manifest = { ...manifest, files: fetched.entries, lists: [] };
      this.log.info(
        { release, files: files.length, fetched: fetched.fetched, reused: fetched.reused },
        'release files ready',
      );
    } catch (err) {
      if (!(err instanceof BundleVerificationError)) throw err;
      this.lastError = `rejected a bundle: ${err.message}`;
      this.rejectedHash = hash;
      this.log.error({ err: this.lastError }, 'bundle rejected');
      await this.report().catch(() => undefined);
      return;
    }
    this.rejectedHash = undefined;
    let error: string | undefined;
    try {
      error = await this.install(manifest, files);
    } catch (err) {
      // The machine's fault (ENOSPC, EACCES…), not the release's: reported like a rejected
      // release (status shows it, an alert is raised), retried with backoff.
      const attempts = (this.installRetry?.hash === hash ? this.installRetry.attempts : 0) + 1;
      const first = this.opts.installRetryMs ?? INSTALL_RETRY_MS;
      const delay = Math.min(first * 2 ** (attempts - 1), MAX_INSTALL_RETRY_MS);
      this.installRetry = { hash, attempts, at: Date.now() + delay };
      this.lastError = `could not install release ${release} (attempt ${attempts}, next in ${Math.ceil(delay / 1000)} s): ${(err as Error).message}`;
      this.log.error(
        { release, attempts, retry_ms: delay, err: (err as Error).message },
        'install failed; still serving the last good one',
      );
      await this.report().catch(() => undefined);
      return;
    }
    this.installRetry = undefined;
    if (error === undefined) {
      this.state = {
        ...this.state,
        applied: { release, hash, probe_url: manifest.probe.url, proxy: manifest.proxy },
        failed: null,
      };
      this.probeUrl = manifest.probe.url;
      this.lastError = null;
      await this.saveState();
      this.log.info({ release, ms: Date.now() - started }, 'release applied');
      await this.pruneReleases();
    } else {
      this.state = { ...this.state, failed: { release, hash, error } };
      this.lastError = null;
      await this.saveState();
      this.log.error({ release, error }, 'release failed; still serving the last good one');
    }
    await this.report().catch(() => undefined);
  }

  /** Writes, validates, switches, reloads and probes; returns the error, or undefined. */
  private async install(
    manifest: BundleManifest,
    files: readonly ResolvedFile[],
  ): Promise<string | undefined> {
    const release = manifest.release;
    const dir = this.path('releases', String(release));
    // Write the release beside its final name, then rename: a release dir is complete or absent.
    const staging = this.path('releases', `.staging-${release}-${process.pid}`);
    await rm(staging, { recursive: true, force: true });
    try {
      // Files equal to a kept release's are hard links to it (agent/release-files.ts).
      const written = await writeReleaseDir(staging, files, await this.keptReleaseDirs(release));
      this.log.info({ release, ...written }, 'release written');
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } catch (err) {
      // Nothing half-written stays behind (a full disk must not stay full of our leftovers).
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }

    const driver = this.drivers[manifest.proxy];
    const rejected = (output: string) =>
      `${driver.validation} rejected release ${release}: ${output}`;
    const main = await driver.main(manifest, dir);
    if (!main.ok) return rejected(main.output);
    const candidate = this.path('candidate', driver.mainFile);
    await writeFileAtomic(candidate, main.content);
    await replaceSymlink(
      this.path('candidate', 'release'),
      join('..', 'releases', String(release)),
    );
    const validating = Date.now();
    const test = await driver.validate(candidate);
    this.validationMs = Date.now() - validating;
    this.log.info({ release, ms: this.validationMs }, `${driver.validation} of the release`);
    if (!test.ok) return rejected(test.output);
    const deadlineMs = probeDeadlineMs(Date.now() - validating);

    const before = this.active;
    const previous = await readSymlink(this.path('live', 'release'));
    const previousConf = this.path('live', before.mainFile);
    const previousMain = await readFile(previousConf, 'utf8').catch(() => undefined);
    const liveConf = this.path('live', driver.mainFile);
    await writeFileAtomic(liveConf, main.content);
    await replaceSymlink(this.path('live', 'release'), join('..', 'releases', String(release)));
    // The edge changed proxies: the one serving gives up the ports first.
    if (before !== driver && (await before.running())) await before.stop(previousConf);
    const switched = await driver.activate(liveConf);
    const probe = switched.ok ? await this.probe(manifest, deadlineMs) : switched.output;
    if (probe === undefined) return undefined;

    // Roll back: the previous release and main file, and make its proxy load them again.
    if (previous !== undefined) {
      await replaceSymlink(this.path('live', 'release'), previous);
      if (before !== driver && (await driver.running())) await driver.stop(liveConf);
      if (previousMain !== undefined) await writeFileAtomic(previousConf, previousMain);
      await before.recover(previousConf);
    }
    const message = `release ${release} did not go live (${probe}); rolled back to ${previous ?? 'nothing'}`;
    // A timeout is the machine's load, not the release's fault: tried again after a backoff.
    if (switched.ok) throw new ProbeTimeout(`timed out after ${deadlineMs} ms: ${message}`);
    return message;
  }

  /** Waits until the edge's listener answers with the new release; returns the error, or undefined. */
  private async probe(manifest: BundleManifest, deadlineMs: number): Promise<string | undefined> {
    const deadline = Date.now() + deadlineMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      const seen = await probeRelease(manifest.probe.url).catch((err: unknown) => {
        last = (err as Error).message;
        return undefined;
      });
      if (seen === String(manifest.release)) return undefined;
      if (seen !== undefined) last = `it answered with release ${seen || '(none)'}`;
      await sleep(50);
    }
    return `probe of ${manifest.probe.url}: ${last}`;
  }

  /** The kept release directories but `release`'s: the live one first, then newest first. */
  private async keptReleaseDirs(release: number): Promise<string[]> {
    const live = await readSymlink(this.path('live', 'release'));
    const liveName = live === undefined ? undefined : basename(live);
    const names = (await readdir(this.path('releases')))
      .filter((n) => /^\d+$/.test(n) && n !== String(release))
      .sort((a, b) => Number(b) - Number(a));
    const ordered =
      liveName !== undefined && names.includes(liveName)
        ? [liveName, ...names.filter((n) => n !== liveName)]
        : names;
    return ordered.map((n) => this.path('releases', n));
  }

  private async pruneReleases(): Promise<void> {
    const keep = this.opts.keepReleases ?? 5;
    const live = await readSymlink(this.path('live', 'release'));
    const names = (await readdir(this.path('releases'))).filter((n) => /^\d+$/.test(n)).map(Number);
    const old = names.sort((a, b) => b - a).slice(keep);
    for (const n of old) {
      if (live?.endsWith(`/${n}`)) continue;
      await rm(this.path('releases', String(n)), { recursive: true, force: true });
    }
  }

  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let backoff = 1000;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof ControlPlaneError) await this.noteControlPlane(err.message);
        if (err instanceof ControlPlaneError && err.status === 401)
          throw new AgentSetupError(err.message);
        if (this.abort.signal.aborted) throw err;
        this.log.warn(
          { err: (err as Error).message, retry_ms: backoff },
          `${what} failed; retrying`,
        );
        await sleep(backoff, undefined, { signal: this.abort.signal });
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
}

/** The body of a GET to a local URL (short timeout). */
function httpText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { host: 'outpost-probe.invalid' }, timeout: 2000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** The `X-Outpost-Release` an edge listener answers with (the default server answers any path). */
export function probeRelease(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { host: 'outpost-probe.invalid' }, timeout: 2000 },
      (res) => {
        res.resume();
        const value = res.headers['x-outpost-release'];
        resolve(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
      },
    );
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** Reads the token file; refuses one that others can read. */
export async function readTokenFile(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new AgentSetupError(`cannot read the token file ${path}`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new AgentSetupError(
      `the token file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const token = (await readFile(path, 'utf8')).trim();
  if (!/^ope_[A-Za-z0-9_-]{43}$/.test(token))
    throw new AgentSetupError(`${path} does not hold an edge token`);
  return token;
}
