// The public status page at /status (and /status/site/DOMAIN for one site): the current state
// of the sites and edges the status settings show, their 90-day uptime bars, 24 h of response
// times and the incidents of the last 90 days. No secrets, no addresses. Needs no token;
// refreshes every 15 s. Bars and graphs are SVG elements (no script, no inline style: CSP).
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
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
import { i18n } from '../../i18n/index.js';
import { LanguageSwitch } from '../../i18n/LanguageSwitch.js';
import { codedOf, messageText } from '../../i18n/messages.js';

const REFRESH_MS = 15_000;

function overall(rows: { health: Health }[], sites: { health: Health }[]) {
  const all = rows.map((r) => r.health);
  if (all.length === 0)
    return { text: 'public.overall.nothing', tone: 'unknown' as Health } as const;
  if (sites.some((x) => x.health === 'down'))
    return { text: 'public.overall.sitesDown', tone: 'down' as Health } as const;
  if (all.some((h) => h === 'down' || h === 'degraded'))
    return { text: 'public.overall.degraded', tone: 'degraded' as Health } as const;
  if (all.every((h) => h === 'up'))
    return { text: 'public.overall.operational', tone: 'up' as Health } as const;
  return { text: 'public.overall.unknown', tone: 'unknown' as Health } as const;
}

function duration(seconds: number): string {
  if (seconds < 60) return i18n.t('public.duration.seconds', { n: seconds });
  if (seconds < 3600) return i18n.t('public.duration.minutes', { n: Math.round(seconds / 60) });
  if (seconds < 86_400) return i18n.t('public.duration.hours', { n: (seconds / 3600).toFixed(1) });
  return i18n.t('public.duration.days', { n: (seconds / 86_400).toFixed(1) });
}

function usePublic<T>(url: string): { data: T | null; error: string | null } {
  const { t } = useTranslation();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<'missing' | 'failed' | null>(null);
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
          setError(err instanceof ApiError && err.routeMissing ? 'missing' : 'failed');
        },
      );
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [url]);
  return {
    data,
    error:
      error === 'missing' ? t('public.missing') : error === 'failed' ? t('public.failed') : null,
  };
}

function SubjectRow(props: { kind: 'site' | 'edge'; row: PublicSubjectHistory; link?: boolean }) {
  const { t } = useTranslation();
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
          {r.uptime === null
            ? t('public.noData')
            : t('public.uptime', { percent: (r.uptime * 100).toFixed(2) })}
        </small>
      </div>
      <UptimeBars days={r.days} testid={`bars-${props.kind}-${r.name}`} />
      <LineChart
        title={t('public.responseTime')}
        times={r.latency.map((p) => p.t)}
        series={[{ label: 'ms', className: 's1', values: r.latency.map((p) => p.ms) }]}
        format={(v) => `${v.toFixed(0)} ms`}
        testid={`latency-${props.kind}-${r.name}`}
      />
    </li>
  );
}

const KIND = { edge: 'public.kind.edge', site: 'public.kind.site' } as const;

function Incidents(props: { incidents: PublicIncident[] }) {
  const { t } = useTranslation();
  return (
    <section className="card">
      <h2>{t('public.incidents')}</h2>
      {props.incidents.length === 0 ? (
        <p className="muted" data-testid="no-incidents">
          {t('public.noIncidents')}
        </p>
      ) : (
        <ul className="incidents" data-testid="incidents">
          {props.incidents.map((i) => (
            <li
              key={`${i.kind}-${i.subject}-${i.started_at}`}
              data-testid={`incident-${i.subject}`}
            >
              <strong>
                {i.kind in KIND ? t(KIND[i.kind]) : i.kind} {i.subject}
              </strong>{' '}
              {i.ended_at === null ? (
                <span className="badge down">{t('public.ongoing')}</span>
              ) : (
                <span className="badge up">{t('public.resolved')}</span>
              )}
              <br />
              <small>
                {i.ended_at
                  ? t('public.fromTo', {
                      from: new Date(i.started_at).toLocaleString(),
                      to: new Date(i.ended_at).toLocaleString(),
                      duration: duration(i.duration_seconds),
                    })
                  : t('public.fromFor', {
                      from: new Date(i.started_at).toLocaleString(),
                      duration: duration(i.duration_seconds),
                    })}
              </small>
              <br />
              <span data-testid={`incident-message-${i.subject}`}>
                {messageText(i.message, codedOf(i))}
              </span>
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
  const { t } = useTranslation();
  const { data: status, error } = usePublic<PublicStatusHistory>('/v1/public/status/history');
  const o = status ? overall([...status.sites, ...status.edges], status.sites) : null;
  return (
    <main className="public" data-testid="public-status">
      <header>
        <div className="public-head">
          <h1 data-testid="public-title">{status?.title ?? t('public.title')}</h1>
          <LanguageSwitch />
        </div>
        {o ? (
          <p className={`overall ${o.tone}`} data-testid="overall">
            {t(o.text)}
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
            <h2>{t('public.sites')}</h2>
            <ul className="status-list">
              {status.sites.map((s) => (
                <SubjectRow key={s.name} kind="site" row={s} link={status.site_pages} />
              ))}
              {status.sites.length === 0 ? <li className="muted">{t('public.noSites')}</li> : null}
            </ul>
          </section>
          <section className="card">
            <h2>{t('public.edges')}</h2>
            <ul className="status-list">
              {status.edges.map((e) => (
                <SubjectRow key={e.name} kind="edge" row={e} />
              ))}
              {status.edges.length === 0 ? <li className="muted">{t('public.noEdges')}</li> : null}
            </ul>
          </section>
          <Incidents incidents={status.incidents} />
          <p className="muted">
            {t('public.updated', { time: new Date(status.updated_at).toLocaleString() })}
          </p>
        </>
      ) : null}
    </main>
  );
}

function SitePage(props: { domain: string }) {
  const { t } = useTranslation();
  const { data, error } = usePublic<PublicSiteStatus>(
    `/v1/public/status/sites/${encodeURIComponent(props.domain)}`,
  );
  return (
    <main className="public" data-testid="public-site-status">
      <header>
        <div className="public-head">
          <p>
            <a href="/status">{data?.title ?? t('public.status')}</a> /
          </p>
          <LanguageSwitch />
        </div>
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
              {t('public.badge')}{' '}
              <img src={`/v1/public/badge/${encodeURIComponent(props.domain)}.svg`} alt="" />{' '}
              <code>/v1/public/badge/{props.domain}.svg</code>
            </p>
          </section>
          <Incidents incidents={data.incidents} />
          <p className="muted">
            {t('public.updated', { time: new Date(data.updated_at).toLocaleString() })}
          </p>
        </>
      ) : null}
    </main>
  );
}
