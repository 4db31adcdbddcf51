// The audit log (issue 15): who (admin token, token:NAME, user:NAME, edge:NAME, system) did
// what, from where, when; newest first, filtered by actor, older pages on demand.
// GET /v1/events?limit=&before= (read scope).
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { AuditEvent, EventList } from '../../api/types.js';
import { ErrorNotice, Section, TableHead } from '../../components/display.js';

const PAGE = 200;

export function AuditPage() {
  const { t } = useTranslation();
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [more, setMore] = useState(false);
  const [actor, setActor] = useState('');
  const [error, setError] = useState<unknown>(null);

  const load = async (before?: number) => {
    setError(null);
    try {
      const q = `limit=${PAGE}${before !== undefined ? `&before=${before}` : ''}`;
      const page = (await api<EventList>('GET', `/v1/events?${q}`)).events;
      setEvents((prev) => (before === undefined ? page : [...prev, ...page]));
      setMore(page.length === PAGE);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const actors = [...new Set(events.map((e) => e.actor))].sort();
  const shown = actor === '' ? events : events.filter((e) => e.actor === actor);
  return (
    <div className="page" data-testid="audit">
      <h1>{t('audit.title')}</h1>
      <ErrorNotice error={error} />
      <Section
        title={t('audit.events')}
        actions={
          <>
            <label htmlFor="audit-actor">{t('audit.col.who')}</label>
            <select
              id="audit-actor"
              value={actor}
              onChange={(e) => setActor(e.target.value)}
              data-testid="audit-actor"
            >
              <option value="">{t('audit.everyone')}</option>
              {actors.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <button type="button" className="secondary" onClick={() => void load()}>
              {t('audit.refresh')}
            </button>
          </>
        }
      >
        {shown.length === 0 ? (
          <p className="muted">{t('audit.none')}</p>
        ) : (
          <table className="table" data-testid="audit-table">
            <TableHead
              columns={[
                t('audit.col.when'),
                t('audit.col.who'),
                t('audit.col.what'),
                t('audit.col.subject'),
                t('audit.col.from'),
              ]}
            />
            <tbody>
              {shown.map((e) => (
                <tr key={e.id} data-testid="audit-row" data-actor={e.actor} data-action={e.action}>
                  <td>{new Date(e.at).toLocaleString()}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td className="reason">{e.subject}</td>
                  <td>{e.address ?? <span className="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {more ? (
          <button
            type="button"
            className="secondary"
            onClick={() => void load(events.at(-1)?.id)}
            data-testid="audit-older"
          >
            {t('audit.older')}
          </button>
        ) : null}
      </Section>
    </div>
  );
}
