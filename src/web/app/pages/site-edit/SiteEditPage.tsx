// Create or edit a site: origins, edges/tags, cache rules, modifiers, access rules, rate limits,
// the WAF, health check, HTTPS.
// "Review changes" validates the whole desired state with the site in it (a dry-run apply:
// the same schemas and messages as `outpost apply`) and shows the diff; "Save" writes it.
// The page talks to the API; the sections (./sections) edit the form through one reducer
// (./editor.ts).
import { useEffect, useReducer, useRef, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, dryRun, getState, listEdges } from '../../api/client.js';
import type { SiteAnswer } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { ErrorNotice } from '../../components/display.js';
import { ProblemList, problemsOf } from '../../components/form.js';
import { Link, navigate } from '../../router.js';
import { editorReducer, initialEditorState } from './editor.js';
import { AccessSection } from './sections/AccessSection.js';
import { CacheSection } from './sections/CacheSection.js';
import { HealthCheckSection } from './sections/HealthCheckSection.js';
import { HttpsSection } from './sections/HttpsSection.js';
import { ModifiersSection } from './sections/ModifiersSection.js';
import { OriginsSection } from './sections/OriginsSection.js';
import { RateLimitsSection } from './sections/RateLimitsSection.js';
import { RawNginxSection } from './sections/RawNginxSection.js';
import { ReviewSection } from './sections/ReviewSection.js';
import { SiteSection } from './sections/SiteSection.js';
import { WafSection } from './sections/WafSection.js';
import { SiteCharts } from '../history/HistoryCharts.js';
import { IpListsSection } from './sections/IpListsSection.js';
import { NetworksSection } from './sections/NetworksSection.js';
import {
  formToSite,
  ipListsChanged,
  ipListsOf,
  newSiteForm,
  siteToForm,
  sitePath,
  type SiteForm,
} from './site-form.js';

const sitePathOf = (domain: string) => `/v1/sites/${encodeURIComponent(domain)}`;

/** The state with the form's named IP lists (once they are loaded; none: no `ip_lists`). */
function withLists<S extends { ip_lists?: unknown }>(spec: S, form: SiteForm): S {
  if (form.ip_lists_before === null) return spec;
  const lists = ipListsOf(form.ip_lists);
  const rest = { ...spec };
  delete rest.ip_lists;
  return Object.keys(lists).length > 0 ? { ...rest, ip_lists: lists } : rest;
}

