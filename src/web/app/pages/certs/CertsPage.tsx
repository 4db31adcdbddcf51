// Certificates: one row per site (names, source, issuer, expiry, days left, next renewal, last
// error); issue now with live progress; upload a certificate chain and key (PEM).
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { AttemptAnswer, CertificateAttempt, CertificateList } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { maybeMessageText } from '../../i18n/messages.js';
import { ErrorNotice, NotAvailable, Section, TableHead } from '../../components/display.js';
import { certificatePath as path } from './paths.js';
import { UploadForm } from './UploadForm.js';

const tone = (left: number | null) =>
  left === null ? 'muted' : left < 7 ? 'bad' : left < 21 ? 'warn' : 'good';

const day = (iso: string) => new Date(iso).toLocaleDateString();

export function CertsPage() {
  const { t } = useTranslation();
  const certs = useApi(() => api<CertificateList>('GET', '/v1/certificates'));
  const [attempt, setAttempt] = useState<CertificateAttempt | null>(null);
  const [error, setError] = useState<unknown>(null);

  /** Starts an issuance and follows its progress until it is done. */
  const issue = async (domain: string) => {
    setError(null);
    try {
      let a = (await api<AttemptAnswer>('POST', `${path(domain)}/issue`, {})).attempt;
      setAttempt(a);
      while (!a.done) {
        const after = a.events.at(-1)?.seq ?? 0;
        a = (
          await api<AttemptAnswer>(
            'GET',
            `${path(domain)}/attempts/${encodeURIComponent(a.id)}?after=${after}&wait=20`,
          )
        ).attempt;
        const next = a;
        setAttempt((prev) =>
          prev && prev.id === next.id
            ? { ...next, events: [...prev.events, ...next.events] }
            : next,
        );
      }
      certs.reload();
    } catch (err) {
      setError(err);
    }
  };

  if (certs.missing)
    return (
      <div className="page" data-testid="certs">
        <h1>{t('certs.title')}</h1>
        <NotAvailable what={t('certs.what')} />
      </div>
    );
  const rows = certs.data?.certificates ?? [];
  const running = attempt !== null && !attempt.done;
  return (
    <div className="page" data-testid="certs">
      <h1>{t('certs.title')}</h1>
      <ErrorNotice error={certs.error} />
      <ErrorNotice error={error} />
      {attempt ? (
        <section
          className={`card ${attempt.done ? (attempt.ok ? 'ok' : 'failed') : ''}`}
          aria-live="polite"
          data-testid="cert-attempt"
        >
          <h2>
            {attempt.done
              ? attempt.ok
                ? t('certs.issued', { domain: attempt.domain })
                : t('certs.failed', { domain: attempt.domain })
              : t('certs.issuing', { domain: attempt.domain })}
          </h2>
          <ol className="progress">
            {attempt.events.map((e) => (
              <li key={e.seq}>
                <small>{new Date(e.at).toLocaleTimeString()}</small> <code>{e.step}</code>{' '}
                {e.message}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      <Section title={t('certs.sites')}>
        {rows.length === 0 ? (
          <p className="muted">{t('common.noSitesYet')}</p>
        ) : (
          <table className="table" data-testid="cert-table">
            <TableHead
              columns={[
                t('certs.col.site'),
                t('certs.col.names'),
                t('certs.col.source'),
                t('certs.col.issuer'),
                t('certs.col.valid'),
                t('certs.col.daysLeft'),
                t('certs.col.nextRenewal'),
                t('certs.col.lastError'),
                '',
              ]}
            />
            <tbody>
              {rows.map((c) => (
                <tr key={c.domain} data-testid={`cert-row-${c.domain}`}>
                  <th scope="row">{c.domain}</th>
                  <td>{(c.certificate_names ?? c.names).join(', ')}</td>
                  <td>{c.source ?? <span className="muted">{t('common.none')}</span>}</td>
                  <td>
                    {c.issuer ?? '–'}
                    {c.serial ? (
                      <small className="muted serial" data-testid={`cert-serial-${c.domain}`}>
                        {' '}
                        {c.serial}
                      </small>
                    ) : null}
                  </td>
                  <td data-testid={`cert-valid-${c.domain}`}>
                    {c.not_after
                      ? c.not_before
                        ? `${day(c.not_before)} – ${day(c.not_after)}`
                        : t('certs.until', { day: day(c.not_after) })
                      : '–'}
                  </td>
                  <td>
                    <span className={`badge ${tone(c.days_left)}`}>{c.days_left ?? '–'}</span>
                  </td>
                  <td>{c.next_renewal ? new Date(c.next_renewal).toLocaleString() : '–'}</td>
                  <td className="reason">
                    {c.last_error ?? maybeMessageText(c.problem, c.problem_code) ?? ''}
                    {c.failures > 1 ? t('certs.failures', { count: c.failures }) : ''}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      disabled={running || !c.acme}
                      title={c.acme ? undefined : (c.problem ?? t('certs.noAcme'))}
                      onClick={() => void issue(c.domain)}
                      data-testid={`issue-${c.domain}`}
                    >
                      {t('certs.issueNow')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <UploadForm domains={rows.map((r) => r.domain)} onDone={certs.reload} />
    </div>
  );
}
