// DNS: what the control plane would change at the provider (the plan, as a diff), the
// provider's status, and an Apply button.
import { useState } from 'react';
import { api } from '../api.js';
import { ErrorNotice, NotAvailable, Section } from '../components.js';
import { useApi } from '../useApi.js';

interface RecordChange {
  op?: string;
  action?: string;
  zone?: string;
  name?: string;
  type?: string;
  ttl?: number;
  from?: unknown;
  to?: unknown;
  before?: unknown;
  after?: unknown;
}

/** Finds the list of changes in a plan, whichever key the provider uses. */
function changesOf(plan: unknown): RecordChange[] | null {
  if (Array.isArray(plan)) return plan as RecordChange[];
  if (plan && typeof plan === 'object') {
    const o = plan as Record<string, unknown>;
    for (const k of ['changes', 'rrsets', 'plan'])
      if (Array.isArray(o[k])) return o[k] as RecordChange[];
    if (Array.isArray(o.zones))
      return (o.zones as { zone?: string; changes?: RecordChange[] }[]).flatMap((z) =>
        (z.changes ?? []).map((c) => ({ zone: z.zone, ...c })),
      );
  }
  return null;
}

const show = (v: unknown) =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);

export function DnsPage() {
  const plan = useApi(() => api<unknown>('GET', '/v1/dns/plan'));
  const status = useApi(() => api<unknown>('GET', '/v1/dns/status'));
  const [result, setResult] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await api('POST', '/v1/dns/apply', {}));
      plan.reload();
      status.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (plan.missing) {
    return (
      <div className="page" data-testid="dns">
        <h1>DNS</h1>
        <NotAvailable what="DNS management" />
      </div>
    );
  }
  const changes = plan.data !== undefined ? changesOf(plan.data) : null;
  return (
    <div className="page" data-testid="dns">
      <h1>DNS</h1>
      <ErrorNotice error={plan.error} />
      <Section
        title="Plan"
        actions={
          <button
            type="button"
            onClick={() => void apply()}
            disabled={busy || (changes !== null && changes.length === 0)}
            data-testid="dns-apply"
          >
            {busy ? 'Applying…' : 'Apply'}
          </button>
        }
      >
        {changes === null && plan.data !== undefined ? (
          <pre className="code">{JSON.stringify(plan.data, null, 2)}</pre>
        ) : null}
        {changes !== null && changes.length === 0 ? (
          <p className="muted" data-testid="dns-in-sync">
            The provider matches the desired records.
          </p>
        ) : null}
        {changes !== null && changes.length > 0 ? (
          <table className="table" data-testid="dns-plan">
            <thead>
              <tr>
                <th scope="col">change</th>
                <th scope="col">name</th>
                <th scope="col">type</th>
                <th scope="col">TTL</th>
                <th scope="col">from</th>
                <th scope="col">to</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((c, i) => {
                const op = c.op ?? c.action ?? 'change';
                return (
                  <tr key={i} className={`diff-row ${op}`}>
                    <td>
                      <span className={`op ${op}`}>{op}</span>
                    </td>
                    <td>
                      <code>{c.name}</code>
                      {c.zone ? <small className="muted"> ({c.zone})</small> : null}
                    </td>
                    <td>{c.type}</td>
                    <td>{c.ttl ?? ''}</td>
                    <td className="from">
                      <code>{show(c.from ?? c.before)}</code>
                    </td>
                    <td className="to">
                      <code>{show(c.to ?? c.after)}</code>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
        <ErrorNotice error={error} />
        {result ? (
          <details open data-testid="dns-result">
            <summary>Applied</summary>
            <pre className="code">{JSON.stringify(result, null, 2)}</pre>
          </details>
        ) : null}
      </Section>
      {status.data !== undefined ? (
        <Section title="Provider status">
          <pre className="code">{JSON.stringify(status.data, null, 2)}</pre>
        </Section>
      ) : null}
    </div>
  );
}
