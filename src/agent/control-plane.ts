// The agent's side of the edge API.
import { isIP } from 'node:net';
import { PurgeVerificationError, verifyPurgeJob } from '../bundle/index.js';
import {
  EDGE_NAME_HEADER,
  EdgeLogAnswer,
  EdgeReport,
  LogRequest,
  type PurgeJob,
  type PurgeResult,
} from '../spec/index.js';

export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

/** True for a host on this machine: localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/**
 * Refuses a control-plane URL the agent must not talk to: not http(s), or plain http:// to a
 * host that is not loopback (the edge token, the bundles and the purges would cross the
 * network in clear) unless `insecureHttp` says so. Checked before any connection.
 */
export function checkServerUrl(server: string, insecureHttp = false): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ControlPlaneError(`--server "${server}" is not a URL`, 0);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ControlPlaneError(`--server "${server}" must be an https:// URL`, 0);
  if (url.protocol === 'http:' && !insecureHttp && !isLoopbackHost(url.hostname))
    throw new ControlPlaneError(
      `--server "${server}" is plain http:// to ${url.hostname}, which is not this machine: use the control plane's https:// URL (docs/deploy.md), or pass --insecure-http to send the edge token unencrypted`,
      0,
    );
  return url;
}

/** The key purges must be signed with (pinned at join time) and the edge they must be for. */
export interface PurgeTrust {
  publicKeyPem: string;
  edge: string;
}

/** A purge job the agent refused to run, and why. */
export interface RefusedPurge {
  id: number | undefined;
  reason: string;
}

export interface Hello {
  edge: string;
  public_key: string;
  fingerprint: string;
}

export interface PollAnswer {
  bundle: { body: unknown; hash: string } | undefined;
  purges: PurgeJob[];
  /** Jobs whose signature or shape did not verify: never run. */
  refused: RefusedPurge[];
  /** Log requests to answer (docs/logs.md); a malformed one is left out. */
  logs: LogRequest[];
}

/** How the client picks among several control-plane URLs (docs/high-availability.md). */
export interface FailoverOptions {
  /** Accept a plain http:// control plane that is not on loopback. */
  insecureHttp?: boolean;
  /** While on a fallback URL, try the preferred ones again this often (default 60 s). */
  preferAfterMs?: number;
  /** A request other than a long-poll gives up after this long (default 15 s). */
  requestTimeoutMs?: number;
  /** Told each time the client moves to another URL, and why. */
  onSwitch?: (from: string, to: string, reason: string) => void;
}

/** Beyond its wait, a long-poll may take this long before it counts as a timeout. */
const POLL_GRACE_MS = 15_000;
/** A batch of release files (POST v1/edge/files) may take this long before it times out. */
const FILES_TIMEOUT_MS = 120_000;
/** A preferred URL must answer hello this fast to be taken back. */
const PREFER_PROBE_MS = 3_000;

/**
 * The edge API, over one or several control-plane URLs in order of preference. A request goes
 * to the URL in use; when it refuses the connection, times out or answers 5xx, the next URLs are
 * tried in order, at once (the first that answers is used from then on). While on a fallback,
 * the preferred URLs are asked `hello` again every `preferAfterMs`; the first that answers (with
 * the pinned key) is used again. A URL whose signing key is not the pinned one is never used:
 * bundles and purges are verified against the pinned key whichever URL serves them.
 */
export class ControlPlaneClient {
  private purgeTrust: PurgeTrust | undefined;
  /** The edge this agent is, once known (joined): sent in EDGE_NAME_HEADER. */
  private edge: string | undefined;
  readonly servers: readonly string[];
  private current = 0;
  /** When, on a fallback, the preferred URLs are tried again. */
  private preferAt = 0;
  private readonly opts: FailoverOptions;

  constructor(
    servers: string | readonly string[],
    private readonly token: string,
    opts: FailoverOptions = {},
  ) {
    this.servers = typeof servers === 'string' ? [servers] : [...servers];
    if (this.servers.length === 0) throw new ControlPlaneError('no control-plane URL given', 0);
    for (const s of this.servers) checkServerUrl(s, opts.insecureHttp);
    this.opts = opts;
  }

  /** The control-plane URL in use (the one the last request went to). */
  get server(): string {
    return this.servers[this.current] as string;
  }

  /** From now on purge jobs are verified against this key and edge (until then, all refused). */
  trust(trust: PurgeTrust): void {
    this.purgeTrust = trust;
    this.edge = trust.edge;
  }

  private url(server: string, path: string): URL {
    return new URL(path, server.endsWith('/') ? server : `${server}/`);
  }

