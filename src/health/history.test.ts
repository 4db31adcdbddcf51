// The history worker over a real (in-memory) store with a fixed clock: health samples, reports
// with traffic and resource samples (some from an outage), minute points, the hour roll-up
// (again when a late sample lands in a finished hour), pruning and incidents.
import { afterEach, describe, expect, it } from 'vitest';
import {
  HOUR_POINT,
  KEEP_MINUTE_POINTS,
  MINUTE_POINT,
  type EdgeReport,
  type NodeResources,
} from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import type { TargetHealth } from './health-book.js';
import { HistoryWorker } from './history.js';
import type { StatusSnapshot } from './status.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
let store: Store | undefined;
afterEach(async () => store?.close());

function snapshot(edgeUp: boolean): StatusSnapshot {
  return {
    revision: 1,
    edges: [
      {
        name: 'hk1',
        paused: false,
        state: edgeUp ? 'ok' : 'offline',
        health: edgeUp ? 'up' : 'down',
        health_reason: edgeUp ? null : 'connection failed: ECONNREFUSED',
      } as StatusSnapshot['edges'][number],
    ],
    sites: [
      {
        domain: 'a.test',
        health: edgeUp ? 'up' : 'down',
        reason: 'edges: down',
        edges_by_health: { up: 0, down: 0, unknown: 0 },
        edges: [],
        origins: [{ index: 0, health: 'up', reason: null }],
      },
    ],
    alerts: edgeUp
      ? []
      : [
          {
            kind: 'edge_down',
            subject: 'hk1',
            message: 'edge hk1 has not reported for 40 s',
            since: null,
          },
        ],
  };
}

const sample = (at: number, cpu: number): NodeResources => ({
  at: new Date(at).toISOString(),
  cpu_percent: cpu,
  load: [0.5, 0.4, 0.3],
  cpus: 2,
  memory: { total_bytes: 1000, available_bytes: 400 },
  disks: [{ dir: 'cache', total_bytes: 100, free_bytes: 30, available_bytes: 25 }],
  network: { rx_bytes_per_second: 10, tx_bytes_per_second: 20 },
  tcp_established: 7,
  uptime_seconds: 99,
  proxy_version: '1.22.1',
});

const report = (resources: NodeResources[], requests = 0): EdgeReport => ({
  agent_version: '0.1.0',
  applied_release: 1,
  applied_hash: 'h',
  failed_release: null,
  last_error: null,
  proxy: 'nginx',
  proxy_running: true,
  started_at: new Date(T0).toISOString(),
  traffic: {
    since: '',
    until: '',
    sites: requests
      ? {
          'a.test': {
            requests,
            bytes: requests * 100,
            status: { '2xx': requests },
            cache: { HIT: requests - 1, MISS: 1 },
          },
        }
      : {},
  },
  resources,
});

