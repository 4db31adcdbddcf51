// Log in with a user name and password (`outpost user add`; POST /v1/login gives a session
// token) or with a token (the admin token printed once by the first `outpost serve`, or a named
// API token); the token is checked against the API and kept in sessionStorage for this tab only.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { LoginAnswer } from '../../../../spec/api.js';
import { api, ApiError } from '../../api/client.js';
import { errorText } from '../../i18n/messages.js';
import { LanguageSwitch } from '../../i18n/LanguageSwitch.js';

export function LoginPage(props: { onLogin: (token: string) => void }) {
  const { t } = useTranslation();
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
            ? t('login.wrongPassword')
            : t('login.refused')
          : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form className="card" onSubmit={(e) => void submit(e)} data-testid="login-form">
        <div className="login-head">
          <h1>{t('common.brand')}</h1>
          <LanguageSwitch />
        </div>
        <p>{t('login.intro')}</p>
        <div className="field">
          <label htmlFor="user">{t('login.user')}</label>
          <input
            id="user"
            autoComplete="username"
            value={user}
            onChange={(e) => setUser(e.target.value)}
            data-testid="login-user"
          />
        </div>
        <div className="field">
          <label htmlFor="password">{t('login.password')}</label>
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
          <label htmlFor="token">{t('login.token')}</label>
          <input
            id="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder={t('login.tokenPlaceholder')}
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
          {busy ? t('common.checking') : t('login.submit')}
        </button>
        <p className="muted">
          {t('login.tabOnly')} <a href="/status">{t('login.publicStatus')}</a>
        </p>
      </form>
    </main>
  );
}
