// One site's health through its edges on the dashboard (issue 14): the snapshot counts a
// site's edges by health and lists only those where it is down; the whole matrix of one site
// is loaded when asked for (GET /v1/status/sites/:domain), so the live status stays small at
// ten thousand sites.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { getSiteEdgesStatus } from '../../api/client.js';
import type { SiteStatus } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { ErrorNotice, HealthBadge } from '../../components/display.js';
import { messageText } from '../../i18n/messages.js';

/** "edges down 1/3 (y)" beside a site that is down somewhere, and the button for the matrix. */
export function SiteEdgesSummary(props: { site: SiteStatus; revision: number | undefined }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const { site } = props;
  const c = site.edges_by_health;
  const total = c.up + c.down + c.unknown;
  return (
    <>
      {c.down > 0 ? (
        <small className="reason" data-testid={`site-edges-down-${site.domain}`}>
          {' '}
          {t('siteEdges.down', {
            down: c.down,
            total,
            names: site.edges.map((e) => e.name).join(', '),
          })}
        </small>
      ) : null}{' '}
      <button
        type="button"
        className="secondary"
        data-testid={`site-edges-toggle-${site.domain}`}
        onClick={() => setOpen(!open)}
      >
        {open ? t('siteEdges.hide') : t('siteEdges.show', { total })}
      </button>
      {open ? <SiteEdgesTable domain={site.domain} revision={props.revision} /> : null}
    </>
  );
}

function SiteEdgesTable(props: { domain: string; revision: number | undefined }) {
  const { t } = useTranslation();
  const loaded = useApi(() => getSiteEdgesStatus(props.domain), [props.domain, props.revision]);
  if (loaded.error) return <ErrorNotice error={loaded.error} />;
  if (!loaded.data) return <p className="muted">{t('siteEdges.loading')}</p>;
  if (loaded.data.edges.length === 0) return <p className="muted">{t('siteEdges.none')}</p>;
  return (
    <table className="table" data-testid={`site-edges-${props.domain}`}>
      <thead>
        <tr>
          <th>{t('siteEdges.edge')}</th>
          <th>{t('siteEdges.health')}</th>
          <th>{t('siteEdges.reason')}</th>
        </tr>
      </thead>
      <tbody>
        {loaded.data.edges.map((e) => (
          <tr key={e.name}>
            <td>{e.name}</td>
            <td>
              <HealthBadge health={e.health} />
            </td>
            <td>{e.reason ? messageText(e.reason, e.reason_code) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
