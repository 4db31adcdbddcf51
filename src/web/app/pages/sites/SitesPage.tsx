// Sites: each with its origins, edges and health; links to edit; "New site".
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { listSites } from '../../api/client.js';
import type { Site } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { ErrorNotice, HealthBadge, TableHead } from '../../components/display.js';
import { useLive } from '../../live/LiveContext.js';
import { i18n } from '../../i18n/index.js';
import { Link } from '../../router.js';

function originText(site: Site): string {
  return site.origins
    .map((o) => {
      const host =
        typeof o.host === 'string'
          ? o.host
          : [o.host.v4, o.host.v6 ? `[${o.host.v6}]` : undefined].filter(Boolean).join(' ');
      return `${o.protocol}://${host}${o.port ? `:${o.port}` : ''}${o.backup ? i18n.t('sites.backup') : ''}`;
    })
    .join(', ');
}

export function SitesPage() {
  const { t } = useTranslation();
  const { status } = useLive();
  // One lookup per row, not a search of every site per row (10,000 sites: issue 14).
  const healthOf = useMemo(
    () => new Map((status?.sites ?? []).map((x) => [x.domain, x.health])),
    [status?.sites],
  );
  const sites = useApi(listSites, [status?.revision]);
  return (
    <div className="page" data-testid="sites">
      <div className="page-head">
        <h1>{t('sites.title')}</h1>
        <Link href="/sites/new" className="button" data-testid="new-site">
          {t('sites.new')}
        </Link>
      </div>
      <ErrorNotice error={sites.error} />
      {sites.data && sites.data.sites.length === 0 ? (
        <p className="muted">{t('common.noSitesYet')}</p>
      ) : null}
      {sites.data && sites.data.sites.length > 0 ? (
        <table className="table card" data-testid="site-table">
          <TableHead
            columns={[
              t('sites.col.domain'),
              t('sites.col.health'),
              t('sites.col.origins'),
              t('sites.col.edges'),
              t('sites.col.cacheRules'),
              t('sites.col.modifiers'),
              t('sites.col.https'),
            ]}
          />
          <tbody>
            {sites.data.sites.map((s) => (
              <tr key={s.domain} data-testid={`site-row-${s.domain}`}>
                <th scope="row">
                  <Link href={`/sites/${encodeURIComponent(s.domain)}`}>{s.domain}</Link>
                  {s.aliases.length > 0 ? (
                    <small className="muted"> +{s.aliases.join(', ')}</small>
                  ) : null}
                </th>
                <td>
                  <HealthBadge health={healthOf.get(s.domain)} />
                </td>
                <td>{originText(s)}</td>
                <td>{s.edges.join(', ')}</td>
                <td>{s.cache.rules.length}</td>
                <td>{s.modifiers.map((m) => m.name ?? m.action.type).join(', ') || '–'}</td>
                <td>
                  {s.https.redirect_http ? t('sites.redirect') : t('sites.noRedirect')}
                  {s.https.hsts !== false ? ', HSTS' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
