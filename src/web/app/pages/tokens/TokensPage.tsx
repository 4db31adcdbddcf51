// API tokens (issue 15): create one (its value is shown once), list them with their scopes,
// expiry and last use, revoke one. GET/POST /v1/tokens, DELETE /v1/tokens/:name (admin scope).
import { useState, type FormEvent } from 'react';
import { Trans, useTranslation } from 'react-i18next';
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
  const { t } = useTranslation();
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
      <h1>{t('tokens.title')}</h1>
      <p className="muted">{t('tokens.intro')}</p>
      {created ? (
        <section className="card secret" data-testid="api-token-once" aria-live="polite">
          <h2>{t('tokens.created', { name: created.token.name })}</h2>
          <p>
            <Trans i18nKey="tokens.once" components={{ strong: <strong />, code: <code /> }} />
          </p>
          <div className="copy-row">
            <input
              readOnly
              aria-label={t('edges.once.token')}
              value={created.value}
              data-testid="api-token-value"
            />
            <CopyButton
              text={created.value}
              label={t('common.copyToken')}
              testid="copy-api-token"
            />
          </div>
          <button
            type="button"
            className="secondary"
            onClick={() => setCreated(null)}
            data-testid="api-token-done"
          >
            {t('common.savedIt')}
          </button>
        </section>
      ) : null}
      <ErrorNotice error={tokens.error} />
      <ErrorNotice error={error} />
      <Section title={t('tokens.tokens')}>
        {rows.length === 0 ? (
          <p className="muted">{t('tokens.none')}</p>
        ) : (
          <table className="table" data-testid="tokens-table">
            <TableHead
              columns={[
                t('tokens.col.name'),
                t('grant.scopes'),
                t('tokens.col.created'),
                t('tokens.col.expires'),
                t('tokens.col.lastUsed'),
                '',
              ]}
            />
            <tbody>
              {rows.map((tok) => (
                <tr key={tok.name} data-testid={`tokens-row-${tok.name}`}>
                  <th scope="row">{tok.name}</th>
                  <td data-testid={`tokens-scopes-${tok.name}`}>{grantText(tok)}</td>
                  <td>{when(tok.created_at, '–')}</td>
                  <td data-testid={`tokens-expires-${tok.name}`}>
                    {when(tok.expires_at, t('common.never'))}
                  </td>
                  <td data-testid={`tokens-used-${tok.name}`}>
                    {when(tok.last_used_at, t('common.never'))}
                  </td>
                  <td>
                    {revoking === tok.name ? (
                      <Confirm
                        question={t('tokens.revokeQuestion', { name: tok.name })}
                        label={t('edges.actions.revoke')}
                        onConfirm={() => void revoke(tok.name)}
                        onCancel={() => setRevoking(null)}
                        testid={`confirm-revoke-${tok.name}`}
                      />
                    ) : (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setRevoking(tok.name)}
                        data-testid={`revoke-${tok.name}`}
                      >
                        {t('edges.actions.revoke')}
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
  const { t } = useTranslation();
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
      <h2>{t('tokens.create.title')}</h2>
      <div className="field">
        <label htmlFor="token-name">{t('tokens.col.name')}</label>
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
        <label htmlFor="token-expires">{t('tokens.create.expires')}</label>
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
        {busy ? t('tokens.create.creating') : t('tokens.create.submit')}
      </button>
    </form>
  );
}
