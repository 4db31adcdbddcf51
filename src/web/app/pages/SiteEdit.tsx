// Create or edit a site: origins, edges/tags, cache rules, modifiers, health check, HTTPS.
// "Review changes" validates the whole desired state with the site in it (a dry-run apply:
// the same schemas and messages as `outpost apply`) and shows the diff; "Save" writes it.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import {
  api,
  dryRun,
  getState,
  listEdges,
  type ApiProblem,
  type ChangeAnswer,
  type Site,
} from '../api.js';
import {
  Checkbox,
  Confirm,
  ErrorNotice,
  Field,
  FieldProblems,
  ProblemList,
  problemsOf,
  Select,
} from '../components.js';
import { DiffView } from '../DiffView.js';
import { Link, navigate } from '../router.js';
import {
  emptyModifier,
  emptyOrigin,
  emptyRule,
  formToSite,
  MODIFIER_TYPES,
  newSiteForm,
  siteToForm,
  sitePath,
  type MatcherForm,
  type ModifierForm,
  type OriginForm,
  type SiteForm,
} from '../site-form.js';
import { useApi } from '../useApi.js';

export function SiteEditPage(props: { domain: string | null }) {
  const editing = props.domain !== null;
  const [form, setForm] = useState<SiteForm | null>(editing ? null : newSiteForm());
  const [loadError, setLoadError] = useState<unknown>(null);
  const [problems, setProblems] = useState<ApiProblem[]>([]);
  const [preview, setPreview] = useState<ChangeAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const edges = useApi(listEdges);
  const problemsRef = useRef<HTMLDivElement>(null);
  const previewRef = useRef<HTMLElement>(null);

  // Show what the check found: the problems at the top of the form, or the diff at its end.
  useEffect(() => {
    if (problems.length > 0) problemsRef.current?.focus();
  }, [problems]);
  useEffect(() => {
    if (preview) previewRef.current?.focus();
  }, [preview]);

  useEffect(() => {
    if (props.domain === null) return;
    api<{ site: Site }>('GET', `/v1/sites/${encodeURIComponent(props.domain)}`).then(
      (r) => setForm(siteToForm(r.site)),
      (err: unknown) => setLoadError(err),
    );
  }, [props.domain]);

  if (loadError) return <ErrorNotice error={loadError} />;
  if (!form) return <p className="muted">Loading…</p>;

  const update = (patch: Partial<SiteForm>) => {
    setForm({ ...form, ...patch });
    setPreview(null);
  };

  const review = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    setPreview(null);
    const site = formToSite(form);
    let index = -1;
    try {
      const { spec } = await getState();
      const sites: unknown[] = [...spec.sites];
      index = editing ? spec.sites.findIndex((s) => s.domain === props.domain) : sites.length;
      if (index < 0) index = sites.length;
      sites[index] = site;
      const answer = await dryRun({ ...spec, sites });
      setProblems([]);
      setPreview(answer);
    } catch (err) {
      const found = problemsOf(err);
      if (found) setProblems(found.map((p) => ({ ...p, path: sitePath(p.path, index) ?? p.path })));
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const site = formToSite(form);
      if (editing) await api('PUT', `/v1/sites/${encodeURIComponent(props.domain ?? '')}`, site);
      else await api('POST', '/v1/sites', site);
      navigate('/sites');
    } catch (err) {
      const found = problemsOf(err);
      if (found) {
        setProblems(found);
        setPreview(null);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await api('DELETE', `/v1/sites/${encodeURIComponent(props.domain ?? '')}`);
      navigate('/sites');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const knownEdges = edges.data?.edges ?? [];
  const tags = [...new Set(knownEdges.flatMap((e) => e.tags))];
  const selectorHint = `Edge names, tag:NAME or *. Edges: ${
    knownEdges.map((e) => e.name).join(', ') || 'none yet'
  }${tags.length > 0 ? `; tags: ${tags.map((t) => `tag:${t}`).join(', ')}` : ''}.`;

  return (
    <div className="page" data-testid="site-edit">
      <p className="crumbs">
        <Link href="/sites">Sites</Link> /
      </p>
      <h1>{editing ? props.domain : 'New site'}</h1>
      <form onSubmit={(e) => void review(e)} noValidate>
        <ProblemList
          problems={problems}
          ref={problemsRef}
          heading={`${problems.length === 1 ? '1 problem' : `${problems.length} problems`}; nothing was saved:`}
        />

        <fieldset className="card">
          <legend>Site</legend>
          <div className="grid">
            <Field
              label="Domain"
              path="domain"
              value={form.domain}
              onChange={(v) => update({ domain: v })}
              problems={problems}
              placeholder="www.example.com"
              hint={editing ? 'Delete and create the site again to rename it.' : undefined}
              required
            />
            <Field
              label="Aliases"
              path="aliases"
              value={form.aliases}
              onChange={(v) => update({ aliases: v })}
              problems={problems}
              hint="Other names served the same way, separated by commas."
            />
            <Field
              label="Edges"
              path="edges"
              value={form.edges}
              onChange={(v) => update({ edges: v })}
              problems={problems}
              hint={selectorHint}
            />
            <Field
              label="DNS TTL (seconds)"
              path="dns_ttl"
              type="number"
              value={form.dns_ttl}
              onChange={(v) => update({ dns_ttl: v })}
              problems={problems}
            />
          </div>
        </fieldset>

        <fieldset className="card">
          <legend>Origins</legend>
          <FieldProblems problems={problems} path="origins" exact />
          {form.origins.map((o, i) => (
            <OriginEditor
              key={i}
              index={i}
              origin={o}
              problems={problems}
              onChange={(patch) =>
                update({
                  origins: form.origins.map((x, j) => (j === i ? { ...x, ...patch } : x)),
                })
              }
              onRemove={
                form.origins.length > 1
                  ? () => update({ origins: form.origins.filter((_, j) => j !== i) })
                  : undefined
              }
            />
          ))}
          <button
            type="button"
            className="secondary"
            onClick={() => update({ origins: [...form.origins, emptyOrigin()] })}
            data-testid="add-origin"
          >
            Add origin
          </button>
        </fieldset>

        <fieldset className="card">
          <legend>Cache</legend>
          <p className="hint">
            Rules in order, first match wins; anything unmatched is proxied uncached. A matcher
            field lists alternatives (commas); all given fields must match.
          </p>
          {form.rules.map((r, i) => (
            <Row
              key={i}
              title={`Rule ${i + 1}`}
              onRemove={() => update({ rules: form.rules.filter((_, j) => j !== i) })}
            >
              <MatcherEditor
                path={`cache.rules[${i}].match`}
                match={r.match}
                problems={problems}
                onChange={(m) =>
                  update({ rules: form.rules.map((x, j) => (j === i ? { ...x, match: m } : x)) })
                }
              />
              <Select
                label="Action"
                value={r.action}
                options={['cache', 'bypass'] as const}
                path={`cache.rules[${i}].action`}
                problems={problems}
                onChange={(v) =>
                  update({ rules: form.rules.map((x, j) => (j === i ? { ...x, action: v } : x)) })
                }
              />
              <Field
                label="TTL without caching headers (s)"
                path={`cache.rules[${i}].ttl`}
                type="number"
                value={r.ttl}
                problems={problems}
                onChange={(v) =>
                  update({ rules: form.rules.map((x, j) => (j === i ? { ...x, ttl: v } : x)) })
                }
              />
            </Row>
          ))}
          <button
            type="button"
            className="secondary"
            onClick={() => update({ rules: [...form.rules, emptyRule()] })}
          >
            Add cache rule
          </button>
          <div className="checks">
            <Checkbox
              label="Serve stale copies while the origin errors (stale_if_error)"
              checked={form.stale_if_error}
              onChange={(v) => update({ stale_if_error: v })}
            />
            <Checkbox
              label="Serve stale copies while updating (ignores response headers)"
              checked={form.stale_while_updating}
              onChange={(v) => update({ stale_while_updating: v })}
            />
          </div>
        </fieldset>

        <fieldset className="card">
          <legend>Modifiers</legend>
          <p className="hint">
            Typed rules such as “this slow edge redirects large files”. Precedence: modifiers naming
            the edge, then tags or *, then those without edges.
          </p>
          {form.modifiers.map((m, i) => (
            <ModifierEditor
              key={i}
              index={i}
              modifier={m}
              problems={problems}
              onChange={(patch) =>
                update({
                  modifiers: form.modifiers.map((x, j) => (j === i ? { ...x, ...patch } : x)),
                })
              }
              onRemove={() => update({ modifiers: form.modifiers.filter((_, j) => j !== i) })}
            />
          ))}
          <button
            type="button"
            className="secondary"
            onClick={() => update({ modifiers: [...form.modifiers, emptyModifier()] })}
          >
            Add modifier
          </button>
        </fieldset>

        <fieldset className="card">
          <legend>Health check</legend>
          <Checkbox
            label="Check this site's health"
            checked={form.health_check}
            onChange={(v) => update({ health_check: v })}
            testid="health-check-enabled"
          />
          {form.health_check ? (
            <div className="grid">
              <Field
                label="URL"
                path="health_check.uri"
                value={form.hc_uri}
                onChange={(v) => update({ hc_uri: v })}
                problems={problems}
                placeholder="https://www.example.com/healthz"
              />
              <Field
                label="Every (seconds)"
                path="health_check.frequency"
                type="number"
                value={form.hc_frequency}
                onChange={(v) => update({ hc_frequency: v })}
                problems={problems}
              />
              <Field
                label="Timeout (seconds)"
                path="health_check.timeout"
                type="number"
                value={form.hc_timeout}
                onChange={(v) => update({ hc_timeout: v })}
                problems={problems}
              />
            </div>
          ) : null}
          <FieldProblems problems={problems} path="health_check" exact />
        </fieldset>

        <fieldset className="card">
          <legend>HTTPS</legend>
          <div className="checks">
            <Checkbox
              label="Redirect HTTP to HTTPS"
              checked={form.redirect_http}
              onChange={(v) => update({ redirect_http: v })}
            />
            <Checkbox label="Send HSTS" checked={form.hsts} onChange={(v) => update({ hsts: v })} />
          </div>
          {form.hsts ? (
            <div className="grid">
              <Field
                label="HSTS max-age (s)"
                path="https.hsts.max_age"
                type="number"
                value={form.hsts_max_age}
                onChange={(v) => update({ hsts_max_age: v })}
                problems={problems}
              />
              <div className="checks">
                <Checkbox
                  label="includeSubDomains"
                  checked={form.hsts_include_subdomains}
                  onChange={(v) => update({ hsts_include_subdomains: v })}
                />
                <Checkbox
                  label="preload"
                  checked={form.hsts_preload}
                  onChange={(v) => update({ hsts_preload: v })}
                />
              </div>
            </div>
          ) : null}
          <FieldProblems problems={problems} path="https" exact />
        </fieldset>

        <details className="card">
          <summary>Advanced: raw nginx directives (unchecked)</summary>
          <Field
            label="Directives in this site's server blocks"
            path="raw_nginx"
            value={form.raw_nginx}
            onChange={(v) => update({ raw_nginx: v })}
            problems={problems}
            multiline
          />
        </details>

        <ErrorNotice error={error} />
        {preview ? (
          <section
            className="card review"
            data-testid="diff-preview"
            aria-live="polite"
            ref={previewRef}
            tabIndex={-1}
          >
            <h2>Changes to save</h2>
            <DiffView answer={preview} />
            <div className="actions">
              <button
                type="button"
                onClick={() => void save()}
                disabled={busy || preview.diff.changes.length === 0}
                data-testid="save-site"
              >
                {editing ? 'Save site' : 'Create site'}
              </button>
              <button type="button" className="secondary" onClick={() => setPreview(null)}>
                Keep editing
              </button>
            </div>
          </section>
        ) : (
          <div className="actions bottom">
            <button type="submit" disabled={busy} data-testid="review-site">
              {busy ? 'Checking…' : 'Review changes'}
            </button>
            <Link href="/sites" className="button secondary">
              Cancel
            </Link>
            {editing ? (
              confirmDelete ? (
                <Confirm
                  question={`Delete ${props.domain}?`}
                  label="Delete"
                  busy={busy}
                  onConfirm={() => void remove()}
                  onCancel={() => setConfirmDelete(false)}
                  testid="confirm-delete-site"
                />
              ) : (
                <button
                  type="button"
                  className="danger"
                  onClick={() => setConfirmDelete(true)}
                  data-testid="delete-site"
                >
                  Delete site
                </button>
              )
            ) : null}
          </div>
        )}
      </form>
    </div>
  );
}

function Row(props: { title: string; children: ReactNode; onRemove?: (() => void) | undefined }) {
  return (
    <div className="row-box">
      <div className="row-head">
        <strong>{props.title}</strong>
        {props.onRemove ? (
          <button
            type="button"
            className="link danger"
            onClick={props.onRemove}
            aria-label={`Remove ${props.title}`}
          >
            Remove
          </button>
        ) : null}
      </div>
      <div className="grid">{props.children}</div>
    </div>
  );
}

function OriginEditor(props: {
  index: number;
  origin: OriginForm;
  problems: ApiProblem[];
  onChange: (patch: Partial<OriginForm>) => void;
  onRemove: (() => void) | undefined;
}) {
  const { origin: o, problems } = props;
  const p = `origins[${props.index}]`;
  return (
    <Row title={`Origin ${props.index + 1}`} onRemove={props.onRemove}>
      <Select
        label="Host given as"
        value={o.kind}
        options={['address', 'hostname'] as const}
        onChange={(v) => props.onChange({ kind: v })}
        testid={`${p}.kind`}
      />
      {o.kind === 'address' ? (
        <>
          <Field
            label="IPv4"
            path={`${p}.host.v4`}
            value={o.v4}
            onChange={(v) => props.onChange({ v4: v })}
            problems={problems}
            placeholder="192.0.2.10"
          />
          <Field
            label="IPv6"
            path={`${p}.host.v6`}
            value={o.v6}
            onChange={(v) => props.onChange({ v6: v })}
            problems={problems}
            placeholder="2001:db8::10"
          />
        </>
      ) : (
        <Field
          label="Hostname"
          path={`${p}.host`}
          value={o.hostname}
          onChange={(v) => props.onChange({ hostname: v })}
          problems={problems}
          placeholder="origin.example.com"
        />
      )}
      {o.kind === 'address' ? <FieldProblems problems={problems} path={`${p}.host`} exact /> : null}
      <Select
        label="Protocol"
        value={o.protocol}
        options={['https', 'http'] as const}
        onChange={(v) => props.onChange({ protocol: v })}
        testid={`${p}.protocol`}
        path={`${p}.protocol`}
        problems={problems}
      />
      <Field
        label="Port"
        path={`${p}.port`}
        type="number"
        value={o.port}
        onChange={(v) => props.onChange({ port: v })}
        problems={problems}
        placeholder={o.protocol === 'https' ? '443' : '80'}
      />
      <Field
        label="Weight"
        path={`${p}.weight`}
        type="number"
        value={o.weight}
        onChange={(v) => props.onChange({ weight: v })}
        problems={problems}
      />
      {o.protocol === 'https' ? (
        <Field
          label="TLS server name"
          path={`${p}.tls_server_name`}
          value={o.tls_server_name}
          onChange={(v) => props.onChange({ tls_server_name: v })}
          problems={problems}
          hint="SNI and certificate name expected from the origin; the site's domain by default."
        />
      ) : null}
      <div className="checks">
        {o.protocol === 'https' ? (
          <Checkbox
            label="Verify the origin's certificate"
            checked={o.verify_tls}
            onChange={(v) => props.onChange({ verify_tls: v })}
          />
        ) : null}
        <Checkbox
          label="Backup (used only when the others are down)"
          checked={o.backup}
          onChange={(v) => props.onChange({ backup: v })}
        />
      </div>
      {o.protocol === 'https' ? (
        <Field
          label="Trusted CA certificates (PEM, optional)"
          path={`${p}.tls_ca`}
          value={o.tls_ca}
          onChange={(v) => props.onChange({ tls_ca: v })}
          problems={problems}
          multiline
        />
      ) : null}
      <FieldProblems problems={problems} path={p} exact />
    </Row>
  );
}

const MATCHER_FIELDS = [
  ['paths', 'Paths', '/static/*, /assets/*'],
  ['extensions', 'Extensions', 'css, js, png'],
  ['methods', 'Methods', 'GET, HEAD'],
] as const satisfies readonly (readonly [keyof MatcherForm, string, string])[];

function MatcherEditor(props: {
  path: string;
  match: MatcherForm;
  problems: ApiProblem[];
  onChange: (m: MatcherForm) => void;
}) {
  const { match: m } = props;
  return (
    <>
      {MATCHER_FIELDS.map(([key, label, placeholder]) => (
        <Field
          key={key}
          label={label}
          path={`${props.path}.${key}`}
          value={m[key]}
          onChange={(v) => props.onChange({ ...m, [key]: v })}
          problems={props.problems}
          placeholder={placeholder}
        />
      ))}
      <FieldProblems problems={props.problems} path={props.path} exact />
    </>
  );
}

function ModifierEditor(props: {
  index: number;
  modifier: ModifierForm;
  problems: ApiProblem[];
  onChange: (patch: Partial<ModifierForm>) => void;
  onRemove: () => void;
}) {
  const { modifier: m, problems } = props;
  const p = `modifiers[${props.index}]`;
  return (
    <Row
      title={`Modifier ${props.index + 1}${m.name ? `: ${m.name}` : ''}`}
      onRemove={props.onRemove}
    >
      <Field
        label="Name"
        path={`${p}.name`}
        value={m.name}
        onChange={(v) => props.onChange({ name: v })}
        problems={problems}
        placeholder="large-files"
      />
      <Field
        label="Only on edges"
        path={`${p}.edges`}
        value={m.edges}
        onChange={(v) => props.onChange({ edges: v })}
        problems={problems}
        hint="Edge names, tag:NAME or *; empty: every edge of the site."
      />
      <MatcherEditor
        path={`${p}.match`}
        match={m.match}
        problems={problems}
        onChange={(match) => props.onChange({ match })}
      />
      <Select
        label="Action"
        value={m.type}
        options={MODIFIER_TYPES}
        onChange={(v) => props.onChange({ type: v })}
        path={`${p}.action.type`}
        problems={problems}
      />
      {m.type === 'redirect' ? (
        <>
          <Field
            label="Status"
            path={`${p}.action.status`}
            type="number"
            value={m.status}
            onChange={(v) => props.onChange({ status: v })}
            problems={problems}
            placeholder="302"
          />
          <Field
            label="Target"
            path={`${p}.action.target`}
            value={m.target}
            onChange={(v) => props.onChange({ target: v })}
            problems={problems}
            placeholder="https://static.example.com{uri}"
            hint="Placeholders: {uri} {path} {args} {host} {scheme}"
          />
        </>
      ) : null}
      {m.type === 'deny' ? (
        <Field
          label="Status"
          path={`${p}.action.status`}
          type="number"
          value={m.status}
          onChange={(v) => props.onChange({ status: v })}
          problems={problems}
          placeholder="403"
        />
      ) : null}
      {m.type === 'set_header' ? (
        <>
          <Field
            label="Header"
            path={`${p}.action.name`}
            value={m.header_name}
            onChange={(v) => props.onChange({ header_name: v })}
            problems={problems}
          />
          <Field
            label="Value"
            path={`${p}.action.value`}
            value={m.header_value}
            onChange={(v) => props.onChange({ header_value: v })}
            problems={problems}
          />
        </>
      ) : null}
      {m.type === 'cache_ttl' ? (
        <Field
          label="TTL (s)"
          path={`${p}.action.ttl`}
          type="number"
          value={m.ttl}
          onChange={(v) => props.onChange({ ttl: v })}
          problems={problems}
        />
      ) : null}
      <FieldProblems problems={problems} path={`${p}.action`} exact />
    </Row>
  );
}
