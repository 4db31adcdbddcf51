import { describe, expect, it } from 'vitest';
import { Edge, StatusSettings, type NodeResources, type Spec } from '../spec/index.js';
import { BandwidthWatch, usedMbps } from './bandwidth.js';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const spec: Spec = {
  edges: [
    Edge.parse({ name: 'hk', host: { v4: '192.0.2.1' }, bandwidth_mbps: 30 }),
    Edge.parse({ name: 'fra', host: { v4: '192.0.2.2' } }),
  ],
  sites: [],
};
const settings = StatusSettings.parse({}).bandwidth_alert;
/** A sample at `at` sending `mbps` megabits per second. */
const sample = (at: number, mbps: number): NodeResources => ({
  at: new Date(at).toISOString(),
  cpu_percent: 1,
  load: [0, 0, 0],
  cpus: 1,
  memory: { total_bytes: 1, available_bytes: 1 },
  disks: [],
  network: { rx_bytes_per_second: 1000, tx_bytes_per_second: (mbps * 1e6) / 8 },
  tcp_established: 0,
  uptime_seconds: 1,
  proxy_version: null,
});

describe('bandwidth against capacity', () => {
  it('is the greater of in and out, in Mbit/s', () => {
    expect(usedMbps(sample(T0, 28))).toBeCloseTo(28);
    expect(usedMbps({ network: null })).toBeNull();
  });

  it('alerts after 5 minutes above 90% of bandwidth_mbps, not before, not for an edge without one', () => {
    const w = new BandwidthWatch();
    let t = T0;
    // 4 min 50 s at 28 Mbit/s on a 30 Mbit/s edge (93%), and on fra (no capacity).
    for (; t < T0 + 290_000; t += 10_000) {
      w.record('hk', [sample(t, 28)], new Date(t));
      w.record('fra', [sample(t, 900)], new Date(t));
    }
    expect(w.alerts(spec, settings, new Date(t - 10_000))).toEqual([]);
    w.record('hk', [sample(t, 28)], new Date(t));
    t += 10_000;
    w.record('hk', [sample(t, 28)], new Date(t));
    const [alert, ...rest] = w.alerts(spec, settings, new Date(t));
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      kind: 'edge_bandwidth',
      subject: 'hk',
      since: new Date(T0).toISOString(),
    });
    expect(alert?.message).toBe(
      'edge hk has used more than 90% of its 30 Mbit/s for 5 min (28.0 Mbit/s on average)',
    );
    // One sample below the threshold ends it; a stale edge (no sample for minutes) has none.
    t += 10_000;
    w.record('hk', [sample(t, 20)], new Date(t));
    expect(w.alerts(spec, settings, new Date(t))).toEqual([]);
  });

  it('a gap in the samples (agent away) breaks the run; samples after an outage arrive together', () => {
    const w = new BandwidthWatch();
    w.record('hk', [sample(T0, 29), sample(T0 + 10_000, 29)], new Date(T0 + 10_000));
    // Five minutes later, only the newest sample: the minutes between are unknown.
    w.record('hk', [sample(T0 + 310_000, 29)], new Date(T0 + 310_000));
    expect(w.alerts(spec, settings, new Date(T0 + 310_000))).toEqual([]);
    // A batch kept through an outage counts like samples sent one by one.
    const batch = Array.from({ length: 31 }, (_, i) => sample(T0 + 400_000 + i * 10_000, 29));
    w.record('hk', batch, new Date(T0 + 700_000));
    expect(w.alerts(spec, settings, new Date(T0 + 700_000))).toHaveLength(1);
    // The setting: 29 of 30 Mbit/s is 96.7%, under a 97% threshold.
    expect(w.alerts(spec, { percent: 97, minutes: 5 }, new Date(T0 + 700_000))).toEqual([]);
  });
});
