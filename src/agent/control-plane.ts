// The agent's side of the edge API.
import { EdgeReport, PurgeJob, type PurgeResult } from '../spec/index.js';

export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

export interface Hello {
  edge: string;
  public_key: string;
  fingerprint: string;
}

export interface PollAnswer {
  bundle: { body: unknown; hash: string } | undefined;
  purges: PurgeJob[];
}

export class ControlPlaneClient {
  constructor(
    private readonly server: string,
    private readonly token: string,
  ) {}

  private url(path: string): URL {
    return new URL(path, this.server.endsWith('/') ? this.server : `${this.server}/`);
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${this.token}` },
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
      return { bundle: undefined, purges: [] };
    }
    if (!res.ok) throw new ControlPlaneError(`poll failed: HTTP ${res.status}`, res.status);
    const body = (await res.json()) as { bundle: unknown; purges: unknown[] };
    const purges = body.purges.map((p) => PurgeJob.parse(p));
    const hash = (res.headers.get('etag') ?? '').replace(/"/g, '');
    return { bundle: body.bundle === null ? undefined : { body: body.bundle, hash }, purges };
  }

  async purgeResults(results: PurgeResult[]): Promise<void> {
    const res = await this.call('v1/edge/purges', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ results }),
    });
    if (!res.ok) throw new ControlPlaneError(`purge report failed: HTTP ${res.status}`, res.status);
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