describe('history worker', () => {
  it('samples every 10 s, writes minute points, rolls finished hours up, keeps incidents', async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    let now = T0;
    let up = true;
    let probeAt = 0;
    const health = (): TargetHealth => ({
      state: up ? 'up' : 'down',
      reason: null,
      since: null,
      history: [],
      last: { ok: up, reason: 'status 421', at: new Date(probeAt).toISOString(), ms: 12 },
    });
    const w = new HistoryWorker({
      store,
      snapshot: async () => snapshot(up),
      health,
      now: () => new Date(now),
    });
    // 70 minutes, a sample every 10 s; the edge is down from 10:20 to 10:25.
    for (let i = 0; i < 70 * 6; i++) {
      now = T0 + i * 10_000;
      probeAt = now;
      up = !(now >= T0 + 20 * 60_000 && now < T0 + 25 * 60_000);
      if (i % 6 === 0) w.recorder.recordReport('hk1', report([sample(now, 40)], 10), new Date(now));
      await w.tick();
    }
    await w.flush();
    const t0 = T0 / 1000;
    const minutes = await store.readEdgeHistory({
      resolution: MINUTE_POINT,
      from: t0,
      to: t0 + 3600,
      edge: 'hk1',
    });
    expect(minutes).toHaveLength(60);
    expect(minutes[0]).toMatchObject({
      up: 6,
      down: 0,
      latency_ms: 12,
      latency_n: 6,
      requests: 10,
      hits: 9,
      lookups: 10,
      res_n: 1,
      cpu: 40,
      mem_used: 600,
      disk_used: 70,
      conns: 7,
    });
    expect(minutes[22]).toMatchObject({ up: 0, down: 6, latency_n: 0 });
    // The hour 10:00 was rolled up when 11:00 began: 360 samples, 30 of them down.
    const [hour] = await store.readEdgeHistory({ resolution: HOUR_POINT, from: t0, to: t0 + 3600 });
    expect(hour).toMatchObject({
      edge: 'hk1',
      t: t0,
      up: 330,
      down: 30,
      requests: 600,
      res_n: 60,
      cpu: 40,
    });
    const [siteHour] = await store.readSiteHistory({
      resolution: HOUR_POINT,
      from: t0,
      to: t0 + 3600,
    });
    expect(siteHour).toMatchObject({
      site: 'a.test',
      requests: 600,
      bytes: 60_000,
      up: 330,
      down: 30,
    });
    expect(siteHour?.status['2xx']).toBe(600);
    expect(siteHour?.cache.HIT).toBe(540);
    // One incident per subject, with its start, end and the alert's words.
    const incidents = await store.listIncidents({ since: new Date(T0).toISOString() });
    expect(incidents.map((i) => [i.kind, i.subject, i.started_at, i.ended_at, i.message])).toEqual([
      [
        'site',
        'a.test',
        '2026-12-01T10:20:00.000Z',
        '2026-12-01T10:25:00.000Z',
        'site a.test is down: edges: down',
      ],
      [
        'edge',
        'hk1',
        '2026-12-01T10:20:00.000Z',
        '2026-12-01T10:25:00.000Z',
        'edge hk1 has not reported for 40 s',
      ],
    ]);

    // Samples kept by the agent through an outage arrive late, in a finished hour: their
    // minutes get them and the hour is rolled up again.
    w.recorder.recordReport('hk1', report([sample(T0 + 5 * 60_000 + 30_000, 100)]), new Date(now));
    await w.flush();
    await w.rollUp(new Date(now));
    const [m5] = await store.readEdgeHistory({
      resolution: MINUTE_POINT,
      from: t0 + 300,
      to: t0 + 360,
    });
    expect(m5).toMatchObject({ res_n: 2, cpu: 70 });
    const [again] = await store.readEdgeHistory({
      resolution: HOUR_POINT,
      from: t0,
      to: t0 + 3600,
    });
    expect(again?.res_n).toBe(61);
    expect(again?.cpu).toBeCloseTo((40 * 60 + 100) / 61);

    // Pruning: 48 h later the minutes are gone, the hour stays.
    await w.prune(new Date(T0 + KEEP_MINUTE_POINTS * 1000 + 3600_000 * 2));
    expect(await store.readEdgeHistory({ resolution: MINUTE_POINT, from: 0, to: t0 * 2 })).toEqual(
      [],
    );
    expect(
      await store.readEdgeHistory({ resolution: HOUR_POINT, from: 0, to: t0 * 2 }),
    ).toHaveLength(1);
  });

  it('a failed write keeps the deltas for the next one', async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    const real = store;
    let fail = true;
    const flaky = {
      ...real,
      addHistory: (...args: Parameters<Store['addHistory']>) =>
        fail ? Promise.reject(new Error('disk full')) : real.addHistory(...args),
    };
    const w = new HistoryWorker({
      store: flaky,
      snapshot: async () => snapshot(true),
      health: () => ({ state: 'up', reason: null, since: null, history: [], last: null }),
      now: () => new Date(T0),
    });
    w.recorder.recordReport('hk1', report([], 5), new Date(T0));
    await expect(w.flush()).rejects.toThrow('disk full');
    fail = false;
    w.recorder.recordReport('hk1', report([], 3), new Date(T0));
    await w.flush();
    const [p] = await real.readEdgeHistory({ resolution: MINUTE_POINT, from: 0, to: T0 });
    expect(p?.requests).toBe(8);
  });
});
