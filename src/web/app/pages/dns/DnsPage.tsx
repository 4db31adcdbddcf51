// DNS: what a sync would change at the provider (the plan, per zone, as a diff of record
// sets), each zone's drift, and Apply (optionally pruning sets no site needs any more).
import { useState } from 'react';
import { api } from '../../api/client.js';
import type { DnsApplyAnswer, DnsPlan, DnsStatus, ProviderRRset } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { Badge, ErrorNotice, NotAvailable, Section, TableHead } from '../../components/display.js';
import { Checkbox } from '../../components/form.js';

const DRIFT: Record<string, string> = { in_sync: 'ok', pending: 'pending', error: 'error' };

function RRset(props: { set: ProviderRRset | null }) {
  if (!props.set) return <span className="muted">–</span>;
  const body = typeof props.set.body === 'string' ? props.set.body : JSON.stringify(props.set.body);
  return (
    <code>
      TTL {props.set.ttl}: {body}
    </code>
  );
}

export function DnsPage() {
  const [prune, setPrune] = useState(false);
  const plan = useApi(
    () => api<DnsPlan>('GET', `/v1/dns/plan${prune ? '?prune=true' : ''}`),
    [prune],
  );
  const status = useApi(() => api<DnsStatus>('GET', '/v1/dns/status'));
  const [result, setResult] = useState<DnsApplyAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await api<DnsApplyAnswer>('POST', '/v1/dns/apply', { prune }));
      plan.reload();
      status.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (plan.missing)
    return (
      <div className="page" data-testid="dns">
        <h1>DNS</h1>
        <NotAvailable what="DNS management" />
      </div>
    );
  const zones = plan.data?.zones ?? [];
  const total = zones.reduce((n, z) => n + z.changes.length, 0);
  return (
    <div className="page" data-testid="dns">
      <h1>DNS</h1>
      <ErrorNotice error={plan.error} />
      {plan.data && plan.data.provider === null ? (
        <p className="notice" data-testid="dns-no-provider">
          No DNS provider is configured: add a <code>dns</code> block to the desired state (see
          docs/dns.md).
        </p>
      ) : null}
      {status.data && status.data.provider !== null ? (
        <Section title="Zones">
          <p className="muted">
            Provider: {status.data.provider ?? 'none configured'}
            {status.data.last_sync
              ? `; last sync ${new Date(status.data.last_sync).toLocaleString()}`
              : ''}
            {status.data.syncing ? '; syncing now…' : ''}
          </p>
          {status.data.zones.length > 0 ? (
            <table className="table" data-testid="dns-zones">
              <TableHead
                columns={[
                  'Zone',
                  'State',
                  'Pending changes',
                  'Obsolete',
                  'Not ours',
                  'Checked',
                  'Error',
                ]}
              />
              <tbody>
                {status.data.zones.map((z) => (
                  <tr key={z.zone}>
                    <th scope="row">{z.zone}</th>
                    <td>
                      <Badge value={DRIFT[z.state] ?? z.state} title={z.state} />
                    </td>
                    <td>{z.pending_changes}</td>
                    <td>{z.obsolete}</td>
                    <td>{z.unmanaged}</td>
                    <td>{new Date(z.checked_at).toLocaleTimeString()}</td>
                    <td className="reason">{z.error ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Section>
      ) : null}
      <Section
        title="Plan"
        actions={
          <>
            <Checkbox label="Prune sets no site needs" checked={prune} onChange={setPrune} />
            <button
              type="button"
              onClick={() => void apply()}
              disabled={busy || plan.data === undefined || total === 0}
              data-testid="dns-apply"
            >
              {busy ? 'Applying…' : `Apply ${total} change${total === 1 ? '' : 's'}`}
            </button>
          </>
        }
      >
        {(plan.data?.problems ?? []).length > 0 ? (
          <ul className="problems">
            {plan.data?.problems.map((p, i) => (
              <li key={i}>
                <code>{p.site}</code>: {p.message}
              </li>
            ))}
          </ul>
        ) : null}
        {plan.data &&
        plan.data.provider !== null &&
        total === 0 &&
        zones.every((z) => z.error === null) ? (
          <p className="muted" data-testid="dns-in-sync">
            The provider has every record set the sites need.
          </p>
        ) : null}
        {zones.map((z) => (
          <div key={z.zone} className="diff-entry" data-testid={`dns-zone-${z.zone}`}>
            <div className="diff-title">
              zone <code>{z.zone}</code>
              {z.obsolete.length > 0 && !prune ? (
                <small className="muted">
                  {' '}
                  · {z.obsolete.length} obsolete (kept unless pruned)
                </small>
              ) : null}
              {z.unmanaged.some((u) => u.conflict) ? (
                <small className="reason">
                  {' '}
                  · not ours, in the way:{' '}
                  {z.unmanaged
                    .filter((u) => u.conflict)
                    .map((u) => `${u.name} ${u.type}`)
                    .join(', ')}
                </small>
              ) : null}
            </div>
            {z.error ? <p className="error-notice">{z.error}</p> : null}
            {z.changes.length > 0 ? (
              <table className="table compact" data-testid="dns-plan">
                <TableHead columns={['change', 'name', 'type', 'now', 'after apply']} />
                <tbody>
                  {z.changes.map((c, i) => (
                    <tr key={i}>
                      <td>
                        <span className={`op ${c.action}`}>{c.action}</span>
                      </td>
                      <td>
                        <code>{c.name}</code>
                      </td>
                      <td>{c.type}</td>
                      <td className="from">
                        <RRset set={c.before} />
                      </td>
                      <td className="to">
                        <RRset set={c.after} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>
        ))}
        <ErrorNotice error={error} />
        {result ? (
          <div className="ok-notice" role="status" data-testid="dns-result">
            {result.results.length === 0 ? 'Nothing to apply.' : null}
            {result.results.map((z) => (
              <div key={z.zone}>
                <code>{z.zone}</code>: {z.applied.length} applied
                {z.error ? <span className="reason"> · {z.error}</span> : null}
              </div>
            ))}
          </div>
        ) : null}
      </Section>
    </div>
  );
}
