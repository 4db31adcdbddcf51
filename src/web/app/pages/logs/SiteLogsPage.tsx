// A site's access log (docs/logs.md "Logs on demand"): the recent lines of its edges, filtered
// on the edges by status, path, client and cache status. Each "Show" asks the edges once; an
// edge that did not answer is named, the others' lines are shown.
import { useState, type FormEvent } from 'react';
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
        <Link href="/sites">Sites</Link> /{' '}
        <Link href={`/sites/${encodeURIComponent(domain)}`}>{domain}</Link> /
      </p>
      <h1>Access log</h1>
      <form className="card" onSubmit={(e) => void show(e)} noValidate>
        <Field
          label="Status"
          path="status"
          value={filter.status}
          onChange={set('status')}
          problems={[]}
          placeholder="404, 5xx or 404,5xx"
          testid="logs-status"
        />
        <Field
          label="Path starts with"
          path="path"
          value={filter.path}
          onChange={set('path')}
          problems={[]}
          placeholder="/api/"
          testid="logs-path"
        />
        <Field
          label="Client"
          path="client"
          value={filter.client}
          onChange={set('client')}
          problems={[]}
          placeholder="203.0.113.7"
          testid="logs-client"
        />
        <Select
          label="Cache"
          value={filter.cache}
          options={CACHE}
          onChange={set('cache')}
          testid="logs-cache"
        />
        <button type="submit" disabled={busy} data-testid="logs-show">
          {busy ? 'Asking the edges…' : 'Show'}
        </button>
      </form>
      <ErrorNotice error={error} />
      {answer ? (
        <>
          <ul className="muted" data-testid="logs-edges">
            {answer.edges.map((e) => (
              <li key={e.edge} data-testid={`logs-edge-${e.edge}`}>
                {e.edge}: {e.error ?? `${e.lines} lines${e.truncated ? ' (more matched)' : ''}`}
              </li>
            ))}
          </ul>
          {answer.lines.length === 0 ? (
            <p className="muted" data-testid="logs-empty">
              No matching lines.
            </p>
          ) : (
            <table className="table card" data-testid="logs-table">
              <TableHead
                columns={['Time', 'Edge', 'Status', 'Cache', 'Method', 'URI', 'Client', 'Bytes']}
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
