// The audit log (issue 15): who (admin token, token:NAME, user:NAME, edge:NAME, system) did
// what, from where, when; newest first, filtered by actor, older pages on demand.
// GET /v1/events?limit=&before= (read scope).
import { useEffect, useState } from 'react';
import { api } from '../../api/client.js';
import type { AuditEvent, EventList } from '../../api/types.js';
import { ErrorNotice, Section, TableHead } from '../../components/display.js';

const PAGE = 200;

export function AuditPage() {
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
      <h1>Audit log</h1>
      <ErrorNotice error={error} />
      <Section
        title="Events"
        actions={
          <>
            <label htmlFor="audit-actor">Who</label>
            <select
              id="audit-actor"
              value={actor}
              onChange={(e) => setActor(e.target.value)}
              data-testid="audit-actor"
            >
              <option value="">everyone</option>
              {actors.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <button type="button" className="secondary" onClick={() => void load()}>
              Refresh
            </button>
          </>
        }
      >
        {shown.length === 0 ? (
          <p className="muted">No events.</p>
        ) : (
          <table className="table" data-testid="audit-table">
            <TableHead columns={['When', 'Who', 'What', 'Subject', 'From']} />
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
            Older events
          </button>
        ) : null}
      </Section>
    </div>
  );
}
