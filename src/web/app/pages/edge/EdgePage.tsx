// One edge: its settings, live status, actions, the plan compiled for it and its last errors.
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { EdgeAnswer, EdgePlanAnswer, TokenAnswer } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import {
  Badge,
  ErrorNotice,
  HealthBadge,
  NotAvailable,
  Section,
  Sparkline,
} from '../../components/display.js';
import { formatAge, formatBytes, formatRelease } from '../../components/format.js';
import { useLive } from '../../live/LiveContext.js';
import { Link, navigate } from '../../router.js';
import { EdgeActions } from '../edges/EdgeActions.js';
import { TokenOnce } from '../edges/TokenOnce.js';
import { bandwidthText } from '../dashboard/DashboardPage.js';
import { maybeMessageText, messageText } from '../../i18n/messages.js';
import { EdgeCharts } from '../history/HistoryCharts.js';
import { EdgeNetworks } from './EdgeNetworks.js';

export function EdgePage(props: { name: string }) {
  const { t } = useTranslation();
  const { status } = useLive();
  const path = `/v1/edges/${encodeURIComponent(props.name)}`;
  const edge = useApi(() => api<EdgeAnswer>('GET', path), [status?.revision]);
  const plan = useApi(() => api<EdgePlanAnswer>('GET', `${path}/plan`), [status?.revision]);
  const [secret, setSecret] = useState<TokenAnswer | null>(null);
  const s = status?.edges.find((x) => x.name === props.name);
  const e = edge.data?.edge;
  const release = plan.data?.release ?? null;
  return (
    <div className="page" data-testid="edge-page">
      <p className="crumbs">
        <Link href="/edges">{t('edges.title')}</Link> /
      </p>
      <div className="page-head">
        <h1>{props.name}</h1>
        {e ? (
          <EdgeActions
            edge={e}
            onChanged={edge.reload}
            onToken={setSecret}
            onRemoved={() => navigate('/edges')}
          />
        ) : null}
      </div>
      {secret ? (
        <TokenOnce
          title={t('edges.newToken', { name: secret.name })}
          token={secret.token}
          join={secret.join_command}
          onDone={() => setSecret(null)}
        />
      ) : null}
      <ErrorNotice error={edge.error} />
      <Section title={t('edge.status')}>
        {s ? (
          <dl className="facts" data-testid="edge-status">
            <dt>{t('edges.col.state')}</dt>
            <dd>
              <Badge value={s.state} testid="edge-page-state" />
              {s.paused ? <Badge value="paused" /> : null}
            </dd>
            <dt>{t('edges.col.health')}</dt>
            <dd>
              <HealthBadge health={s.health} testid="edge-page-health" />
              {s.health_reason ? (
                <small className="reason" data-testid="edge-page-health-reason">
                  {' '}
                  {messageText(s.health_reason, s.health_reason_code)}
                </small>
              ) : null}
            </dd>
            <dt>{t('dashboard.col.release')}</dt>
            <dd>{formatRelease(s.applied_release, s.desired_release)}</dd>
            <dt>{t('dashboard.col.lastSeen')}</dt>
            <dd>{formatAge(s.age_seconds)}</dd>
            <dt>{t('edge.running', { proxy: s.proxy })}</dt>
            <dd>
              {s.proxy_running === null ? '–' : s.proxy_running ? t('common.yes') : t('common.no')}
            </dd>
            <dt>{t('edge.caches')}</dt>
            <dd data-testid="edge-page-cache">
              {s.cache === null ? '–' : s.cache ? t('common.yes') : t('common.no')}
              {s.note ? (
                <small className="reason"> {messageText(s.note, s.note_code)}</small>
              ) : null}
            </dd>
            <dt>{t('edge.connections')}</dt>
            <dd>{s.active_connections ?? '–'}</dd>
            <dt>{s.proxy === 'nginx' ? t('edge.validationNginx') : t('edge.validationCaddy')}</dt>
            <dd data-testid="edge-page-validation">
              {s.validation_ms === null
                ? '–'
                : t('edge.seconds', { s: (s.validation_ms / 1000).toFixed(1) })}
            </dd>
            <dt>{t('edge.traffic')}</dt>
            <dd>
              {t('edge.trafficText', {
                requests: s.traffic.requests,
                bytes: formatBytes(s.traffic.bytes),
              })}
              {s.traffic.hit_ratio !== null
                ? t('edge.hits', { percent: Math.round(s.traffic.hit_ratio * 100) })
                : ''}{' '}
              <Sparkline
                series={s.traffic.series}
                label={t('dashboard.trafficOf', { name: s.name })}
              />
            </dd>
            <dt>{t('dashboard.col.bandwidth')}</dt>
            <dd data-testid="edge-page-bandwidth">{bandwidthText(s.bandwidth)}</dd>
            {s.resources ? (
              <>
                <dt>{t('edge.machine')}</dt>
                <dd data-testid="edge-page-resources">
                  {t('edge.resources', {
                    cpu: s.resources.cpu_percent ?? '–',
                    cpus: s.resources.cpus,
                    load: s.resources.load.join(' '),
                    used: formatBytes(
                      s.resources.memory.total_bytes - s.resources.memory.available_bytes,
                    ),
                    total: formatBytes(s.resources.memory.total_bytes),
                  })}
                  {s.resources.disks.map((d) => (
                    <span key={d.dir}>
                      {t('edge.disk', {
                        dir: d.dir,
                        used: formatBytes(d.total_bytes - d.free_bytes),
                        total: formatBytes(d.total_bytes),
                      })}
                    </span>
                  ))}
                  {t('edge.tcpUp', {
                    tcp: s.resources.tcp_established ?? '–',
                    hours: Math.round(s.resources.uptime_seconds / 3600),
                  })}
                  {s.resources.proxy_version ? `, ${s.proxy} ${s.resources.proxy_version}` : ''}
                </dd>
              </>
            ) : null}
            <dt>{t('edge.lastError')}</dt>
            <dd data-testid="edge-page-error">
              {maybeMessageText(s.error, s.error_code) ?? t('common.none')}
            </dd>
          </dl>
        ) : (
          <p className="muted">{t('edge.noStatus')}</p>
        )}
      </Section>
      <Section title={t('dashboard.history')}>
        <EdgeCharts name={props.name} />
      </Section>
      {e ? (
        <Section title={t('edge.settings')}>
          <dl className="facts">
            <dt>{t('edges.col.addresses')}</dt>
            <dd>{[e.host.v4, e.host.v6].filter(Boolean).join(', ')}</dd>
            <dt>{t('edge.listensOn')}</dt>
            <dd>
              {t('edge.listenText', {
                addresses:
                  e.listen.addresses.length > 0
                    ? e.listen.addresses.join(', ')
                    : t('edge.allAddresses'),
                http: e.listen.http,
                https: e.listen.https,
              })}
            </dd>
            <dt>{t('edges.col.tags')}</dt>
            <dd>{e.tags.join(', ') || '–'}</dd>
            <dt>{t('edge.location')}</dt>
            <dd>{e.meta.latlong ? e.meta.latlong.join(', ') : '–'}</dd>
            <dt>{t('edge.proxy')}</dt>
            <dd>{e.proxy}</dd>
            <dt>{t('edges.once.token')}</dt>
            <dd>{e.has_token ? t('edge.tokenSet') : t('edge.tokenRevoked')}</dd>
          </dl>
        </Section>
      ) : null}
      {e ? <EdgeNetworks key={e.name} edge={e} onSaved={edge.reload} /> : null}
      <Section title={t('edge.plan')}>
        {plan.missing ? <NotAvailable what={t('edge.planWhat')} /> : null}
        {!plan.missing ? <ErrorNotice error={plan.error} /> : null}
        {plan.data ? (
          <>
            {release ? (
              <p data-testid="edge-release">
                <Trans
                  i18nKey="edge.release"
                  values={{
                    release: release.release,
                    revision: release.revision,
                    built: new Date(release.created_at).toLocaleString(),
                  }}
                  components={{ code: <code /> }}
                />{' '}
                <small>({release.hash})</small>
              </p>
            ) : (
              <p className="muted">{t('edge.noRelease')}</p>
            )}
            <details open>
              <summary>{t('edge.compiledPlan')}</summary>
              <pre className="code" data-testid="edge-plan">
                {JSON.stringify(plan.data.plan, null, 2)}
              </pre>
            </details>
          </>
        ) : null}
      </Section>
    </div>
  );
}
