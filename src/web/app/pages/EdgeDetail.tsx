// One edge: its settings, live status, actions, the plan compiled for it and its last errors.
import { useState } from 'react';
import { api, type EdgeWithToken, type TokenAnswer } from '../api.js';
import { useLive } from '../App.js';
import {
  Badge,
  ErrorNotice,
  formatAge,
  formatBytes,
  formatRelease,
  HealthBadge,
  NotAvailable,
  Section,
  Sparkline,
} from '../components.js';
import { Link, navigate } from '../router.js';
import { useApi } from '../useApi.js';
import { TokenOnce, EdgeActions } from './Edges.js';

interface PlanError {
  at?: string;
  time?: string;
  release?: number;
  message?: string;
}

interface PlanAnswer {
  plan?: unknown;
  errors?: (string | PlanError)[];
  last_errors?: (string | PlanError)[];
  [key: string]: unknown;
}

export function EdgePage(props: { name: string }) {
  const { status } = useLive();
  const path = `/v1/edges/${encodeURIComponent(props.name)}`;
  const edge = useApi(() => api<{ edge: EdgeWithToken }>('GET', path), [status?.revision]);
  const plan = useApi(() => api<PlanAnswer>('GET', `${path}/plan`), [status?.revision]);
  const [secret, setSecret] = useState<TokenAnswer | null>(null);
  const s = status?.edges.find((x) => x.name === props.name);
  const e = edge.data?.edge;
  const errors = plan.data ? (plan.data.errors ?? plan.data.last_errors ?? []) : [];
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
            <dt>nginx running</dt>
            <dd>{s.proxy_running === null ? '–' : s.proxy_running ? 'yes' : 'no'}</dd>
            <dt>Traffic (1 h)</dt>
            <dd>
              {s.traffic ? (
                <>
                  {s.traffic.requests} requests, {formatBytes(s.traffic.bytes)}
                  {s.traffic.hit_ratio !== null
                    ? `, ${Math.round(s.traffic.hit_ratio * 100)}% hits`
                    : ''}{' '}
                  <Sparkline series={s.traffic.series} label={`traffic of ${s.name}`} />
                </>
              ) : (
                '–'
              )}
            </dd>
            <dt>Last error</dt>
            <dd data-testid="edge-page-error">{s.error ?? 'none'}</dd>
          </dl>
        ) : (
          <p className="muted">No status yet.</p>
        )}
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
            <dd>{e.has_token === false ? 'revoked' : 'set'}</dd>
          </dl>
        </Section>
      ) : null}
      <Section title="Plan and last errors">
        {plan.missing ? <NotAvailable what="The compiled plan of an edge" /> : null}
        {!plan.missing ? <ErrorNotice error={plan.error} /> : null}
        {plan.data ? (
          <>
            {errors.length > 0 ? (
              <ul className="errors" data-testid="edge-errors">
                {errors.map((x, i) => (
                  <li key={i}>
                    {typeof x === 'string' ? (
                      x
                    ) : (
                      <>
                        {(x.at ?? x.time) ? <small>{x.at ?? x.time} </small> : null}
                        {x.release !== undefined ? <code>release {x.release}</code> : null}{' '}
                        {x.message}
                      </>
                    )}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No recent errors.</p>
            )}
            <details open>
              <summary>Compiled plan</summary>
              <pre className="code" data-testid="edge-plan">
                {JSON.stringify(plan.data.plan ?? plan.data, null, 2)}
              </pre>
            </details>
          </>
        ) : null}
      </Section>
    </div>
  );
}
