// The end of the form: "Review changes" (a dry run), then the diff with Save; Cancel; Delete.
import type { Dispatch, Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { Confirm } from '../../../components/display.js';
import { DiffView } from '../../../components/DiffView.js';
import { Link } from '../../../router.js';
import type { EditorAction, EditorState } from '../editor.js';

export function ReviewSection(props: {
  state: EditorState;
  dispatch: Dispatch<EditorAction>;
  /** The site being edited, or null for a new one. */
  domain: string | null;
  onSave: () => void;
  onDelete: () => void;
  previewRef: Ref<HTMLElement>;
}) {
  const { t } = useTranslation();
  const { state, dispatch, domain } = props;
  const { preview, busy } = state;
  if (preview)
    return (
      <section
        className="card review"
        data-testid="diff-preview"
        aria-live="polite"
        ref={props.previewRef}
        tabIndex={-1}
      >
        <h2>{t('siteEdit.review.title')}</h2>
        <DiffView answer={preview} />
        <div className="actions">
          <button
            type="button"
            onClick={props.onSave}
            disabled={busy || preview.diff.changes.length === 0}
            data-testid="save-site"
          >
            {domain !== null ? t('siteEdit.review.save') : t('siteEdit.review.create')}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => dispatch({ type: 'keep-editing' })}
          >
            {t('siteEdit.review.keepEditing')}
          </button>
        </div>
      </section>
    );
  return (
    <div className="actions bottom">
      <button type="submit" disabled={busy} data-testid="review-site">
        {busy ? t('common.checking') : t('siteEdit.review.review')}
      </button>
      <Link href="/sites" className="button secondary">
        {t('common.cancel')}
      </Link>
      {domain === null ? null : state.confirmDelete ? (
        <Confirm
          question={t('siteEdit.review.deleteQuestion', { domain })}
          label={t('siteEdit.review.delete')}
          busy={busy}
          onConfirm={props.onDelete}
          onCancel={() => dispatch({ type: 'confirm-delete', ask: false })}
          testid="confirm-delete-site"
        />
      ) : (
        <button
          type="button"
          className="danger"
          onClick={() => dispatch({ type: 'confirm-delete', ask: true })}
          data-testid="delete-site"
        >
          {t('siteEdit.review.deleteSite')}
        </button>
      )}
    </div>
  );
}
