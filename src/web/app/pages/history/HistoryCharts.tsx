// Charts over 1 h / 24 h / 7 d / 90 d from the control plane's history (GET /v1/history/…):
// the fleet (dashboard: every edge summed), one edge (edge page: resources, network against
// its bandwidth_mbps, probe latency, traffic), one site (site page: traffic and hit ratio).
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { EdgesHistory, EdgeSeries, HistoryRange, SiteHistory } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { LineChart, RangePicker } from '../../components/charts.js';
import { ErrorNotice, NotAvailable } from '../../components/display.js';
import { formatBytes } from '../../components/format.js';

const count = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));
const percent = (v: number) => `${(v * 100).toFixed(0)}%`;
const mbps = (v: number) => `${v.toFixed(1)} Mbit/s`;
const ms = (v: number) => `${v.toFixed(0)} ms`;
const toMbps = (bps: number | null) => (bps === null ? null : (bps * 8) / 1e6);

/** Refresh every minute (the history is written on the minute). */
function useMinute(): number {
  const [tick, setTick] = useState(() => Math.floor(Date.now() / 60_000));
  useEffect(() => {
    const timer = setInterval(() => setTick(Math.floor(Date.now() / 60_000)), 15_000);
    return () => clearInterval(timer);
  }, []);
  return tick;
}

function sumSeries(edges: EdgeSeries[]) {
  const first = edges[0];
  if (!first) return { times: [], requests: [], bytes: [], hit: [] };
  const times = first.points.map((p) => p.t);
  const requests = times.map((_, i) => edges.reduce((n, e) => n + (e.points[i]?.requests ?? 0), 0));
  const bytes = times.map((_, i) => edges.reduce((n, e) => n + (e.points[i]?.bytes ?? 0), 0));
  const hit = times.map((_, i) => {
    const rs = edges
      .map((e) => e.points[i]?.hit_ratio)
      .filter((r): r is number => typeof r === 'number');
    return rs.length === 0 ? null : rs.reduce((a, b) => a + b, 0) / rs.length;
  });
  return { times, requests, bytes, hit };
}

export function FleetCharts() {
  const { t } = useTranslation();
  const [range, setRange] = useState<HistoryRange>('1h');
  const minute = useMinute();
  const h = useApi(
    () => api<EdgesHistory>('GET', `/v1/history/edges?range=${range}`),
    [range, minute],
  );
  if (h.missing) return <NotAvailable what={t('dashboard.history')} />;
  const s = sumSeries(h.data?.edges ?? []);
  return (
    <div data-testid="fleet-charts" data-range={h.data?.range}>
      <RangePicker value={range} onChange={setRange} />
      <ErrorNotice error={h.error} />
      <LineChart
        title={t('history.requestsAll')}
        times={s.times}
        series={[{ label: t('history.requests'), className: 's1', values: s.requests }]}
        format={count}
        testid="chart-requests"
      />
      <LineChart
        title={t('history.bytesServed')}
        times={s.times}
        series={[{ label: t('history.bytes'), className: 's2', values: s.bytes }]}
        format={(v) => formatBytes(v)}
        testid="chart-bytes"
      />
      <LineChart
        title={t('history.hitRatioTitle')}
        times={s.times}
        series={[{ label: t('history.hitRatio'), className: 's3', values: s.hit }]}
        format={percent}
        max={1}
        testid="chart-hit-ratio"
      />
    </div>
  );
}

