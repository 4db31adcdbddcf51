// The edge health checks the control plane makes for DNS providers that do not check edges
// themselves (Cloudflare, DNSPod, Alibaba Cloud DNS as Outpost drives them): the same check
// PowerDNS (`ifurlup`) and GCore (`meta.failover`) make, GET the edge's own health path with
// the Host `health.outpost.invalid` on the edges' HTTP port and the body match, with
// hysteresis (down after `downAfter` failures in a row, up after `upAfter` successes).
// The DNS sync leaves the edges found down out of what it publishes (answer-sets.ts).
import { request } from 'node:http';
import { recordEdge, type HealthCheckPicker, type RRsetPlan } from './plan.js';

export interface EdgeChecksOptions {
  downAfter?: number;
  upAfter?: number;
}

interface Tracked {
  down: boolean;
  streak: number;
  streakOk: boolean;
}

/** One check: true when the edge answered 200 with the match in its body. */
export function checkEdge(address: string, hc: HealthCheckPicker): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: address,
        port: hc.port,
        path: hc.uri,
        method: hc.method,
        headers: { host: hc.host },
        timeout: hc.timeout * 1000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 4096) body += d;
        });
        res.on('end', () => resolve(res.statusCode === 200 && body.includes(hc.match)));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

export class EdgeChecks {
  private readonly edges = new Map<string, Tracked>();
  private readonly downAfter: number;
  private readonly upAfter: number;

  constructor(opts: EdgeChecksOptions = {}) {
    this.downAfter = opts.downAfter ?? 2;
    this.upAfter = opts.upAfter ?? 2;
  }

  /**
   * Checks every edge the sets publish once (each of its addresses; an edge is up when one
   * answers) and returns the edges now counted down. Drained edges are not checked.
   */
  async run(rrsets: readonly RRsetPlan[]): Promise<Set<string>> {
    const targets = new Map<string, { hc: HealthCheckPicker; addresses: Set<string> }>();
    for (const set of rrsets) {
      const hc = set.pickers.find((p): p is HealthCheckPicker => p.type === 'healthcheck');
      if (hc === undefined) continue;
      for (const r of set.records) {
        const edge = recordEdge(r.meta);
        if (edge === undefined || !r.enabled) continue;
        const t = targets.get(edge) ?? { hc, addresses: new Set<string>() };
        for (const a of r.content) t.addresses.add(a);
        targets.set(edge, t);
      }
    }
    await Promise.all(
      [...targets].map(async ([edge, t]) => {
        const results = await Promise.all([...t.addresses].map((a) => checkEdge(a, t.hc)));
        this.record(edge, results.some(Boolean));
      }),
    );
    for (const e of [...this.edges.keys()]) if (!targets.has(e)) this.edges.delete(e);
    return this.down();
  }

  private record(edge: string, ok: boolean): void {
    const t = this.edges.get(edge);
    if (t === undefined) {
      // the first result counts at once (as PowerDNS and GCore start)
      this.edges.set(edge, { down: !ok, streak: 1, streakOk: ok });
      return;
    }
    if (t.streakOk === ok) t.streak += 1;
    else {
      t.streak = 1;
      t.streakOk = ok;
    }
    if (!t.down && !ok && t.streak >= this.downAfter) t.down = true;
    else if (t.down && ok && t.streak >= this.upAfter) t.down = false;
  }

  /** The edges counted down now. */
  down(): Set<string> {
    return new Set([...this.edges].filter(([, t]) => t.down).map(([e]) => e));
  }
}
