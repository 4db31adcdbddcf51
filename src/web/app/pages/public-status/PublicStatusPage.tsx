// The public status page at /status (and /status/site/DOMAIN for one site): the current state
// of the sites and edges the status settings show, their 90-day uptime bars, 24 h of response
// times and the incidents of the last 90 days. No secrets, no addresses. Needs no token;
// refreshes every 15 s. Bars and graphs are SVG elements (no script, no inline style: CSP).
import { useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client.js';
import type {
  Health,
  PublicIncident,
  PublicSiteStatus,
  PublicStatusHistory,
  PublicSubjectHistory,
} from '../../api/types.js';
import { LineChart, UptimeBars } from '../../components/charts.js';
import { HealthBadge } from '../../components/display.js';

const REFRESH_MS = 15_000;

function overall(rows: { health: Health }[], sites: { health: Health }[]) {
  const all = rows.map((r) => r.health);
  if (all.length === 0) return { text: 'Nothing to report yet', tone: 'unknown' as Health };
  if (sites.some((x) => x.health === 'down'))
    return { text: 'Some sites are down', tone: 'down' as Health };
  if (all.some((h) => h === 'down' || h === 'degraded'))
    return { text: 'Partially degraded', tone: 'degraded' as Health };
  if (all.every((h) => h === 'up'))
    return { text: 'All systems operational', tone: 'up' as Health };
  return { text: 'Status partly unknown', tone: 'unknown' as Health };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

function usePublic<T>(url: string): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api<T>('GET', url, undefined, { token: '' }).then(
        (s) => {
          if (!live) return;
          setData(s);
          setError(null);
        },
        (err: unknown) => {
          if (!live) return;
          setError(
            err instanceof ApiError && err.routeMissing
              ? 'This status page is not available on this control plane.'
              : 'The status could not be loaded; retrying.',
          );
        },
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [url]);
  return { data, error };
}

function SubjectRow(props: { kind: 'site' | 'edge'; row: PublicSubjectHistory; link?: boolean }) {
  const r = props.row;
  return (
    <li data-testid={`public-${props.kind}-${r.name}`} className="status-row">
      <div>
        {props.link ? (
          <a href={`/status/site/${encodeURIComponent(r.name)}`}>{r.name}</a>
        ) : (
          <span>{r.name}</span>
        )}{' '}
        <HealthBadge health={r.health} />{' '}
        <small className="muted" data-testid={`uptime-${props.kind}-${r.name}`}>
          {r.uptime === null ? 'no data yet' : `${(r.uptime * 100).toFixed(2)}% uptime, 90 days`}
        </small>
      </div>
      <UptimeBars days={r.days} testid={`bars-${props.kind}-${r.name}`} />
      <LineChart
        title="Response time, 24 h"
        times={r.latency.map((p) => p.t)}
        series={[{ label: 'ms', className: 's1', values: r.latency.map((p) => p.ms) }]}
        format={(v) => `${v.toFixed(0)} ms`}
        testid={`latency-${props.kind}-${r.name}`}
      />
    </li>
  );
}

function Incidents(props: { incidents: PublicIncident[] }) {
  return (
    <section className="card">
      <h2>Incidents, last 90 days</h2>
      {props.incidents.length === 0 ? (
        <p className="muted" data-testid="no-incidents">
          No incidents.
        </p>
      ) : (
        <ul className="incidents" data-testid="incidents">
          {props.incidents.map((i) => (
            <li
              key={`${i.kind}-${i.subject}-${i.started_at}`}
              data-testid={`incident-${i.subject}`}
            >
              <strong>
                {i.kind} {i.subject}
              </strong>{' '}
              {i.ended_at === null ? (
                <span className="badge down">ongoing</span>
              ) : (
                <span className="badge up">resolved</span>
              )}
              <br />
              <small>
                from {new Date(i.started_at).toLocaleString()}
                {i.ended_at ? ` to ${new Date(i.ended_at).toLocaleString()}` : ''}, for{' '}
                {duration(i.duration_seconds)}
              </small>
              <br />
              <span data-testid={`incident-message-${i.subject}`}>{i.message}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function PublicStatusPage(props: { site?: string }) {
  return props.site !== undefined ? <SitePage domain={props.site} /> : <FleetPage />;
}

function FleetPage() {
  const { data: status, error } = usePublic<PublicStatusHistory>('/v1/public/status/history');
  const o = status ? overall([...status.sites, ...status.edges], status.sites) : null;
  return (
    <main className="public" data-testid="public-status">
      <header>
        <h1 data-testid="public-title">{status?.title ?? 'Service status'}</h1>
        {o ? (
          <p className={`overall ${o.tone}`} data-testid="overall">
            {o.text}
          </p>
        ) : null}
      </header>
      {error ? (
        <p className="notice" role="status">
          {error}
        </p>
      ) : null}
      {status ? (
        <>
          <section className="card">
            <h2>Sites</h2>
            <ul className="status-list">
              {status.sites.map((s) => (
                <SubjectRow key={s.name} kind="site" row={s} link={status.site_pages} />
              ))}
              {status.sites.length === 0 ? <li className="muted">No sites.</li> : null}
            </ul>
          </section>
          <section className="card">
            <h2>Edges</h2>
            <ul className="status-list">
              {status.edges.map((e) => (
                <SubjectRow key={e.name} kind="edge" row={e} />
              ))}
              {status.edges.length === 0 ? <li className="muted">No edges.</li> : null}
            </ul>
          </section>
          <Incidents incidents={status.incidents} />
          <p className="muted">Updated {new Date(status.updated_at).toLocaleString()}.</p>
        </>
      ) : null}
    </main>
  );
}

function SitePage(props: { domain: string }) {
  const { data, error } = usePublic<PublicSiteStatus>(
    `/v1/public/status/sites/${encodeURIComponent(props.domain)}`,
  );
  return (
    <main className="public" data-testid="public-site-status">
      <header>
        <p>
          <a href="/status">{data?.title ?? 'Status'}</a> /
        </p>
        <h1>{props.domain}</h1>
      </header>
      {error ? (
        <p className="notice" role="status">
          {error}
        </p>
      ) : null}
      {data ? (
        <>
          <section className="card">
            <ul className="status-list">
              <SubjectRow kind="site" row={data.site} />
            </ul>
            <p>
              Badge: <img src={`/v1/public/badge/${encodeURIComponent(props.domain)}.svg`} alt="" />{' '}
              <code>/v1/public/badge/{props.domain}.svg</code>
            </p>
          </section>
          <Incidents incidents={data.incidents} />
          <p className="muted">Updated {new Date(data.updated_at).toLocaleString()}.</p>
        </>
      ) : null}
    </main>
  );
}
