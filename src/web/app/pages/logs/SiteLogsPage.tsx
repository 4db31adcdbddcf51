// A site's access log (docs/logs.md "Logs on demand"): the recent lines of its edges, filtered
// on the edges by status, path, client and cache status. Each "Show" asks the edges once; an
// edge that did not answer is named, the others' lines are shown.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { SiteLogs } from '../../api/types.js';
import { ErrorNotice, TableHead } from '../../components/display.js';
import { Field, Select } from '../../components/form.js';
import { Link } from '../../router.js';

const CACHE = ['', 'HIT', 'MISS', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED', 'BYPASS', 'EDGE'];

interface Filter {
  status: string;
  path: string;
  client: string;
  cache: string;
}

function query(f: Filter): string {
  const q = new URLSearchParams();
  for (const k of ['status', 'path', 'client', 'cache'] as const) {
    const v = f[k].trim();
    if (v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export function SiteLogsPage(props: { domain: string }) {
  const { domain } = props;
  const { t } = useTranslation();
  const [filter, setFilter] = useState<Filter>({ status: '', path: '', client: '', cache: '' });
  const [answer, setAnswer] = useState<SiteLogs | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Filter) => (v: string) => setFilter((f) => ({ ...f, [k]: v }));

  const show = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    try {
      const a = await api<SiteLogs>(
        'GET',
        `/v1/sites/${encodeURIComponent(domain)}/logs${query(filter)}`,
      );
      setAnswer(a);
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page" data-testid="site-logs">
      <p className="crumbs">
        <Link href="/sites">{t('sites.title')}</Link> /{' '}
        <Link href={`/sites/${encodeURIComponent(domain)}`}>{domain}</Link> /
      </p>
      <h1>{t('logs.title')}</h1>
      <form className="card" onSubmit={(e) => void show(e)} noValidate>
        <Field
          label={t('logs.status')}
          path="status"
          value={filter.status}
          onChange={set('status')}
          problems={[]}
          placeholder={t('logs.statusHint')}
          testid="logs-status"
        />
        <Field
          label={t('logs.path')}
          path="path"
          value={filter.path}
          onChange={set('path')}
          problems={[]}
          placeholder="/api/"
          testid="logs-path"
        />
        <Field
          label={t('logs.client')}
          path="client"
          value={filter.client}
          onChange={set('client')}
          problems={[]}
          placeholder="203.0.113.7"
          testid="logs-client"
        />
        <Select
          label={t('logs.cache')}
          value={filter.cache}
          options={CACHE}
          onChange={set('cache')}
          testid="logs-cache"
        />
        <button type="submit" disabled={busy} data-testid="logs-show">
          {busy ? t('logs.asking') : t('logs.show')}
        </button>
      </form>
      <ErrorNotice error={error} />
      {answer ? (
        <>
          <ul className="muted" data-testid="logs-edges">
            {answer.edges.map((e) => (
              <li key={e.edge} data-testid={`logs-edge-${e.edge}`}>
                {e.edge}:{' '}
                {e.error ??
                  `${t('logs.lines', { count: e.lines })}${e.truncated ? ` ${t('logs.more')}` : ''}`}
              </li>
            ))}
          </ul>
          {answer.lines.length === 0 ? (
            <p className="muted" data-testid="logs-empty">
              {t('logs.empty')}
            </p>
          ) : (
            <table className="table card" data-testid="logs-table">
              <TableHead
                columns={[
                  t('logs.columns.time'),
                  t('logs.columns.edge'),
                  t('logs.columns.status'),
                  t('logs.columns.cache'),
                  t('logs.columns.method'),
                  t('logs.columns.uri'),
                  t('logs.columns.client'),
                  t('logs.columns.bytes'),
                ]}
              />
              <tbody>
                {answer.lines.map((l, i) => (
                  <tr key={i} data-testid="logs-row">
                    <td>{l.time}</td>
                    <td>{l.edge}</td>
                    <td data-testid="logs-row-status">{l.status}</td>
                    <td>{l.cache}</td>
                    <td>{l.method}</td>
                    <td data-testid="logs-row-uri">
                      <code>{l.uri}</code>
                    </td>
                    <td>{l.remote}</td>
                    <td>{l.bytes}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </div>
  );
}
