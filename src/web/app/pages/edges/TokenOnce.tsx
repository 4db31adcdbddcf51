// A new edge token and its join command, shown once with copy buttons.
import { Trans, useTranslation } from 'react-i18next';
import { CopyButton } from '../../components/display.js';

/** A token is shown once: here, with copy buttons, until dismissed. */
export function TokenOnce(props: {
  title: string;
  token: string;
  join: string;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  return (
    <section className="card secret" data-testid="token-once" aria-live="polite">
      <h2>{props.title}</h2>
      <p>
        <Trans i18nKey="edges.once.body" components={{ strong: <strong /> }} />
      </p>
      <div className="field">
        <label htmlFor="edge-token">{t('edges.once.token')}</label>
        <div className="copy-row">
          <input id="edge-token" readOnly value={props.token} data-testid="edge-token" />
          <CopyButton text={props.token} label={t('common.copyToken')} testid="copy-token" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="join-command">{t('edges.once.join')}</label>
        <div className="copy-row">
          <textarea
            id="join-command"
            readOnly
            value={props.join}
            rows={2}
            data-testid="join-command"
          />
          <CopyButton text={props.join} label={t('edges.once.copyJoin')} testid="copy-join" />
        </div>
      </div>
      <button type="button" className="secondary" onClick={props.onDone} data-testid="token-done">
        {t('common.savedIt')}
      </button>
    </section>
  );
}
