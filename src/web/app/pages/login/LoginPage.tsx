// Log in with a user name and password (`outpost user add`; POST /v1/login gives a session
// token) or with a token (the admin token printed once by the first `outpost serve`, or a named
// API token); the token is checked against the API and kept in sessionStorage for this tab only.
import { useState, type FormEvent } from 'react';
import type { LoginAnswer } from '../../../../spec/api.js';
import { api, ApiError } from '../../api/client.js';

export function LoginPage(props: { onLogin: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      let bearer = token.trim();
      if (user.trim() !== '') {
        const answer = await api<LoginAnswer>('POST', '/v1/login', { user: user.trim(), password });
        bearer = answer.token;
      }
      await api('GET', '/v1/whoami', undefined, { token: bearer });
      props.onLogin(bearer);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? user.trim() !== ''
            ? 'Wrong user name or password.'
            : 'The control plane refused this token.'
          : err instanceof Error
            ? err.message
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form className="card" onSubmit={(e) => void submit(e)} data-testid="login-form">
        <h1>Outpost</h1>
        <p>Log in as a user, or with a token (the admin token printed on the first start).</p>
        <div className="field">
          <label htmlFor="user">User</label>
          <input
            id="user"
            autoComplete="username"
            value={user}
            onChange={(e) => setUser(e.target.value)}
            data-testid="login-user"
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
        </div>
        <div className="field">
          <label htmlFor="token">Or a token</label>
          <input
            id="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="opa_… or opt_…"
            data-testid="login-token"
          />
        </div>
        {error ? (
          <p className="error-notice" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <button
          type="submit"
          disabled={busy || (token.trim() === '' && (user.trim() === '' || password === ''))}
          data-testid="login-submit"
        >
          {busy ? 'Checking…' : 'Log in'}
        </button>
        <p className="muted">
          The token stays in this browser tab only. <a href="/status">Public status</a>
        </p>
      </form>
    </main>
  );
}
