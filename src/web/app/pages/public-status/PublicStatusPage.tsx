// The public status page at /status: edges and sites with their health, no secrets, no
// addresses. Needs no token; refreshes every 15 s.
import { useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client.js';
import type { Health, PublicStatus } from '../../api/types.js';
import { HealthBadge } from '../../components/display.js';

const REFRESH_MS = 15_000;

function overall(s: PublicStatus): { text: string; tone: Health } {
  const all = [...s.edges.map((e) => e.health), ...s.sites.map((x) => x.health)];
  if (all.length === 0) return { text: 'Nothing to report yet', tone: 'unknown' };
  if (s.sites.some((x) => x.health === 'down'))
    return { text: 'Some sites are down', tone: 'down' };
  if (all.some((h) => h === 'down' || h === 'degraded'))
    return { text: 'Partially degraded', tone: 'degraded' };
  if (all.every((h) => h === 'up')) return { text: 'All systems operational', tone: 'up' };
  return { text: 'Status partly unknown', tone: 'unknown' };
}

export function PublicStatusPage() {
  const [status, setStatus] = useState<PublicStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      api<PublicStatus>('GET', '/v1/public/status', undefined, { token: '' }).then(
        (s) => {
          if (!live) return;
          setStatus(s);
          setError(null);
        },
        (err: unknown) => {
          if (!live) return;
          setError(
            err instanceof ApiError && err.routeMissing
              ? 'The public status is not available on this control plane.'
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
  }, []);
  const o = status ? overall(status) : null;
  return (
    <main className="public" data-testid="public-status">
      <header>
        <h1>Service status</h1>
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
                <li key={s.domain} data-testid={`public-site-${s.domain}`}>
                  <span>{s.domain}</span> <HealthBadge health={s.health} />
                </li>
              ))}
              {status.sites.length === 0 ? <li className="muted">No sites.</li> : null}
            </ul>
          </section>
          <section className="card">
            <h2>Edges</h2>
            <ul className="status-list">
              {status.edges.map((e) => (
                <li key={e.name} data-testid={`public-edge-${e.name}`}>
                  <span>{e.name}</span> <HealthBadge health={e.health} />
                </li>
              ))}
              {status.edges.length === 0 ? <li className="muted">No edges.</li> : null}
            </ul>
          </section>
          <p className="muted">Updated {new Date(status.updated_at).toLocaleString()}.</p>
        </>
      ) : null}
    </main>
  );
}
