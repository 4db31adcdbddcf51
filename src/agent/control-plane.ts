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

export class ControlPlaneClient {
  private purgeTrust: PurgeTrust | undefined;
  /** The edge this agent is, once known (joined): sent in EDGE_NAME_HEADER. */
  private edge: string | undefined;

  constructor(
    private readonly server: string,
    private readonly token: string,
    opts: { insecureHttp?: boolean } = {},
  ) {
    checkServerUrl(server, opts.insecureHttp);
  }

  /** From now on purge jobs are verified against this key and edge (until then, all refused). */
  trust(trust: PurgeTrust): void {
    this.purgeTrust = trust;
    this.edge = trust.edge;
  }

  private url(path: string): URL {
    return new URL(path, this.server.endsWith('/') ? this.server : `${this.server}/`);
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        ...init,
        headers: {
          ...init.headers,
          authorization: `Bearer ${this.token}`,
          ...(this.edge !== undefined ? { [EDGE_NAME_HEADER]: this.edge } : {}),
        },
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ControlPlaneError(`cannot reach the control plane at ${this.server} (${cause})`, 0);
    }
    if (res.status === 401)
      throw new ControlPlaneError(
        'the control plane refused this edge token (wrong or revoked)',
        401,
      );
    return res;
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
    const res = await this.call(`v1/edge/poll?wait=${waitSeconds}`, {
      headers,
      ...(signal ? { signal } : {}),
    });
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
    const res = await this.call('v1/edge/report', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(EdgeReport.parse(report)),
    });
    if (!res.ok) throw new ControlPlaneError(`report failed: HTTP ${res.status}`, res.status);
  }
}
