// The dashboard: alerts, edges on a world map and as a list (state, applied vs desired
// release, health, traffic with a hit-ratio sparkline), and the sites' health. Live.
import { Trans, useTranslation } from 'react-i18next';
import { listEdges } from '../../api/client.js';
import type { Alert, EdgeStatus, SiteStatus } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { Badge, ErrorNotice, HealthBadge, Section, Sparkline } from '../../components/display.js';
import { formatAge, formatBytes, formatRelease } from '../../components/format.js';
import { WorldMap } from '../../components/WorldMap.js';
import { useLive } from '../../live/LiveContext.js';
import { Link } from '../../router.js';
import type { en } from '../../i18n/en.js';
import { i18n } from '../../i18n/index.js';
import { codedOf, maybeMessageText, messageText } from '../../i18n/messages.js';
import { FleetCharts } from '../history/HistoryCharts.js';
import { SiteEdgesSummary } from './SiteEdges.js';

const ALERT_TITLE: Record<string, `dashboard.alert.${keyof typeof en.dashboard.alert}`> = {
  edge_down: 'dashboard.alert.edge_down',
  config_error: 'dashboard.alert.config_error',
  cert_expiring: 'dashboard.alert.cert_expiring',
  dns_drift: 'dashboard.alert.dns_drift',
  dns_origin_fallback: 'dashboard.alert.dns_origin_fallback',
  edge_bandwidth: 'dashboard.alert.edge_bandwidth',
};

export function DashboardPage() {
  const { t } = useTranslation();
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
      <h1>{t('dashboard.title')}</h1>
      <ErrorNotice error={error} />
      <div className="stats">
        <div className="stat">
          <span className="stat-value" data-testid="stat-edges-up">
            {counts.up}/{counts.total}
          </span>
          <span className="stat-label">{t('dashboard.edgesUp')}</span>
        </div>
        <div className="stat">
          <span className="stat-value">{sites?.length ?? '–'}</span>
          <span className="stat-label">{t('dashboard.sites')}</span>
        </div>
        <div className="stat">
          <span className="stat-value" data-testid="stat-requests">
            {counts.requests}
          </span>
          <span className="stat-label">{t('dashboard.requestsHour')}</span>
        </div>
        <div className="stat">
          <span className="stat-value" data-testid="stat-alerts">
            {alerts.length}
          </span>
          <span className="stat-label">{t('dashboard.alerts')}</span>
        </div>
      </div>
      <Alerts alerts={alerts} />
      <Section title={t('dashboard.history')}>
        <FleetCharts />
      </Section>
      <Section title={t('dashboard.edges')}>
        <WorldMap edges={edges.data?.edges ?? []} status={rows} />
        <EdgeTable rows={rows} />
      </Section>
      <SitesHealth sites={sites} revision={status?.revision} />
    </div>
  );
}

function Alerts(props: { alerts: Alert[] }) {
  const { t } = useTranslation();
  if (props.alerts.length === 0)
    return (
      <p className="all-clear" data-testid="alerts-none">
        {t('dashboard.noAlerts')}
      </p>
    );
  return (
    <section className="alerts" aria-label={t('dashboard.alertsLabel')} data-testid="alerts">
      {props.alerts.map((a, i) => (
        <div key={i} className={`alert ${a.kind}`} role="status" data-testid={`alert-${a.kind}`}>
          <strong>{a.kind in ALERT_TITLE ? t(ALERT_TITLE[a.kind] as never) : a.kind}</strong>{' '}
          <code>{a.subject}</code>{' '}
          <span data-testid={`alert-message-${a.subject}`}>
            {messageText(a.message, codedOf(a))}
          </span>
          {a.since ? (
            <small>{t('dashboard.since', { time: new Date(a.since).toLocaleString() })}</small>
          ) : null}
        </div>
      ))}
    </section>
  );
}

export function EdgeTable(props: { rows: EdgeStatus[] }) {
  const { t } = useTranslation();
  if (props.rows.length === 0)
    return (
      <p className="muted">
        <Trans i18nKey="dashboard.noEdges" components={{ add: <Link href="/edges" /> }} />
      </p>
    );
  return (
    <table className="table" data-testid="edge-table">
      <thead>
        <tr>
          <th scope="col">{t('dashboard.col.edge')}</th>
          <th scope="col">{t('dashboard.col.state')}</th>
          <th scope="col">{t('dashboard.col.health')}</th>
          <th scope="col">{t('dashboard.col.release')}</th>
          <th scope="col">{t('dashboard.col.lastSeen')}</th>
          <th scope="col">{t('dashboard.col.requests')}</th>
          <th scope="col">{t('dashboard.col.bytes')}</th>
          <th scope="col">{t('dashboard.col.hitRatio')}</th>
          <th scope="col" title={t('dashboard.col.refusedTitle')}>
            {t('dashboard.col.refused')}
          </th>
          <th scope="col">{t('dashboard.col.traffic')}</th>
          <th scope="col">{t('dashboard.col.bandwidth')}</th>
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
              <Badge
                value={r.state}
                testid={`edge-state-${r.name}`}
                title={maybeMessageText(r.error, r.error_code) ?? undefined}
              />
              {r.note ? (
                <small className="reason" title={r.note} data-testid={`edge-note-${r.name}`}>
                  {' '}
                  {r.cache === false ? t('dashboard.noCache', { proxy: r.proxy }) : r.note}
                </small>
              ) : null}
            </td>
            <td>
              <HealthBadge
                health={r.health}
                testid={`edge-health-${r.name}`}
                title={maybeMessageText(r.health_reason, r.health_reason_code) ?? undefined}
              />
              {r.health_reason ? (
                <small className="reason" data-testid={`edge-health-reason-${r.name}`}>
                  {' '}
                  {messageText(r.health_reason, r.health_reason_code)}
                </small>
              ) : null}
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
                label={t('dashboard.trafficOf', { name: r.name })}
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
  const of = i18n.t('dashboard.bandwidthOf', { used, capacity: b.capacity_mbps });
  return `${of}${b.percent === null ? '' : ` (${b.percent.toFixed(0)}%)`}`;
}

function SitesHealth(props: { sites: SiteStatus[] | undefined; revision: number | undefined }) {
  const { t } = useTranslation();
  const { sites } = props;
  if (!sites) return null;
  return (
    <Section title={t('dashboard.sitesTitle')}>
      {sites.length === 0 ? (
        <p className="muted">
          <Trans i18nKey="dashboard.noSites" components={{ create: <Link href="/sites/new" /> }} />
        </p>
      ) : (
        <ul className="site-health">
          {sites.map((s) => (
            <li key={s.domain} data-testid={`site-health-${s.domain}`}>
              <HealthBadge health={s.health} /> <Link href={`/sites/${s.domain}`}>{s.domain}</Link>
              {s.reason ? (
                <small className="reason"> {messageText(s.reason, s.reason_code)}</small>
              ) : null}
              <SiteEdgesSummary site={s} revision={props.revision} />
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
