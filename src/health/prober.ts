// The control plane probes each edge (each site it serves, through the edge, with the site's
// Host) and each origin (with the site's Host and TLS name), on an interval, with timeouts.
import { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { coded, englishOf, sitesServedBy, type Edge, type Spec } from '../spec/index.js';
import { HealthBook, type ProbeResult } from './health-book.js';

export interface ProbeTarget {
  id: string;
  url: string;
  host: string;
  /** TLS: server name to send and verify, CA bundle, and whether to verify. */
  tls?: { servername: string; ca?: string; verify: boolean };
  /** A header the answer must carry to count (e.g. X-CDN-Node from an edge). */
  expectHeader?: string;
  /** Status codes below this count as up. */
  okBelow: number;
}

/** The address an edge is reached at by the control plane. */
export function edgeAddress(edge: Edge): string {
  const a = edge.host.v4 ?? `[${edge.host.v6 ?? ''}]`;
  return `${a}:${edge.listen.http}`;
}

export function edgeTargetId(edge: string, site?: string): string {
  return site === undefined ? `edge:${edge}` : `edge:${edge}:site:${site}`;
}

export function originTargetId(site: string, index: number): string {
  return `origin:${site}:${index}`;
}

/** Every probe the state calls for. Pure. */
export function probeTargets(spec: Spec): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  for (const edge of spec.edges) {
    if (edge.paused) continue;
    const base = `http://${edgeAddress(edge)}`;
    // The edge itself: its default server answers any unknown host with 421 and X-CDN-Node.
    // A site's origin being down must not mark the edge down, so sites are probed apart.
    out.push({
      id: edgeTargetId(edge.name),
      url: `${base}/`,
      host: 'outpost-probe.invalid',
      expectHeader: 'x-cdn-node',
      okBelow: 500,
    });
    // The sites it serves, from the selectors alone: compiling a plan per edge per tick is
    // not needed to know where to send a Host header.
    for (const site of sitesServedBy(spec, edge)) {
      const uri = site.health_check?.uri;
      const path = uri !== undefined ? new URL(uri).pathname : '/';
      out.push({
        id: edgeTargetId(edge.name, site.domain),
        url: `${base}${path}`,
        host: site.domain,
        expectHeader: 'x-cdn-node',
        okBelow: uri !== undefined ? 400 : 500,
      });
    }
  }
  for (const site of spec.sites) {
    const uri = site.health_check?.uri;
    const path = uri !== undefined ? new URL(uri).pathname : '/';
    site.origins.forEach((o, i) => {
      const host = typeof o.host === 'string' ? o.host : (o.host.v4 ?? `[${o.host.v6 ?? ''}]`);
      const port = o.port ?? (o.protocol === 'https' ? 443 : 80);
      const target: ProbeTarget = {
        id: originTargetId(site.domain, i),
        url: `${o.protocol}://${host}:${port}${path}`,
        host: site.domain,
        okBelow: uri !== undefined ? 400 : 500,
      };
      if (o.protocol === 'https') {
        target.tls = {
          servername: o.tls_server_name ?? site.domain,
          verify: o.verify_tls,
          ...(o.tls_ca ? { ca: o.tls_ca } : {}),
        };
      }
      out.push(target);
    });
  }
  return out;
}

/**
 * One probe: a GET with a timeout; the reason names what went wrong, worded by the messages
 * table (spec/messages.ts), so that the status answers carry its code beside it.
 */
export function probe(
  target: ProbeTarget,
  timeoutMs: number,
  now: () => Date = () => new Date(),
  localAddress?: string,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const done = (ok: boolean, reason: string) =>
      resolve({
        ok,
        reason,
        at: now().toISOString(),
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    const url = new URL(target.url);
    const options = {
      method: 'GET',
      headers: { host: target.host, 'user-agent': 'outpost-probe' },
      timeout: timeoutMs,
      agent: false as const,
      ...(localAddress !== undefined ? { localAddress } : {}),
    };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (target.expectHeader && res.headers[target.expectHeader] === undefined)
        return done(
          false,
          englishOf(coded('probe_without_header', { status, header: target.expectHeader })),
        );
      done(status < target.okBelow, englishOf(coded('probe_status', { status })));
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            {
              ...options,
              servername: target.tls?.servername,
              rejectUnauthorized: target.tls?.verify ?? true,
              ca: target.tls?.ca ? [target.tls.ca] : [...rootCertificates],
            },
            onResponse,
          )
        : httpRequest(url, options, onResponse);
    let timedOut = false;
    req.once('timeout', () => {
      timedOut = true;
      req.destroy(new Error(`timeout after ${timeoutMs} ms`));
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      const reason = timedOut
        ? coded('probe_timeout', { ms: timeoutMs })
        : err.code && /CERT|SSL|TLS|SELF_SIGNED|HOSTNAME|ALTNAME/.test(err.code)
          ? coded('probe_tls', { error: err.code })
          : coded('probe_connection_failed', { error: err.code ?? err.message });
      done(false, englishOf(reason));
    });
    req.end();
  });
}

export interface ProberOptions {
  readState: () => Promise<{ spec: Spec }>;
  intervalMs: number;
  timeoutMs: number;
  /** The local address probes are sent from (default: the system's choice). */
  localAddress?: string;
  book?: HealthBook;
  /**
   * The state could not be read (the database is down): the round probes the targets of the
   * last state read, and this is told (each time; the caller decides what to log).
   */
  onError?: (err: unknown) => void;
  /** The state was read again after it could not be. */
  onRecovered?: () => void;
}

/**
 * Probes every target on an interval; emits `changed` when any state changes, and `round`
 * (with its length in ms) after every round.
 */
export class Prober extends EventEmitter {
  readonly name = 'probes';
  readonly book: HealthBook;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last state read, probed while the state cannot be read (the database is down). */
  private lastSpec: Spec | undefined;
  private unreadable = false;

  constructor(private readonly opts: ProberOptions) {
    super();
    this.book = opts.book ?? new HealthBook();
  }

  async start(): Promise<void> {
    // An interval of 0 turns probing off (health then stays unknown).
    if (this.opts.intervalMs <= 0) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      // A round never rejects into the void (an unhandled rejection would end the process).
      this.running = this.runOnce()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** The probe interval (0: off) and timeout, in ms. */
  get timings(): { intervalMs: number; timeoutMs: number } {
    return { intervalMs: this.opts.intervalMs, timeoutMs: this.opts.timeoutMs };
  }

  async runOnce(): Promise<void> {
    const started = performance.now();
    let spec: Spec;
    try {
      ({ spec } = await this.opts.readState());
      this.lastSpec = spec;
      if (this.unreadable) this.opts.onRecovered?.();
      this.unreadable = false;
    } catch (err) {
      if (this.lastSpec === undefined) throw err;
      this.unreadable = true;
      this.opts.onError?.(err);
      spec = this.lastSpec;
    }
    const targets = probeTargets(spec);
    const ids = new Set(targets.map((t) => t.id));
    this.book.retain((id) => ids.has(id));
    let changed = false;
    const queue = [...targets];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const result = await probe(t, this.opts.timeoutMs, undefined, this.opts.localAddress);
        if (this.book.record(t.id, result)) changed = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, queue.length) }, worker));
    if (changed) this.emit('changed');
    this.emit('round', performance.now() - started);
  }
}
