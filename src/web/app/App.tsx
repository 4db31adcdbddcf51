// The shell: the public status page needs no token; everything else needs the admin token
// (kept in sessionStorage), a navigation bar, and one live status shared by the pages (live/).
import { useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { onUnauthorized, storeToken, storedToken } from './api/client.js';
import { LiveProvider, useLive } from './live/LiveContext.js';
import type { LiveMode } from './live/useLiveStatus.js';
import { AuditPage } from './pages/audit/AuditPage.js';
import { CertsPage } from './pages/certs/CertsPage.js';
import { DashboardPage } from './pages/dashboard/DashboardPage.js';
import { DnsPage } from './pages/dns/DnsPage.js';
import { EdgePage } from './pages/edge/EdgePage.js';
import { EdgesPage } from './pages/edges/EdgesPage.js';
import { LoginPage } from './pages/login/LoginPage.js';
import { SiteLogsPage } from './pages/logs/SiteLogsPage.js';
import { PublicStatusPage } from './pages/public-status/PublicStatusPage.js';
import { SiteEditPage } from './pages/site-edit/SiteEditPage.js';
import { SitesPage } from './pages/sites/SitesPage.js';
import { TokensPage } from './pages/tokens/TokensPage.js';
import { UsersPage } from './pages/users/UsersPage.js';
import { Link, match, navigate, usePath } from './router.js';
import { LanguageSwitch } from './i18n/LanguageSwitch.js';

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
  const sitePage = match('/status/site/:domain', path);
  if (sitePage?.domain) return <PublicStatusPage site={sitePage.domain} />;
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
    <LiveProvider>
      <Admin
        path={path}
        onLogout={() => {
          storeToken(null);
          setToken(null);
        }}
      />
    </LiveProvider>
  );
}

// [href, test id, label key]: the test ids stay English whatever the language.
const NAV = [
  ['/', 'dashboard', 'nav.dashboard'],
  ['/sites', 'sites', 'nav.sites'],
  ['/edges', 'edges', 'nav.edges'],
  ['/dns', 'dns', 'nav.dns'],
  ['/certs', 'certificates', 'nav.certificates'],
  ['/tokens', 'tokens', 'nav.tokens'],
  ['/users', 'users', 'nav.users'],
  ['/audit', 'audit', 'nav.audit'],
] as const;

function Admin(props: { path: string; onLogout: () => void }) {
  const { t } = useTranslation();
  const path = props.path;
  const current = (href: string) =>
    href === '/' ? path === '/' || path === '/login' : path.startsWith(href);
  return (
    <div className="shell">
      <nav className="nav" aria-label={t('nav.label')}>
        <div className="brand">{t('common.brand')}</div>
        <ul>
          {NAV.map(([href, id, label]) => (
            <li key={href}>
              <Link
                href={href}
                aria-current={current(href) ? 'page' : undefined}
                data-testid={`nav-${id}`}
              >
                {t(label)}
              </Link>
            </li>
          ))}
          <li>
            <a href="/status" target="_blank" rel="noreferrer">
              {t('nav.publicStatus')}
            </a>
          </li>
        </ul>
        <div className="nav-foot">
          <LanguageSwitch />
          <LiveIndicator />
          <button type="button" className="link" onClick={props.onLogout} data-testid="logout">
            {t('nav.logout')}
          </button>
        </div>
      </nav>
      <main className="main">{route(path)}</main>
    </div>
  );
}

const MODE_TEXT = {
  connecting: 'live.connecting',
  live: 'live.live',
  polling: 'live.polling',
  offline: 'live.offline',
} as const satisfies Record<LiveMode, string>;

function LiveIndicator() {
  const { t } = useTranslation();
  const { mode, status } = useLive();
  return (
    <div className={`live ${mode}`} data-testid="live-indicator" data-mode={mode}>
      <span className="dot" aria-hidden="true" /> {t(MODE_TEXT[mode])}
      {status ? <small>{t('live.revision', { revision: status.revision })}</small> : null}
    </div>
  );
}

function route(path: string) {
  return <Route path={path} />;
}

function Route({ path }: { path: string }) {
  const { t } = useTranslation();
  if (path === '/' || path === '/login') return <DashboardPage />;
  if (path === '/sites' || path === '/sites/') return <SitesPage />;
  if (match('/sites/new', path)) return <SiteEditPage domain={null} />;
  const logs = match('/sites/:domain/logs', path);
  if (logs) return <SiteLogsPage domain={logs.domain ?? ''} key={logs.domain} />;
  const site = match('/sites/:domain', path);
  if (site) return <SiteEditPage domain={site.domain ?? ''} key={site.domain} />;
  if (path === '/edges' || path === '/edges/') return <EdgesPage />;
  const edge = match('/edges/:name', path);
  if (edge) return <EdgePage name={edge.name ?? ''} key={edge.name} />;
  if (path.startsWith('/dns')) return <DnsPage />;
  if (path.startsWith('/certs')) return <CertsPage />;
  if (path === '/tokens' || path === '/tokens/') return <TokensPage />;
  if (path === '/users' || path === '/users/') return <UsersPage />;
  if (path === '/audit' || path === '/audit/') return <AuditPage />;
  return (
    <section className="card">
      <h1>{t('notFound.title')}</h1>
      <p>
        <Trans
          i18nKey="notFound.body"
          values={{ path }}
          components={{ code: <code />, home: <Link href="/" /> }}
        />
      </p>
    </section>
  );
}
