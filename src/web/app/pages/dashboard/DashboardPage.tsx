// The dashboard: alerts, edges on a world map and as a list (state, applied vs desired
// release, health, traffic with a hit-ratio sparkline), and the sites' health. Live.
import { listEdges } from '../../api/client.js';
import type { Alert, EdgeStatus, SiteStatus } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { Badge, ErrorNotice, HealthBadge, Section, Sparkline } from '../../components/display.js';
import { formatAge, formatBytes, formatRelease } from '../../components/format.js';
import { WorldMap } from '../../components/WorldMap.js';
import { useLive } from '../../live/LiveContext.js';
import { Link } from '../../router.js';
import { FleetCharts } from '../history/HistoryCharts.js';

const ALERT_TITLE: Record<string, string> = {
  edge_down: 'Edge down',
  config_error: 'Configuration error',
  cert_expiring: 'Certificate expiring',
  dns_drift: 'DNS drift',
  dns_origin_fallback: 'DNS origin fallback',
  edge_bandwidth: 'Bandwidth near capacity',
};

export function DashboardPage() {
  const { status, error } = useLive();
  const edges = useApi(listEdges, [status?.revision]);
  const rows = status?.edges ?? [];
  const alerts = status?.alerts ?? [];
  const sites = status?.sites;
  const counts = {
    up: rows.filter((r) => r.health === 'up').length,
    total: rows.length,
    requests: rows.reduce((s, r) => s + r.traffic.requests, 0),
  };
  return (
    <div className="page" data-testid="dashboard">
      <h1>Dashboard</h1>
      <ErrorNotice error={error} />
      <div className="stats">
        <div className="stat">
          <span className="stat-value" data-testid="stat-edges-up">
            {counts.up}/{counts.total}
          </span>
          <span className="stat-label">edges up</span>
        </div>
        <div className="stat">
          <span className="stat-value">{sites?.length ?? '–'}</span>
          <span className="stat-label">sites</span>
        </div>
        <div className="stat">
          <span className="stat-value" data-testid="stat-requests">
            {counts.requests}
          </span>
          <span className="stat-label">requests, last hour</span>
        </div>
        <div className="stat">
          <span className="stat-value" data-testid="stat-alerts">
            {alerts.length}
          </span>
          <span className="stat-label">alerts</span>
        </div>
      </div>
      <Alerts alerts={alerts} />
      <Section title="History">
        <FleetCharts />
      </Section>
      <Section title="Edges">
        <WorldMap edges={edges.data?.edges ?? []} status={rows} />
        <EdgeTable rows={rows} />
      </Section>
      <SitesHealth sites={sites} />
    </div>
  );
}

function Alerts(props: { alerts: Alert[] }) {
  if (props.alerts.length === 0)
    return (
      <p className="all-clear" data-testid="alerts-none">
        No alerts.
      </p>
    );
  return (
    <section className="alerts" aria-label="Alerts" data-testid="alerts">
      {props.alerts.map((a, i) => (
        <div key={i} className={`alert ${a.kind}`} role="status" data-testid={`alert-${a.kind}`}>
          <strong>{ALERT_TITLE[a.kind] ?? a.kind}</strong> <code>{a.subject}</code> {a.message}
          {a.since ? <small> since {new Date(a.since).toLocaleString()}</small> : null}
        </div>
      ))}
    </section>
  );
}

export function EdgeTable(props: { rows: EdgeStatus[] }) {
  if (props.rows.length === 0)
    return (
      <p className="muted">
        No edges yet. <Link href="/edges">Add one</Link>.
      </p>
    );
  return (
    <table className="table" data-testid="edge-table">
      <thead>
        <tr>
          <th scope="col">Edge</th>
          <th scope="col">State</th>
          <th scope="col">Health</th>
          <th scope="col">Release (applied/desired)</th>
          <th scope="col">Last seen</th>
          <th scope="col">Requests (1 h)</th>
          <th scope="col">Bytes</th>
          <th scope="col">Hit ratio</th>
          <th scope="col" title="Requests refused by an access rule / a rate limit">
            Denied / limited
          </th>
          <th scope="col">Traffic</th>
          <th scope="col">Bandwidth</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.name} data-testid={`edge-row-${r.name}`}>
            <th scope="row">
              <Link href={`/edges/${encodeURIComponent(r.name)}`}>{r.name}</Link>
              {r.paused ? <Badge value="paused" /> : null}
            </th>
            <td>
              <Badge value={r.state} testid={`edge-state-${r.name}`} title={r.error ?? undefined} />
              {r.note ? (
                <small className="reason" title={r.note} data-testid={`edge-note-${r.name}`}>
                  {' '}
                  {r.cache === false ? `${r.proxy}, no cache` : r.note}
                </small>
              ) : null}
            </td>
            <td>
              <HealthBadge
                health={r.health}
                testid={`edge-health-${r.name}`}
                title={r.health_reason ?? undefined}
              />
              {r.health_reason ? <small className="reason"> {r.health_reason}</small> : null}
            </td>
            <td data-testid={`edge-release-${r.name}`}>
              {formatRelease(r.applied_release, r.desired_release)}
            </td>
            <td>{formatAge(r.age_seconds)}</td>
            <td data-testid={`edge-requests-${r.name}`} data-value={r.traffic.requests}>
              {r.traffic.requests}
            </td>
            <td>{formatBytes(r.traffic.bytes)}</td>
            <td data-testid={`edge-hit-ratio-${r.name}`}>
              {r.traffic.hit_ratio !== null ? `${Math.round(r.traffic.hit_ratio * 100)}%` : '–'}
            </td>
            <td data-testid={`edge-refused-${r.name}`}>
              {r.traffic.denied} / {r.traffic.rate_limited}
            </td>
            <td>
              <Sparkline
                series={r.traffic.series}
                label={`traffic of ${r.name}`}
                testid={`edge-spark-${r.name}`}
              />
            </td>
            <td data-testid={`edge-bandwidth-${r.name}`}>{bandwidthText(r.bandwidth)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "12.3 of 30 Mbit/s (41%)", or what is known of it. */
export function bandwidthText(b: EdgeStatus['bandwidth']): string {
  const used = b.used_mbps === null ? '–' : b.used_mbps.toFixed(1);
  if (b.capacity_mbps === null) return b.used_mbps === null ? '–' : `${used} Mbit/s`;
  return `${used} of ${b.capacity_mbps} Mbit/s${b.percent === null ? '' : ` (${b.percent.toFixed(0)}%)`}`;
}

function SitesHealth(props: { sites: SiteStatus[] | undefined }) {
  const { sites } = props;
  if (!sites) return null;
  return (
    <Section title="Sites">
      {sites.length === 0 ? (
        <p className="muted">
          No sites yet. <Link href="/sites/new">Create one</Link>.
        </p>
      ) : (
        <ul className="site-health">
          {sites.map((s) => (
            <li key={s.domain} data-testid={`site-health-${s.domain}`}>
              <HealthBadge health={s.health} /> <Link href={`/sites/${s.domain}`}>{s.domain}</Link>
              {s.reason ? <small className="reason"> {s.reason}</small> : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