  /** One request to one URL; a refused connection or a timeout is a ControlPlaneError (0). */
  private async callOne(
    server: string,
    path: string,
    init: RequestInit,
    timeoutMs: number,
  ): Promise<Response> {
    const outer = init.signal ?? undefined;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(this.url(server, path), {
        ...init,
        signal,
        headers: {
          ...init.headers,
          authorization: `Bearer ${this.token}`,
          ...(this.edge !== undefined ? { [EDGE_NAME_HEADER]: this.edge } : {}),
        },
      });
    } catch (err) {
      if (outer?.aborted) throw err;
      if (timeout.aborted)
        throw new ControlPlaneError(
          `the control plane at ${server} did not answer within ${Math.round(timeoutMs / 1000)} s`,
          0,
        );
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ControlPlaneError(`cannot reach the control plane at ${server} (${cause})`, 0);
    }
    if (res.status === 401) {
      await res.body?.cancel();
      throw new ControlPlaneError(
        'the control plane refused this edge token (wrong or revoked)',
        401,
      );
    }
    return res;
  }

  /** Whether `server` signs with the pinned key (asked once per move to it). */
  private async checkKey(server: string, signal?: AbortSignal): Promise<void> {
    const pinned = this.purgeTrust;
    if (pinned === undefined) return;
    const res = await this.callOne(
      server,
      'v1/edge/hello',
      signal ? { signal } : {},
      PREFER_PROBE_MS,
    );
    if (!res.ok) {
      await res.body?.cancel();
      throw new ControlPlaneError(`${server} answered HTTP ${res.status} to hello`, res.status);
    }
    const hello = (await res.json().catch(() => ({}))) as Partial<Hello>;
    if (hello.public_key?.trim() !== pinned.publicKeyPem.trim())
      throw new ControlPlaneError(
        `${server} signs with another key (${hello.fingerprint ?? 'unknown'}) than the pinned one: not used`,
        0,
      );
  }

  private use(index: number, reason: string): void {
    if (index === this.current) return;
    const from = this.server;
    this.current = index;
    this.preferAt = Date.now() + (this.opts.preferAfterMs ?? 60_000);
    this.opts.onSwitch?.(from, this.server, reason);
  }

  /** On a fallback, and when it is time: the first preferred URL that answers is used again. */
  private async returnToPreferred(signal?: AbortSignal): Promise<void> {
    if (this.current === 0 || Date.now() < this.preferAt) return;
    this.preferAt = Date.now() + (this.opts.preferAfterMs ?? 60_000);
    for (let i = 0; i < this.current; i++) {
      const server = this.servers[i] as string;
      try {
        await this.checkKey(server, signal);
        if (this.purgeTrust === undefined) {
          const res = await this.callOne(
            server,
            'v1/edge/hello',
            signal ? { signal } : {},
            PREFER_PROBE_MS,
          );
          await res.body?.cancel();
          if (!res.ok) continue;
        }
        this.use(i, 'a preferred control plane answers again');
        return;
      } catch (err) {
        if (signal?.aborted) throw err;
      }
    }
  }

  /**
   * A request to the URL in use, else to the next ones in order. Fails over on a refused
   * connection, a timeout or a 5xx answer; not on other answers (a 401 is the token's fault on
   * every control plane of one CDN).
   */
  private async call(
    path: string,
    init: RequestInit = {},
    timeoutMs = this.opts.requestTimeoutMs ?? 15_000,
    /** The body for the URL it goes to (a report names the control plane it is sent to). */
    bodyFor?: (server: string) => string,
  ): Promise<Response> {
    const signal = init.signal ?? undefined;
    await this.returnToPreferred(signal);
    const n = this.servers.length;
    let last: ControlPlaneError | undefined;
    for (let k = 0; k < n; k++) {
      const index = (this.current + k) % n;
      const server = this.servers[index] as string;
      try {
        if (index !== this.current) await this.checkKey(server, signal);
        const res = await this.callOne(
          server,
          path,
          bodyFor ? { ...init, body: bodyFor(server) } : init,
          timeoutMs,
        );
        if (res.status >= 500 && n > 1) {
          await res.body?.cancel();
          last = new ControlPlaneError(`${server} answered HTTP ${res.status}`, res.status);
          continue;
        }
        this.use(index, last?.message ?? 'the one in use did not answer');
        return res;
      } catch (err) {
        if (!(err instanceof ControlPlaneError) || err.status === 401) throw err;
        last = err;
      }
    }
    throw last ?? new ControlPlaneError('no control plane answered', 0);
  }

  async hello(): Promise<Hello> {
    const res = await this.call('v1/edge/hello');
    // A wrong --server (a path under the control plane, another web server) answers 404 or a
    // page that is not the edge API's JSON: one sentence that says what to check.
    const json = (res.headers.get('content-type') ?? '').includes('application/json');
    if (res.status === 404 || (res.ok && !json)) {
      await res.body?.cancel();
      throw new ControlPlaneError(
        `${this.server} is not an Outpost control plane's URL: it answered HTTP ${res.status}${json ? '' : ` (${res.headers.get('content-type') ?? 'no content type'})`} to v1/edge/hello; check --server (the URL \`outpost edge add\` printed)`,
        res.status,
      );
    }
    if (!res.ok) throw new ControlPlaneError(`hello failed: HTTP ${res.status}`, res.status);
    return (await res.json()) as Hello;
  }

  /**
   * Long-polls the edge's channel: its bundle when the hash differs from `knownHash`, and the
   * purges it has not run yet.
   */
  async poll(
    knownHash: string | undefined,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<PollAnswer> {
    const headers: Record<string, string> = {};
    if (knownHash) headers['if-none-match'] = `"${knownHash}"`;
    const res = await this.call(
      `v1/edge/poll?wait=${waitSeconds}`,
      { headers, ...(signal ? { signal } : {}) },
      waitSeconds * 1000 + POLL_GRACE_MS,
    );
    if (res.status === 304 || res.status === 404) {
      await res.body?.cancel();
      return { bundle: undefined, purges: [], refused: [], logs: [] };
    }
    if (!res.ok) throw new ControlPlaneError(`poll failed: HTTP ${res.status}`, res.status);
    const body = (await res.json()) as { bundle: unknown; purges?: unknown; logs?: unknown };
    const { purges, refused } = this.verifyPurges(Array.isArray(body.purges) ? body.purges : []);
    const hash = (res.headers.get('etag') ?? '').replace(/"/g, '');
    const logs = (Array.isArray(body.logs) ? body.logs : []).flatMap((item: unknown) => {
      const r = LogRequest.safeParse(item);
      return r.success ? [r.data] : [];
    });
    return {
      bundle: body.bundle === null ? undefined : { body: body.bundle, hash },
      purges,
      refused,
      logs,
    };
  }

  private verifyPurges(items: unknown[]): { purges: PurgeJob[]; refused: RefusedPurge[] } {
    const purges: PurgeJob[] = [];
    const refused: RefusedPurge[] = [];
    for (const item of items) {
      const trust = this.purgeTrust;
      if (trust === undefined) {
        refused.push({ id: undefined, reason: 'no signing key is pinned yet' });
        continue;
      }
      try {
        purges.push(verifyPurgeJob(item, trust.publicKeyPem, trust.edge));
      } catch (err) {
        if (!(err instanceof PurgeVerificationError)) throw err;
        refused.push({ id: err.id, reason: err.message });
      }
    }
    return { purges, refused };
  }

  /** Release file contents by SHA-256 (only those of this edge's latest release are given). */
  async files(hashes: readonly string[], signal?: AbortSignal): Promise<Map<string, Buffer>> {
    // A batch of files may take a while on a slow link: more than a small request's patience.
    const res = await this.call(
      'v1/edge/files',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hashes }),
        ...(signal ? { signal } : {}),
      },
      FILES_TIMEOUT_MS,
    );
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new ControlPlaneError(
        `fetching ${hashes.length} release file(s) failed: HTTP ${res.status} ${text.slice(0, 200)}`,
        res.status,
      );
    }
    const body = (await res.json()) as { files?: Record<string, unknown> };
    const out = new Map<string, Buffer>();
    for (const [h, b64] of Object.entries(body.files ?? {}))
      if (typeof b64 === 'string') out.set(h, Buffer.from(b64, 'base64'));
    return out;
  }

  async purgeResults(results: PurgeResult[]): Promise<void> {
    const res = await this.call('v1/edge/purges', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ results }),
    });
    if (!res.ok) throw new ControlPlaneError(`purge report failed: HTTP ${res.status}`, res.status);
  }

  /** The lines of one log request (the control plane hands them to whoever asked). */
  async logAnswer(answer: EdgeLogAnswer): Promise<void> {
    const res = await this.call('v1/edge/logs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(EdgeLogAnswer.parse(answer)),
    });
    await res.body?.cancel();
    if (!res.ok) throw new ControlPlaneError(`log answer failed: HTTP ${res.status}`, res.status);
  }

  async report(report: EdgeReport): Promise<void> {
    const res = await this.call(
      'v1/edge/report',
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      undefined,
      (server) => JSON.stringify(EdgeReport.parse({ ...report, control_plane: server })),
    );
    if (!res.ok) throw new ControlPlaneError(`report failed: HTTP ${res.status}`, res.status);
  }
}
