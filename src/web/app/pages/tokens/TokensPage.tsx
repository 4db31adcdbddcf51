// API tokens (issue 15): create one (its value is shown once), list them with their scopes,
// expiry and last use, revoke one. GET/POST /v1/tokens, DELETE /v1/tokens/:name (admin scope).
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client.js';
import type { ApiTokenCreated, ApiTokenList } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { Confirm, CopyButton, ErrorNotice, Section, TableHead } from '../../components/display.js';
import {
  EMPTY_GRANT,
  GrantFields,
  grantBody,
  grantText,
  type GrantValue,
} from '../../components/GrantFields.js';

const when = (iso: string | null, none: string) => (iso ? new Date(iso).toLocaleString() : none);

export function TokensPage() {
  const tokens = useApi(() => api<ApiTokenList>('GET', '/v1/tokens'));
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const revoke = async (name: string) => {
    setError(null);
    try {
      await api('DELETE', `/v1/tokens/${encodeURIComponent(name)}`);
      setRevoking(null);
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  };

  const rows = tokens.data?.tokens ?? [];
  return (
    <div className="page" data-testid="tokens">
      <h1>API tokens</h1>
      <p className="muted">
        A named token with scopes, for scripts and CI (for example, one that may only purge one
        site). The control plane keeps only its hash.
      </p>
      {created ? (
        <section className="card secret" data-testid="api-token-once" aria-live="polite">
          <h2>Token {created.token.name} created</h2>
          <p>
            This token is shown <strong>once</strong>. Use it as{' '}
            <code>Authorization: Bearer …</code> or <code>OUTPOST_TOKEN</code>.
          </p>
          <div className="copy-row">
            <input
              readOnly
              aria-label="Token"
              value={created.value}
              data-testid="api-token-value"
            />
            <CopyButton text={created.value} label="Copy token" testid="copy-api-token" />
          </div>
          <button
            type="button"
            className="secondary"
            onClick={() => setCreated(null)}
            data-testid="api-token-done"
          >
            I have saved it
          </button>
        </section>
      ) : null}
      <ErrorNotice error={tokens.error} />
      <ErrorNotice error={error} />
      <Section title="Tokens">
        {rows.length === 0 ? (
          <p className="muted">No API tokens yet.</p>
        ) : (
          <table className="table" data-testid="tokens-table">
            <TableHead columns={['Name', 'Scopes', 'Created', 'Expires', 'Last used', '']} />
            <tbody>
              {rows.map((t) => (
                <tr key={t.name} data-testid={`tokens-row-${t.name}`}>
                  <th scope="row">{t.name}</th>
                  <td data-testid={`tokens-scopes-${t.name}`}>{grantText(t)}</td>
                  <td>{when(t.created_at, '–')}</td>
                  <td data-testid={`tokens-expires-${t.name}`}>{when(t.expires_at, 'never')}</td>
                  <td data-testid={`tokens-used-${t.name}`}>{when(t.last_used_at, 'never')}</td>
                  <td>
                    {revoking === t.name ? (
                      <Confirm
                        question={`Revoke ${t.name}? It stops working at once.`}
                        label="Revoke"
                        onConfirm={() => void revoke(t.name)}
                        onCancel={() => setRevoking(null)}
                        testid={`confirm-revoke-${t.name}`}
                      />
                    ) : (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setRevoking(t.name)}
                        data-testid={`revoke-${t.name}`}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <CreateTokenForm
        onCreated={(c) => {
          setCreated(c);
          tokens.reload();
        }}
      />
    </div>
  );
}

function CreateTokenForm(props: { onCreated: (c: ApiTokenCreated) => void }) {
  const [name, setName] = useState('');
  const [grant, setGrant] = useState<GrantValue>(EMPTY_GRANT);
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        name: name.trim(),
        ...grantBody(grant),
        // datetime-local is the browser's local time, without a zone: sent as UTC ISO 8601.
        ...(expires !== '' ? { expires_at: new Date(expires).toISOString() } : {}),
      };
      props.onCreated(await api<ApiTokenCreated>('POST', '/v1/tokens', body));
      setName('');
      setGrant(EMPTY_GRANT);
      setExpires('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="create-token-form">
      <h2>Create a token</h2>
      <div className="field">
        <label htmlFor="token-name">Name</label>
        <input
          id="token-name"
          value={name}
          placeholder="ci-purge"
          onChange={(e) => setName(e.target.value)}
          data-testid="token-name"
        />
      </div>
      <GrantFields value={grant} onChange={setGrant} idPrefix="token" />
      <div className="field">
        <label htmlFor="token-expires">Expires (empty: never)</label>
        <input
          id="token-expires"
          type="datetime-local"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          data-testid="token-expires"
        />
      </div>
      <ErrorNotice error={error} />
      <button type="submit" disabled={busy || name.trim() === ''} data-testid="create-token">
        {busy ? 'Creating…' : 'Create token'}
      </button>
    </form>
  );
}
