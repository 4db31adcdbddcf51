// Edges: the list with actions (pause/resume, rotate and revoke the token, remove), and the
// "Add edge" form, which shows the new edge's token and join command once.
import { useState, type FormEvent } from 'react';
import {
  api,
  edgeBody,
  listEdges,
  type ApiProblem,
  type EdgeWithToken,
  type NewEdgeAnswer,
  type TokenAnswer,
} from '../api.js';
import { useLive } from '../App.js';
import {
  Badge,
  Checkbox,
  Confirm,
  CopyButton,
  ErrorNotice,
  Field,
  formatRelease,
  HealthBadge,
  ProblemList,
  problemsOf,
  TableHead,
} from '../components.js';
import { Link } from '../router.js';
import { useApi } from '../useApi.js';

export function EdgesPage() {
  const { status } = useLive();
  const edges = useApi(listEdges, [status?.revision]);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ title: string; token: string; join: string } | null>(null);
  return (
    <div className="page" data-testid="edges">
      <div className="page-head">
        <h1>Edges</h1>
        {!adding ? (
          <button type="button" onClick={() => setAdding(true)} data-testid="add-edge">
            Add edge
          </button>
        ) : null}
      </div>
      {secret ? <TokenOnce {...secret} onDone={() => setSecret(null)} /> : null}
      {adding ? (
        <AddEdgeForm
          onCancel={() => setAdding(false)}
          onCreated={(a) => {
            setAdding(false);
            setSecret({
              title: `Edge ${a.edge.name} added`,
              token: a.token,
              join: a.join_command,
            });
            edges.reload();
          }}
        />
      ) : null}
      <ErrorNotice error={edges.error} />
      {edges.data && edges.data.edges.length === 0 && !adding ? (
        <p className="muted">No edges yet.</p>
      ) : null}
      {edges.data && edges.data.edges.length > 0 ? (
        <table className="table card" data-testid="edges-table">
          <TableHead
            columns={['Edge', 'Addresses', 'Tags', 'State', 'Health', 'Release', 'Actions']}
          />
          <tbody>
            {edges.data.edges.map((e) => {
              const s = status?.edges.find((x) => x.name === e.name);
              return (
                <tr key={e.name} data-testid={`edges-row-${e.name}`}>
                  <th scope="row">
                    <Link href={`/edges/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                  </th>
                  <td>{[e.host.v4, e.host.v6].filter(Boolean).join(', ')}</td>
                  <td>{e.tags.join(', ') || '–'}</td>
                  <td>
                    {e.paused ? (
                      <Badge value="paused" />
                    ) : e.drain ? (
                      <Badge value="drained" />
                    ) : null}{' '}
                    <Badge value={s?.state ?? 'never-seen'} title={s?.error ?? undefined} />
                  </td>
                  <td>
                    <HealthBadge health={s?.health} />
                  </td>
                  <td>{s ? formatRelease(s.applied_release, s.desired_release) : '–'}</td>
                  <td>
                    <EdgeActions
                      edge={e}
                      onChanged={edges.reload}
                      onToken={(t) =>
                        setSecret({
                          title: `New token for ${t.name}`,
                          token: t.token,
                          join: t.join_command,
                        })
                      }
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** A token is shown once: here, with copy buttons, until dismissed. */
export function TokenOnce(props: {
  title: string;
  token: string;
  join: string;
  onDone: () => void;
}) {
  return (
    <section className="card secret" data-testid="token-once" aria-live="polite">
      <h2>{props.title}</h2>
      <p>
        This token is shown <strong>once</strong>; the control plane keeps only its hash. Run the
        join command on the edge (it asks for the token and writes it to a 0600 file).
      </p>
      <div className="field">
        <label htmlFor="edge-token">Token</label>
        <div className="copy-row">
          <input id="edge-token" readOnly value={props.token} data-testid="edge-token" />
          <CopyButton text={props.token} label="Copy token" testid="copy-token" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="join-command">Join command</label>
        <div className="copy-row">
          <textarea
            id="join-command"
            readOnly
            value={props.join}
            rows={2}
            data-testid="join-command"
          />
          <CopyButton text={props.join} label="Copy command" testid="copy-join" />
        </div>
      </div>
      <button type="button" className="secondary" onClick={props.onDone} data-testid="token-done">
        I have saved it
      </button>
    </section>
  );
}

export function EdgeActions(props: {
  edge: EdgeWithToken;
  onChanged: () => void;
  onToken: (t: TokenAnswer) => void;
  onRemoved?: () => void;
}) {
  const { edge } = props;
  const [confirm, setConfirm] = useState<'remove' | 'rotate' | 'revoke' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const path = `/v1/edges/${encodeURIComponent(edge.name)}`;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setConfirm(null);
      props.onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const pause = () =>
    run(async () => {
      await api('PUT', path, { ...edgeBody(edge), paused: !edge.paused });
    });
  const rotate = () =>
    run(async () => props.onToken(await api<TokenAnswer>('POST', `${path}/token`)));
  const revoke = () =>
    run(async () => {
      await api('DELETE', `${path}/token`);
    });
  const remove = () =>
    run(async () => {
      await api('DELETE', path);
      props.onRemoved?.();
    });
  const questions = {
    remove: [`Remove edge ${edge.name}? It stops being served to.`, 'Remove', remove],
    rotate: [
      `Rotate the token of ${edge.name}? The old one stops working at once.`,
      'Rotate',
      rotate,
    ],
    revoke: [`Revoke the token of ${edge.name}? The edge can no longer pull.`, 'Revoke', revoke],
  } as const;
  if (confirm) {
    const [q, label, fn] = questions[confirm];
    return (
      <Confirm
        question={q}
        label={label}
        busy={busy}
        onConfirm={() => void fn()}
        onCancel={() => setConfirm(null)}
        testid={`confirm-${confirm}-${edge.name}`}
      >
        <ErrorNotice error={error} />
      </Confirm>
    );
  }
  return (
    <span className="row-actions">
      <button
        type="button"
        className="secondary"
        disabled={busy}
        onClick={() => void pause()}
        data-testid={`pause-${edge.name}`}
      >
        {edge.paused ? 'Resume' : 'Pause'}
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() => setConfirm('rotate')}
        data-testid={`rotate-${edge.name}`}
      >
        Rotate token
      </button>
      {edge.has_token !== false ? (
        <button
          type="button"
          className="secondary"
          onClick={() => setConfirm('revoke')}
          data-testid={`revoke-${edge.name}`}
        >
          Revoke token
        </button>
      ) : null}
      <button
        type="button"
        className="danger"
        onClick={() => setConfirm('remove')}
        data-testid={`remove-${edge.name}`}
      >
        Remove
      </button>
      <ErrorNotice error={error} />
    </span>
  );
}

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
}

const split = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
const num = (s: string): number | string | undefined => {
  const t = s.trim();
  if (t === '') return undefined;
  return Number.isFinite(Number(t)) ? Number(t) : t;
};

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
  return { name: f.name.trim(), host, listen, tags: split(f.tags), meta, paused: f.paused };
}

function AddEdgeForm(props: { onCreated: (a: NewEdgeAnswer) => void; onCancel: () => void }) {
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
  const field = (label: string, key: keyof EdgeForm, path: string, extra: object = {}) => (
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
      <h2>Add an edge</h2>
      <ProblemList problems={problems} />
      <div className="grid">
        {field('Name', 'name', 'name', { placeholder: 'fra1', required: true })}
        {field('Public IPv4', 'v4', 'host.v4', { placeholder: '192.0.2.50' })}
        {field('Public IPv6', 'v6', 'host.v6', { placeholder: '2001:db8::50' })}
        {field('Listen on addresses', 'listen', 'listen.addresses', {
          hint: 'Empty: every address.',
        })}
        {field('HTTP port', 'http', 'listen.http', { type: 'number', placeholder: '80' })}
        {field('HTTPS port', 'https', 'listen.https', { type: 'number', placeholder: '443' })}
        {field('Tags', 'tags', 'tags', { hint: 'Sites select edges by tag:NAME.' })}
        {field('Latitude', 'lat', 'meta.latlong[0]', { type: 'number', placeholder: '50.11' })}
        {field('Longitude', 'lon', 'meta.latlong[1]', { type: 'number', placeholder: '8.68' })}
        {field('Countries served', 'countries', 'meta.countries', { placeholder: 'DE, FR' })}
        {field('Continents served', 'continents', 'meta.continents', { placeholder: 'EU' })}
      </div>
      <FieldProblemsFallback problems={problems} />
      <Checkbox
        label="Paused (serves nothing, left out of DNS)"
        checked={f.paused}
        onChange={(v) => set({ paused: v })}
      />
      <ErrorNotice error={error} />
      <div className="actions">
        <button type="submit" disabled={busy} data-testid="create-edge">
          {busy ? 'Adding…' : 'Add edge'}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Problems of the host as a whole ("needs at least one address"). */
function FieldProblemsFallback(props: { problems: ApiProblem[] }) {
  const host = props.problems.filter((p) => p.path === 'host' || p.path === 'meta.latlong');
  if (host.length === 0) return null;
  return (
    <ul className="field-problems" role="alert">
      {host.map((p, i) => (
        <li key={i}>
          <code>{p.path}</code> {p.message}
        </li>
      ))}
    </ul>
  );
}