export function EdgeCharts(props: { name: string }) {
  const { t } = useTranslation();
  const [range, setRange] = useState<HistoryRange>('1h');
  const minute = useMinute();
  const h = useApi(
    () =>
      api<EdgesHistory>(
        'GET',
        `/v1/history/edges/${encodeURIComponent(props.name)}?range=${range}`,
      ),
    [props.name, range, minute],
  );
  if (h.missing) return <NotAvailable what={t('dashboard.history')} />;
  const e = h.data?.edges[0];
  const pts = e?.points ?? [];
  const times = pts.map((p) => p.t);
  const capacity = e?.bandwidth_mbps ?? null;
  return (
    <div data-testid="edge-charts">
      <RangePicker value={range} onChange={setRange} />
      <ErrorNotice error={h.error} />
      <LineChart
        title={t('history.network')}
        times={times}
        series={[
          { label: t('history.out'), className: 's1', values: pts.map((p) => toMbps(p.tx_bps)) },
          { label: t('history.in'), className: 's2', values: pts.map((p) => toMbps(p.rx_bps)) },
        ]}
        format={mbps}
        {...(capacity !== null
          ? { limit: { value: capacity, label: t('history.capacity', { capacity }) } }
          : {})}
        testid="chart-network"
      />
      <LineChart
        title={t('history.cpuMemory')}
        times={times}
        series={[
          {
            label: t('history.cpu'),
            className: 's3',
            values: pts.map((p) => (p.cpu === null ? null : p.cpu / 100)),
          },
          {
            label: t('history.memory'),
            className: 's4',
            values: pts.map((p) =>
              p.mem_used === null || !p.mem_total ? null : p.mem_used / p.mem_total,
            ),
          },
          {
            label: t('history.cacheDisk'),
            className: 's2',
            values: pts.map((p) =>
              p.disk_used === null || !p.disk_total ? null : p.disk_used / p.disk_total,
            ),
          },
        ]}
        format={percent}
        max={1}
        testid="chart-cpu"
      />
      <LineChart
        title={t('history.probeLatency')}
        times={times}
        series={[
          { label: t('history.latency'), className: 's1', values: pts.map((p) => p.latency_ms) },
        ]}
        format={ms}
        testid="chart-latency"
      />
      <LineChart
        title={t('history.requestsHit')}
        times={times}
        series={[
          { label: t('history.requests'), className: 's1', values: pts.map((p) => p.requests) },
        ]}
        format={count}
        testid="chart-edge-requests"
      />
      <LineChart
        title={t('history.uptime')}
        times={times}
        series={[{ label: t('history.up'), className: 's2', values: pts.map((p) => p.up_ratio) }]}
        format={percent}
        max={1}
        testid="chart-edge-uptime"
      />
    </div>
  );
}

export function SiteCharts(props: { domain: string }) {
  const { t } = useTranslation();
  const [range, setRange] = useState<HistoryRange>('24h');
  const minute = useMinute();
  const h = useApi(
    () =>
      api<SiteHistory>(
        'GET',
        `/v1/history/sites/${encodeURIComponent(props.domain)}?range=${range}`,
      ),
    [props.domain, range, minute],
  );
  if (h.missing) return <NotAvailable what={t('dashboard.history')} />;
  const pts = h.data?.points ?? [];
  const times = pts.map((p) => p.t);
  return (
    <div data-testid="site-charts">
      <RangePicker value={range} onChange={setRange} />
      <ErrorNotice error={h.error} />
      <LineChart
        title={t('history.requestsTitle')}
        times={times}
        series={[
          { label: t('history.all'), className: 's1', values: pts.map((p) => p.requests) },
          { label: '5xx', className: 's3', values: pts.map((p) => p.status['5xx'] ?? 0) },
        ]}
        format={count}
        testid="chart-site-requests"
      />
      <LineChart
        title={t('history.hitRatioTitle')}
        times={times}
        series={[
          { label: t('history.hitRatio'), className: 's2', values: pts.map((p) => p.hit_ratio) },
        ]}
        format={percent}
        max={1}
        testid="chart-site-hit-ratio"
      />
      <LineChart
        title={t('history.originLatency')}
        times={times}
        series={[
          { label: t('history.latency'), className: 's4', values: pts.map((p) => p.latency_ms) },
        ]}
        format={ms}
        testid="chart-site-latency"
      />
    </div>
  );
}
