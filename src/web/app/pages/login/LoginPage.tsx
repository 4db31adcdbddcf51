// Log in with the admin token (printed once by the first `outpost serve`); it is checked
// against the API and kept in sessionStorage for this tab only.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api/client.js';

export function LoginPage(props: { onLogin: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('GET', '/v1/state', undefined, { token: token.trim() });
      props.onLogin(token.trim());
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'The control plane refused this token.'
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
        <p>Log in with the admin token the control plane printed on its first start.</p>
        <div className="field">
          <label htmlFor="token">Admin token</label>
          <input
            id="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="opa_…"
            data-testid="login-token"
            required
          />
        </div>
        {error ? (
          <p className="error-notice" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || token.trim() === ''} data-testid="login-submit">
          {busy ? 'Checking…' : 'Log in'}
        </button>
        <p className="muted">
          The token stays in this browser tab only. <a href="/status">Public status</a>
        </p>
      </form>
    </main>
  );
}
