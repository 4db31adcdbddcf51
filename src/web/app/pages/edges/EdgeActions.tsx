// An edge's actions, each asking first: pause/resume, rotate the token, revoke it, remove.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, edgeBody } from '../../api/client.js';
import type { EdgeWithToken, TokenAnswer } from '../../api/types.js';
import { Confirm, ErrorNotice } from '../../components/display.js';

export function EdgeActions(props: {
  edge: EdgeWithToken;
  onChanged: () => void;
  onToken: (t: TokenAnswer) => void;
  onRemoved?: () => void;
}) {
  const { t } = useTranslation();
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
    remove: [t('edges.actions.removeQuestion', { name: edge.name }), t('common.remove'), remove],
    rotate: [
      t('edges.actions.rotateQuestion', { name: edge.name }),
      t('edges.actions.rotate'),
      rotate,
    ],
    revoke: [
      t('edges.actions.revokeQuestion', { name: edge.name }),
      t('edges.actions.revoke'),
      revoke,
    ],
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
        {edge.paused ? t('edges.actions.resume') : t('edges.actions.pause')}
      </button>
      <button
        type="button"
        className="secondary"
        onClick={() => setConfirm('rotate')}
        data-testid={`rotate-${edge.name}`}
      >
        {t('edges.actions.rotateToken')}
      </button>
      {edge.has_token !== false ? (
        <button
          type="button"
          className="secondary"
          onClick={() => setConfirm('revoke')}
          data-testid={`revoke-${edge.name}`}
        >
          {t('edges.actions.revokeToken')}
        </button>
      ) : null}
      <button
        type="button"
        className="danger"
        onClick={() => setConfirm('remove')}
        data-testid={`remove-${edge.name}`}
      >
        {t('common.remove')}
      </button>
      <ErrorNotice error={error} />
    </span>
  );
}
