// The "Add edge" form: the fields of an edge as text, sent as the API takes them; the API's
// problems are shown beside the fields their paths name. Defaults (ports 80/443) are the spec's.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiProblem } from '../../api/client.js';
import type { NewEdgeAnswer } from '../../api/types.js';
import { ErrorNotice } from '../../components/display.js';
import { Checkbox, Field, ProblemList, problemsOf } from '../../components/form.js';
import { numberOrText, splitList } from '../../components/form-text.js';
import {
  emptyNetworks,
  NetworksFields,
  networksValue,
  type NetworksForm,
} from '../../components/NetworksFields.js';
import { SPEC_DEFAULTS } from '../../defaults.js';
import { problemText } from '../../i18n/messages.js';

interface EdgeForm {
  name: string;
  v4: string;
  v6: string;
  listen: string;
  http: string;
  https: string;
  tags: string;
  lat: string;
  lon: string;
  countries: string;
  continents: string;
  paused: boolean;
  /** Issue 22: the networks it serves best (GeoDNS). */
  networks: NetworksForm;
}

const split = splitList;
const num = numberOrText;

function edgeFromForm(f: EdgeForm): Record<string, unknown> {
  const host: Record<string, string> = {};
  if (f.v4.trim()) host.v4 = f.v4.trim();
  if (f.v6.trim()) host.v6 = f.v6.trim();
  const listen: Record<string, unknown> = { addresses: split(f.listen) };
  if (num(f.http) !== undefined) listen.http = num(f.http);
  if (num(f.https) !== undefined) listen.https = num(f.https);
  const meta: Record<string, unknown> = {};
  if (f.lat.trim() || f.lon.trim()) meta.latlong = [num(f.lat), num(f.lon)];
  if (split(f.countries).length) meta.countries = split(f.countries).map((c) => c.toUpperCase());
  if (split(f.continents).length) meta.continents = split(f.continents).map((c) => c.toUpperCase());
  const networks = networksValue(f.networks);
  return {
    name: f.name.trim(),
    host,
    listen,
    tags: split(f.tags),
    meta,
    paused: f.paused,
    ...(Object.keys(networks).length > 0 ? { networks } : {}),
  };
}

export function AddEdgeForm(props: {
  onCreated: (a: NewEdgeAnswer) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [f, setF] = useState<EdgeForm>({
    name: '',
    v4: '',
    v6: '',
    listen: '',
    http: '',
    https: '',
    tags: '',
    lat: '',
    lon: '',
    countries: '',
    continents: '',
    paused: false,
    networks: emptyNetworks(),
  });
  const [problems, setProblems] = useState<ApiProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<EdgeForm>) => setF({ ...f, ...patch });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api<NewEdgeAnswer>('POST', '/v1/edges', edgeFromForm(f));
      setProblems([]);
      props.onCreated(answer);
    } catch (err) {
      const found = problemsOf(err);
      if (found) setProblems(found);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  const field = (
    label: string,
    key: Exclude<keyof EdgeForm, 'networks'>,
    path: string,
    extra: object = {},
  ) => (
    <Field
      label={label}
      path={path}
      value={String(f[key])}
      onChange={(v) => set({ [key]: v })}
      problems={problems}
      testid={`edge-${key}`}
      {...extra}
    />
  );
  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="add-edge-form" noValidate>
      <h2>{t('edges.add.title')}</h2>
      <ProblemList problems={problems} />
      <div className="grid">
        {field(t('edges.add.name'), 'name', 'name', { placeholder: 'fra1', required: true })}
        {field(t('edges.add.v4'), 'v4', 'host.v4', { placeholder: '192.0.2.50' })}
        {field(t('edges.add.v6'), 'v6', 'host.v6', { placeholder: '2001:db8::50' })}
        {field(t('edges.add.listen'), 'listen', 'listen.addresses', {
          hint: t('edges.add.listenHint'),
        })}
        {field(t('edges.add.http'), 'http', 'listen.http', {
          type: 'number',
          placeholder: String(SPEC_DEFAULTS.edge_listen.http),
        })}
        {field(t('edges.add.https'), 'https', 'listen.https', {
          type: 'number',
          placeholder: String(SPEC_DEFAULTS.edge_listen.https),
        })}
        {field(t('edges.add.tags'), 'tags', 'tags', { hint: t('edges.add.tagsHint') })}
        {field(t('edges.add.lat'), 'lat', 'meta.latlong[0]', {
          type: 'number',
          placeholder: '50.11',
        })}
        {field(t('edges.add.lon'), 'lon', 'meta.latlong[1]', {
          type: 'number',
          placeholder: '8.68',
        })}
        {field(t('edges.add.countries'), 'countries', 'meta.countries', {
          placeholder: 'DE, FR',
        })}
        {field(t('edges.add.continents'), 'continents', 'meta.continents', {
          placeholder: 'EU',
        })}
      </div>
      <NetworksFields
        value={f.networks}
        onChange={(networks) => set({ networks })}
        path="networks"
        problems={problems}
      />
      <FieldProblemsFallback problems={problems} />
      <Checkbox
        label={t('edges.add.paused')}
        checked={f.paused}
        onChange={(v) => set({ paused: v })}
      />
      <ErrorNotice error={error} />
      <div className="actions">
        <button type="submit" disabled={busy} data-testid="create-edge">
          {busy ? t('edges.add.adding') : t('edges.addEdge')}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

/** Problems of the host as a whole ("needs at least one address"). */
function FieldProblemsFallback(props: { problems: ApiProblem[] }) {
  useTranslation(); // shown again in a new language
  const host = props.problems.filter((p) => p.path === 'host' || p.path === 'meta.latlong');
  if (host.length === 0) return null;
  return (
    <ul className="field-problems" role="alert">
      {host.map((p, i) => (
        <li key={i}>
          <code>{p.path}</code> {problemText(p)}
        </li>
      ))}
    </ul>
  );
}
