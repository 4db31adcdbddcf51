// Create or edit a site: origins, edges/tags, cache rules, modifiers, health check, HTTPS.
// "Review changes" validates the whole desired state with the site in it (a dry-run apply:
// the same schemas and messages as `outpost apply`) and shows the diff; "Save" writes it.
// The page talks to the API; the sections (./sections) edit the form through one reducer
// (./editor.ts).
import { useEffect, useReducer, useRef, type FormEvent } from 'react';
import { api, dryRun, getState, listEdges } from '../../api/client.js';
import type { SiteAnswer } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { ErrorNotice } from '../../components/display.js';
import { ProblemList, problemsOf } from '../../components/form.js';
import { Link, navigate } from '../../router.js';
import { editorReducer, initialEditorState } from './editor.js';
import { CacheSection } from './sections/CacheSection.js';
import { HealthCheckSection } from './sections/HealthCheckSection.js';
import { HttpsSection } from './sections/HttpsSection.js';
import { ModifiersSection } from './sections/ModifiersSection.js';
import { OriginsSection } from './sections/OriginsSection.js';
import { RawNginxSection } from './sections/RawNginxSection.js';
import { ReviewSection } from './sections/ReviewSection.js';
import { SiteSection } from './sections/SiteSection.js';
import { SiteCharts } from '../history/HistoryCharts.js';
import { formToSite, newSiteForm, siteToForm, sitePath } from './site-form.js';

const sitePathOf = (domain: string) => `/v1/sites/${encodeURIComponent(domain)}`;

export function SiteEditPage(props: { domain: string | null }) {
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
    if (domain === null) return;
    api<SiteAnswer>('GET', sitePathOf(domain)).then(
      (r) => dispatch({ type: 'loaded', form: siteToForm(r.site) }),
      (error: unknown) => dispatch({ type: 'load-failed', error }),
    );
  }, [domain]);

  if (state.loadError) return <ErrorNotice error={state.loadError} />;
  if (!form) return <p className="muted">Loading…</p>;

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
      dispatch({ type: 'reviewed', preview: await dryRun({ ...spec, sites }) });
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
    try {
      const site = formToSite(form);
      if (domain !== null) await api('PUT', sitePathOf(domain), site);
      else await api('POST', '/v1/sites', site);
      navigate('/sites');
    } catch (err) {
      const found = problemsOf(err);
      if (found) dispatch({ type: 'refused', problems: found });
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
        <Link href="/sites">Sites</Link> /
      </p>
      <h1>{domain ?? 'New site'}</h1>
      {domain !== null ? (
        <p>
          <Link href={`/sites/${encodeURIComponent(domain)}/logs`} data-testid="site-logs-link">
            Access log
          </Link>
        </p>
      ) : null}
      {domain !== null ? (
        <details className="site-history" open>
          <summary>Traffic and cache hit ratio over time</summary>
          <SiteCharts domain={domain} />
        </details>
      ) : null}
      <form onSubmit={(e) => void review(e)} noValidate>
        <ProblemList
          problems={problems}
          ref={problemsRef}
          heading={`${problems.length === 1 ? '1 problem' : `${problems.length} problems`}; nothing was saved:`}
        />
        <SiteSection {...section} editing={domain !== null} edges={edges.data?.edges ?? []} />
        <OriginsSection {...section} />
        <CacheSection {...section} />
        <ModifiersSection {...section} />
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