export function SiteEditPage(props: { domain: string | null }) {
  const { t } = useTranslation();
  const { domain } = props;
  const [state, dispatch] = useReducer(
    editorReducer,
    domain === null ? newSiteForm() : null,
    initialEditorState,
  );
  const edges = useApi(listEdges);
  const problemsRef = useRef<HTMLDivElement>(null);
  const previewRef = useRef<HTMLElement>(null);
  const { form, problems, preview } = state;

  // Show what the check found: the problems at the top of the form, or the diff at its end.
  useEffect(() => {
    if (problems.length > 0) problemsRef.current?.focus();
  }, [problems]);
  useEffect(() => {
    if (preview) previewRef.current?.focus();
  }, [preview]);

  useEffect(() => {
    const site =
      domain === null
        ? Promise.resolve(true)
        : api<SiteAnswer>('GET', sitePathOf(domain)).then(
            (r) => {
              dispatch({ type: 'loaded', form: siteToForm(r.site) });
              return true;
            },
            (error: unknown) => {
              dispatch({ type: 'load-failed', error });
              return false;
            },
          );
    // The named IP lists belong to the whole state: read after the site (no lists section
    // if the state cannot be read).
    void site
      .then(async (ok) => {
        if (!ok) return;
        const { spec } = await getState();
        dispatch({ type: 'lists-loaded', lists: spec.ip_lists ?? {} });
      })
      .catch(() => undefined);
  }, [domain]);

  if (state.loadError) return <ErrorNotice error={state.loadError} />;
  if (!form) return <p className="muted">{t('common.loading')}</p>;

  const review = async (e?: FormEvent) => {
    e?.preventDefault();
    dispatch({ type: 'review-started' });
    const site = formToSite(form);
    let index = -1;
    try {
      const { spec } = await getState();
      const sites: unknown[] = [...spec.sites];
      index = domain !== null ? spec.sites.findIndex((s) => s.domain === domain) : sites.length;
      if (index < 0) index = sites.length;
      sites[index] = site;
      dispatch({ type: 'reviewed', preview: await dryRun(withLists({ ...spec, sites }, form)) });
    } catch (err) {
      const found = problemsOf(err);
      if (found)
        dispatch({
          type: 'refused',
          problems: found.map((p) => ({ ...p, path: sitePath(p.path, index) ?? p.path })),
        });
      else dispatch({ type: 'failed', error: err });
    } finally {
      dispatch({ type: 'settled' });
    }
  };

  const save = async () => {
    dispatch({ type: 'save-started' });
    let index = -1;
    try {
      const site = formToSite(form);
      if (ipListsChanged(form)) {
        // The lists are not part of the site: the whole state, with this site, in one write.
        const { spec } = await getState();
        const sites: unknown[] = [...spec.sites];
        index = domain !== null ? spec.sites.findIndex((s) => s.domain === domain) : -1;
        if (index < 0) index = sites.length;
        sites[index] = site;
        await api('POST', '/v1/apply', { spec: withLists({ ...spec, sites }, form) });
      } else if (domain !== null) await api('PUT', sitePathOf(domain), site);
      else await api('POST', '/v1/sites', site);
      navigate('/sites');
    } catch (err) {
      const found = problemsOf(err);
      if (found)
        dispatch({
          type: 'refused',
          problems: found.map((p) => ({ ...p, path: sitePath(p.path, index) ?? p.path })),
        });
      else dispatch({ type: 'failed', error: err });
    } finally {
      dispatch({ type: 'settled' });
    }
  };

  const remove = async () => {
    if (domain === null) return;
    dispatch({ type: 'save-started' });
    try {
      await api('DELETE', sitePathOf(domain));
      navigate('/sites');
    } catch (err) {
      dispatch({ type: 'failed', error: err });
    } finally {
      dispatch({ type: 'settled' });
    }
  };

  const section = { form, problems, dispatch };
  return (
    <div className="page" data-testid="site-edit">
      <p className="crumbs">
        <Link href="/sites">{t('sites.title')}</Link> /
      </p>
      <h1>{domain ?? t('sites.new')}</h1>
      {domain !== null ? (
        <p>
          <Link href={`/sites/${encodeURIComponent(domain)}/logs`} data-testid="site-logs-link">
            {t('logs.title')}
          </Link>
        </p>
      ) : null}
      {domain !== null ? (
        <details className="site-history" open>
          <summary>{t('siteEdit.history')}</summary>
          <SiteCharts domain={domain} />
        </details>
      ) : null}
      <form onSubmit={(e) => void review(e)} noValidate>
        <ProblemList
          problems={problems}
          ref={problemsRef}
          heading={t('siteEdit.problems', { count: problems.length })}
        />
        <SiteSection {...section} editing={domain !== null} edges={edges.data?.edges ?? []} />
        <OriginsSection {...section} />
        <CacheSection {...section} />
        <ModifiersSection {...section} />
        <AccessSection {...section} />
        <RateLimitsSection {...section} />
        <WafSection {...section} />
        <IpListsSection {...section} />
        <NetworksSection {...section} />
        <HealthCheckSection {...section} />
        <HttpsSection {...section} />
        <RawNginxSection {...section} />
        <ErrorNotice error={state.error} />
        <ReviewSection
          state={state}
          dispatch={dispatch}
          domain={domain}
          onSave={() => void save()}
          onDelete={() => void remove()}
          previewRef={previewRef}
        />
      </form>
    </div>
  );
}
