// One edge: its settings, live status, actions, the plan compiled for it and its last errors.
import { useState } from 'react';
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
import { EdgeCharts } from '../history/HistoryCharts.js';

export function EdgePage(props: { name: string }) {
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
        <Link href="/edges">Edges</Link> /
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
          title={`New token for ${secret.name}`}
          token={secret.token}
          join={secret.join_command}
          onDone={() => setSecret(null)}
        />
      ) : null}
      <ErrorNotice error={edge.error} />
      <Section title="Status">
        {s ? (
          <dl className="facts" data-testid="edge-status">
            <dt>State</dt>
            <dd>
              <Badge value={s.state} testid="edge-page-state" />
              {s.paused ? <Badge value="paused" /> : null}
            </dd>
            <dt>Health</dt>
            <dd>
              <HealthBadge health={s.health} testid="edge-page-health" />
              {s.health_reason ? <small className="reason"> {s.health_reason}</small> : null}
            </dd>
            <dt>Release (applied/desired)</dt>
            <dd>{formatRelease(s.applied_release, s.desired_release)}</dd>
            <dt>Last seen</dt>
            <dd>{formatAge(s.age_seconds)}</dd>
            <dt>{s.proxy} running</dt>
            <dd>{s.proxy_running === null ? '–' : s.proxy_running ? 'yes' : 'no'}</dd>
            <dt>Caches</dt>
            <dd data-testid="edge-page-cache">
              {s.cache === null ? '–' : s.cache ? 'yes' : 'no'}
              {s.note ? <small className="reason"> {s.note}</small> : null}
            </dd>
            <dt>Connections</dt>
            <dd>{s.active_connections ?? '–'}</dd>
            <dt>{s.proxy === 'nginx' ? 'nginx -t' : 'caddy validate'}</dt>
            <dd data-testid="edge-page-validation">
              {s.validation_ms === null ? '–' : `${(s.validation_ms / 1000).toFixed(1)} s`}
            </dd>
            <dt>Traffic (1 h)</dt>
            <dd>
              {s.traffic.requests} requests, {formatBytes(s.traffic.bytes)}
              {s.traffic.hit_ratio !== null
                ? `, ${Math.round(s.traffic.hit_ratio * 100)}% hits`
                : ''}{' '}
              <Sparkline series={s.traffic.series} label={`traffic of ${s.name}`} />
            </dd>
            <dt>Bandwidth</dt>
            <dd data-testid="edge-page-bandwidth">{bandwidthText(s.bandwidth)}</dd>
            {s.resources ? (
              <>
                <dt>Machine</dt>
                <dd data-testid="edge-page-resources">
                  CPU {s.resources.cpu_percent ?? '–'}% of {s.resources.cpus}, load{' '}
                  {s.resources.load.join(' ')}, memory{' '}
                  {formatBytes(s.resources.memory.total_bytes - s.resources.memory.available_bytes)}{' '}
                  of {formatBytes(s.resources.memory.total_bytes)}
                  {s.resources.disks.map((d) => (
                    <span key={d.dir}>
                      , {d.dir} disk {formatBytes(d.total_bytes - d.free_bytes)} of{' '}
                      {formatBytes(d.total_bytes)}
                    </span>
                  ))}
                  , {s.resources.tcp_established ?? '–'} TCP connections, up{' '}
                  {Math.round(s.resources.uptime_seconds / 3600)} h
                  {s.resources.proxy_version ? `, ${s.proxy} ${s.resources.proxy_version}` : ''}
                </dd>
              </>
            ) : null}
            <dt>Last error</dt>
            <dd data-testid="edge-page-error">{s.error ?? 'none'}</dd>
          </dl>
        ) : (
          <p className="muted">No status yet.</p>
        )}
      </Section>
      <Section title="History">
        <EdgeCharts name={props.name} />
      </Section>
      {e ? (
        <Section title="Settings">
          <dl className="facts">
            <dt>Addresses</dt>
            <dd>{[e.host.v4, e.host.v6].filter(Boolean).join(', ')}</dd>
            <dt>Listens on</dt>
            <dd>
              {e.listen.addresses.length > 0 ? e.listen.addresses.join(', ') : 'all addresses'},
              HTTP {e.listen.http}, HTTPS {e.listen.https}
            </dd>
            <dt>Tags</dt>
            <dd>{e.tags.join(', ') || '–'}</dd>
            <dt>Location</dt>
            <dd>{e.meta.latlong ? e.meta.latlong.join(', ') : '–'}</dd>
            <dt>Proxy</dt>
            <dd>{e.proxy}</dd>
            <dt>Token</dt>
            <dd>{e.has_token ? 'set' : 'revoked'}</dd>
          </dl>
        </Section>
      ) : null}
      <Section title="Plan and newest release">
        {plan.missing ? <NotAvailable what="The compiled plan of an edge" /> : null}
        {!plan.missing ? <ErrorNotice error={plan.error} /> : null}
        {plan.data ? (
          <>
            {release ? (
              <p data-testid="edge-release">
                Release <code>{release.release}</code> from revision {release.revision}, built{' '}
                {new Date(release.created_at).toLocaleString()} <small>({release.hash})</small>
              </p>
            ) : (
              <p className="muted">No release built for this edge yet.</p>
            )}
            <details open>
              <summary>Compiled plan</summary>
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
