// UI users (issue 15): add one (name, password, scopes), list them, set a new password (which
// ends the user's sessions), remove one. GET/POST /v1/users, PUT /v1/users/:name/password,
// DELETE /v1/users/:name (admin scope). Passwords are hashed with scrypt by the control plane.
import { useState, type FormEvent } from 'react';
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
      <h1>Users</h1>
      <p className="muted">
        People who log in to this UI with a name and password; what they may do is a set of scopes,
        as for API tokens. The admin token stays the break-glass credential.
      </p>
      <ErrorNotice error={users.error} />
      <ErrorNotice error={error} />
      {done ? (
        <p className="notice" role="status" data-testid="users-done">
          {done}
        </p>
      ) : null}
      <Section title="Users">
        {rows.length === 0 ? (
          <p className="muted">No users yet.</p>
        ) : (
          <table className="table" data-testid="users-table">
            <TableHead columns={['Name', 'Scopes', 'Added', '']} />
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
                              `New password for ${u.name}; their sessions ended.`,
                            )
                          )
                            setResetting(null);
                        }}
                      />
                    ) : removing === u.name ? (
                      <Confirm
                        question={`Remove ${u.name}? Their sessions end at once.`}
                        label="Remove"
                        onConfirm={() =>
                          void act(() => api('DELETE', path(u.name)), `${u.name} removed.`).then(
                            () => setRemoving(null),
                          )
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
                          Reset password
                        </button>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => setRemoving(u.name)}
                          data-testid={`remove-user-${u.name}`}
                        >
                          Remove
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
        onAdd={(body) => act(() => api('POST', '/v1/users', body), `${body.name} added.`)}
      />
    </div>
  );
}

function PasswordForm(props: {
  name: string;
  onSave: (password: string) => Promise<void>;
  onCancel: () => void;
}) {
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
        aria-label={`New password for ${props.name}`}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        data-testid={`new-password-${props.name}`}
      />
      <button type="submit" disabled={password === ''} data-testid={`save-password-${props.name}`}>
        Save
      </button>
      <button type="button" className="secondary" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}

function AddUserForm(props: {
  onAdd: (
    body: { name: string; password: string } & ReturnType<typeof grantBody>,
  ) => Promise<boolean>;
}) {
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
      <h2>Add a user</h2>
      <div className="field">
        <label htmlFor="user-name">Name</label>
        <input
          id="user-name"
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-testid="user-name"
        />
      </div>
      <div className="field">
        <label htmlFor="user-password">Password (at least 12 characters)</label>
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
        {busy ? 'Adding…' : 'Add user'}
      </button>
    </form>
  );
}
