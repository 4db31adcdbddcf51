// Bandwidth against capacity: an edge's `bandwidth_mbps` (its link, e.g. the 30 Mbit/s HK node)
// against what its agent measures (the greater of bytes in and out per second, from the kernel's
// interface counters). Use above `percent` of the capacity in every sample of the last `minutes`
// minutes is an `edge_bandwidth` alert. Samples are kept for the longest window (60 minutes).
import type { Alert, NodeResources, Spec, StatusSettings } from '../spec/index.js';

const KEEP_MS = 60 * 60_000;
/** How far the newest sample may lag and the oldest may start late (a missed report or so). */
const SLACK_MS = 60_000;
/** A run of samples spans its window less about one report interval. */
const RUN_SLACK_MS = 15_000;

/** Megabits per second a sample used, or null without a network rate. */
export function usedMbps(s: Pick<NodeResources, 'network'>): number | null {
  if (!s.network) return null;
  return (Math.max(s.network.rx_bytes_per_second, s.network.tx_bytes_per_second) * 8) / 1e6;
}

export class BandwidthWatch {
  private readonly samples = new Map<string, { at: number; mbps: number }[]>();

  record(edge: string, resources: readonly NodeResources[], now: Date): void {
    const list = this.samples.get(edge) ?? [];
    for (const s of resources) {
      const mbps = usedMbps(s);
      const at = Date.parse(s.at);
      if (mbps === null || !Number.isFinite(at)) continue;
      if (list.length > 0 && at <= (list[list.length - 1]?.at ?? 0)) continue;
      list.push({ at, mbps });
    }
    const cut = now.getTime() - KEEP_MS;
    while (list.length > 0 && (list[0]?.at ?? 0) < cut) list.shift();
    this.samples.set(edge, list);
  }

  alerts(spec: Spec, settings: StatusSettings['bandwidth_alert'], now: Date): Alert[] {
    const out: Alert[] = [];
    const t = now.getTime();
    const window = settings.minutes * 60_000;
    for (const edge of spec.edges) {
      const capacity = edge.bandwidth_mbps;
      if (capacity === undefined || edge.paused) continue;
      const list = this.samples.get(edge.name) ?? [];
      const newest = list[list.length - 1];
      if (!newest || newest.at < t - SLACK_MS) continue;
      const limit = (capacity * settings.percent) / 100;
      // The run of samples above the limit that ends with the newest one, without a gap.
      let i = list.length - 1;
      while (i > 0) {
        const prev = list[i - 1];
        const cur = list[i];
        if (!prev || !cur || prev.mbps <= limit || cur.at - prev.at > SLACK_MS) break;
        i -= 1;
      }
      const first = list[i];
      if (!first || first.mbps <= limit || newest.mbps <= limit) continue;
      // A run of samples every 10 s spans the window less one interval.
      if (newest.at - first.at < window - RUN_SLACK_MS) continue;
      const recent = list.slice(i);
      const mean = recent.reduce((n, s) => n + s.mbps, 0) / recent.length;
      out.push({
        kind: 'edge_bandwidth',
        subject: edge.name,
        message: `edge ${edge.name} has used more than ${settings.percent}% of its ${capacity} Mbit/s for ${Math.round((newest.at - first.at) / 60_000)} min (${mean.toFixed(1)} Mbit/s on average)`,
        since: new Date(first.at).toISOString(),
      });
    }
    return out;
  }
}
