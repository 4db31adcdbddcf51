// The shell: the public status page needs no token; everything else needs the admin token
// (kept in sessionStorage), a navigation bar, and one live status shared by the pages.
import { createContext, useContext, useEffect, useState } from 'react';
import { onUnauthorized, storeToken, storedToken } from './api.js';
import { useLiveStatus, type LiveMode } from './live.js';
import { CertsPage } from './pages/Certs.js';
import { DashboardPage } from './pages/Dashboard.js';
import { DnsPage } from './pages/Dns.js';
import { EdgePage } from './pages/EdgeDetail.js';
import { EdgesPage } from './pages/Edges.js';
import { LoginPage } from './pages/Login.js';
import { PublicStatusPage } from './pages/PublicStatus.js';
import { SiteEditPage } from './pages/SiteEdit.js';
import { SitesPage } from './pages/Sites.js';
import { Link, match, navigate, usePath } from './router.js';

type Live = ReturnType<typeof useLiveStatus>;
const LiveContext = createContext<Live>({ status: null, mode: 'connecting', error: null });
export const useLive = () => useContext(LiveContext);

export function App() {
  const path = usePath();
  const [token, setToken] = useState(storedToken());

  useEffect(
    () =>
      onUnauthorized(() => {
        storeToken(null);
        setToken(null);
      }),
    [],
  );

  if (path === '/status' || path === '/status/') return <PublicStatusPage />;
  if (!token)
    return (
      <LoginPage
        onLogin={(t) => {
          storeToken(t);
          setToken(t);
          if (path === '/login') navigate('/', { replace: true });
        }}
      />
    );
  return (
    <Admin
      path={path}
      onLogout={() => {
        storeToken(null);
        setToken(null);
      }}
    />
  );
}

const NAV = [
  ['/', 'Dashboard'],
  ['/sites', 'Sites'],
  ['/edges', 'Edges'],
  ['/dns', 'DNS'],
  ['/certs', 'Certificates'],
] as const;

function Admin(props: { path: string; onLogout: () => void }) {
  const live = useLiveStatus();
  const path = props.path;
  const current = (href: string) =>
    href === '/' ? path === '/' || path === '/login' : path.startsWith(href);
  return (
    <LiveContext.Provider value={live}>
      <div className="shell">
        <nav className="nav" aria-label="Main">
          <div className="brand">Outpost</div>
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link
                  href={href}
                  aria-current={current(href) ? 'page' : undefined}
                  data-testid={`nav-${label.toLowerCase()}`}
                >
                  {label}
                </Link>
              </li>
            ))}
            <li>
              <a href="/status" target="_blank" rel="noreferrer">
                Public status ↗
              </a>
            </li>
          </ul>
          <div className="nav-foot">
            <LiveIndicator mode={live.mode} revision={live.status?.revision} />
            <button type="button" className="link" onClick={props.onLogout} data-testid="logout">
              Log out
            </button>
          </div>
        </nav>
        <main className="main">{route(path)}</main>
      </div>
    </LiveContext.Provider>
  );
}

function LiveIndicator(props: { mode: LiveMode; revision: number | undefined }) {
  const text: Record<LiveMode, string> = {
    connecting: 'connecting…',
    live: 'live',
    polling: 'polling',
    offline: 'control plane unreachable',
  };
  return (
    <div className={`live ${props.mode}`} data-testid="live-indicator" data-mode={props.mode}>
      <span className="dot" aria-hidden="true" /> {text[props.mode]}
      {props.revision !== undefined ? <small> · revision {props.revision}</small> : null}
    </div>
  );
}

function route(path: string) {
  if (path === '/' || path === '/login') return <DashboardPage />;
  if (path === '/sites' || path === '/sites/') return <SitesPage />;
  if (match('/sites/new', path)) return <SiteEditPage domain={null} />;
  const site = match('/sites/:domain', path);
  if (site) return <SiteEditPage domain={site.domain ?? ''} key={site.domain} />;
  if (path === '/edges' || path === '/edges/') return <EdgesPage />;
  const edge = match('/edges/:name', path);
  if (edge) return <EdgePage name={edge.name ?? ''} key={edge.name} />;
  if (path.startsWith('/dns')) return <DnsPage />;
  if (path.startsWith('/certs')) return <CertsPage />;
  return (
    <section className="card">
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link href="/">Back to the dashboard</Link>.
      </p>
    </section>
  );
}
