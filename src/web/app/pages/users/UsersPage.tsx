// UI users (issue 15): add one (name, password, scopes), list them, set a new password (which
// ends the user's sessions), remove one. GET/POST /v1/users, PUT /v1/users/:name/password,
// DELETE /v1/users/:name (admin scope). Passwords are hashed with scrypt by the control plane.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import type { UserList } from '../../api/types.js';
import { useApi } from '../../api/useApi.js';
import { Confirm, ErrorNotice, Section, TableHead } from '../../components/display.js';
import {
  EMPTY_GRANT,
  GrantFields,
  grantBody,
  grantText,
  type GrantValue,
} from '../../components/GrantFields.js';

const path = (name: string) => `/v1/users/${encodeURIComponent(name)}`;

export function UsersPage() {
  const { t } = useTranslation();
  const users = useApi(() => api<UserList>('GET', '/v1/users'));
  const [removing, setRemoving] = useState<string | null>(null);
  const [resetting, setResetting] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const act = async (what: () => Promise<unknown>, message: string) => {
    setError(null);
    setDone(null);
    try {
      await what();
      setDone(message);
      users.reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };

  const rows = users.data?.users ?? [];
  return (
    <div className="page" data-testid="users">
      <h1>{t('users.title')}</h1>
      <p className="muted">{t('users.intro')}</p>
      <ErrorNotice error={users.error} />
      <ErrorNotice error={error} />
      {done ? (
        <p className="notice" role="status" data-testid="users-done">
          {done}
        </p>
      ) : null}
      <Section title={t('users.title')}>
        {rows.length === 0 ? (
          <p className="muted">{t('users.none')}</p>
        ) : (
          <table className="table" data-testid="users-table">
            <TableHead
              columns={[t('tokens.col.name'), t('grant.scopes'), t('users.col.added'), '']}
            />
            <tbody>
              {rows.map((u) => (
                <tr key={u.name} data-testid={`users-row-${u.name}`}>
                  <th scope="row">{u.name}</th>
                  <td>{grantText(u)}</td>
                  <td>{new Date(u.created_at).toLocaleString()}</td>
                  <td>
                    {resetting === u.name ? (
                      <PasswordForm
                        name={u.name}
                        onCancel={() => setResetting(null)}
                        onSave={async (password) => {
                          if (
                            await act(
                              () => api('PUT', `${path(u.name)}/password`, { password }),
                              t('users.passwordDone', { name: u.name }),
                            )
                          )
                            setResetting(null);
                        }}
                      />
                    ) : removing === u.name ? (
                      <Confirm
                        question={t('users.removeQuestion', { name: u.name })}
                        label={t('common.remove')}
                        onConfirm={() =>
                          void act(
                            () => api('DELETE', path(u.name)),
                            t('users.removed', { name: u.name }),
                          ).then(() => setRemoving(null))
                        }
                        onCancel={() => setRemoving(null)}
                        testid={`confirm-remove-user-${u.name}`}
                      />
                    ) : (
                      <span className="row-actions">
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => setResetting(u.name)}
                          data-testid={`reset-password-${u.name}`}
                        >
                          {t('users.reset')}
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => setRemoving(u.name)}
                          data-testid={`remove-user-${u.name}`}
                        >
                          {t('common.remove')}
                        </button>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <AddUserForm
        onAdd={(body) =>
          act(() => api('POST', '/v1/users', body), t('users.added', { name: body.name }))
        }
      />
    </div>
  );
}

function PasswordForm(props: {
  name: string;
  onSave: (password: string) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  return (
    <form
      className="row-actions"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSave(password);
      }}
    >
      <input
        type="password"
        autoComplete="new-password"
        aria-label={t('users.newPassword', { name: props.name })}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        data-testid={`new-password-${props.name}`}
      />
      <button type="submit" disabled={password === ''} data-testid={`save-password-${props.name}`}>
        {t('common.save')}
      </button>
      <button type="button" className="secondary" onClick={props.onCancel}>
        {t('common.cancel')}
      </button>
    </form>
  );
}

function AddUserForm(props: {
  onAdd: (
    body: { name: string; password: string } & ReturnType<typeof grantBody>,
  ) => Promise<boolean>;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [grant, setGrant] = useState<GrantValue>(EMPTY_GRANT);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const ok = await props.onAdd({ name: name.trim(), password, ...grantBody(grant) });
    setBusy(false);
    if (ok) {
      setName('');
      setPassword('');
      setGrant(EMPTY_GRANT);
    }
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} data-testid="add-user-form">
      <h2>{t('users.add.title')}</h2>
      <div className="field">
        <label htmlFor="user-name">{t('tokens.col.name')}</label>
        <input
          id="user-name"
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-testid="user-name"
        />
      </div>
      <div className="field">
        <label htmlFor="user-password">{t('users.add.password')}</label>
        <input
          id="user-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="user-password"
        />
      </div>
      <GrantFields value={grant} onChange={setGrant} idPrefix="user" />
      <button
        type="submit"
        disabled={busy || name.trim() === '' || password === ''}
        data-testid="add-user"
      >
        {busy ? t('edges.add.adding') : t('users.add.submit')}
      </button>
    </form>
  );
}
