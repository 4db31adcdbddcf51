// DNS: what a sync would change at the provider (the plan, per zone, as a diff of record
// sets), each zone's drift, and Apply (optionally pruning sets no site needs any more).
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
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
  const { t } = useTranslation();
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
        <h1>{t('dns.title')}</h1>
        <NotAvailable what={t('dns.what')} />
      </div>
    );
  const zones = plan.data?.zones ?? [];
  const total = zones.reduce((n, z) => n + z.changes.length, 0);
  return (
    <div className="page" data-testid="dns">
      <h1>{t('dns.title')}</h1>
      <ErrorNotice error={plan.error} />
      {plan.data && plan.data.provider === null ? (
        <p className="notice" data-testid="dns-no-provider">
          <Trans i18nKey="dns.noProvider" components={{ code: <code /> }} />
        </p>
      ) : null}
      {status.data && status.data.provider !== null ? (
        <Section title={t('dns.zones')}>
          <p className="muted">
            {t('dns.provider', { provider: status.data.provider ?? t('dns.noneConfigured') })}
            {status.data.last_sync
              ? t('dns.lastSync', { time: new Date(status.data.last_sync).toLocaleString() })
              : ''}
            {status.data.syncing ? t('dns.syncing') : ''}
          </p>
          {status.data.zones.length > 0 ? (
            <table className="table" data-testid="dns-zones">
              <TableHead
                columns={[
                  t('dns.col.zone'),
                  t('dns.col.state'),
                  t('dns.col.pending'),
                  t('dns.col.obsolete'),
                  t('dns.col.notOurs'),
                  t('dns.col.checked'),
                  t('dns.col.error'),
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
        title={t('dns.plan')}
        actions={
          <>
            <Checkbox label={t('dns.prune')} checked={prune} onChange={setPrune} />
            <button
              type="button"
              onClick={() => void apply()}
              disabled={busy || plan.data === undefined || total === 0}
              data-testid="dns-apply"
            >
              {busy ? t('dns.applying') : t('dns.apply', { count: total })}
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
            {t('dns.inSync')}
          </p>
        ) : null}
        {zones.map((z) => (
          <div key={z.zone} className="diff-entry" data-testid={`dns-zone-${z.zone}`}>
            <div className="diff-title">
              <Trans i18nKey="dns.zone" values={{ zone: z.zone }} components={{ code: <code /> }} />
              {z.obsolete.length > 0 && !prune ? (
                <small className="muted">
                  {t('dns.obsoleteKept', { count: z.obsolete.length })}
                </small>
              ) : null}
              {z.unmanaged.some((u) => u.conflict) ? (
                <small className="reason">
                  {t('dns.inTheWay')}
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
                <TableHead
                  columns={[
                    t('dns.col.change'),
                    t('dns.col.name'),
                    t('dns.col.type'),
                    t('dns.col.now'),
                    t('dns.col.after'),
                  ]}
                />
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
            {result.results.length === 0 ? t('dns.nothing') : null}
            {result.results.map((z) => (
              <div key={z.zone}>
                <code>{z.zone}</code>: {t('dns.applied', { count: z.applied.length })}
                {z.error ? <span className="reason"> · {z.error}</span> : null}
              </div>
            ))}
          </div>
        ) : null}
      </Section>
    </div>
  );
}
