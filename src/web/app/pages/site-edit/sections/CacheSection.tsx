// Cache rules in order (first match wins) and the site's stale settings.
import { useTranslation } from 'react-i18next';
import { Checkbox, Field, Select } from '../../../components/form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function CacheSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.cache.legend')}</legend>
      <p className="hint">{t('siteEdit.cache.hint')}</p>
      {form.rules.map((r, i) => {
        const editRule = (patch: Partial<typeof r>) =>
          dispatch({ type: 'edit-row', list: 'rules', index: i, patch });
        return (
          <Row
            key={i}
            title={t('siteEdit.cache.rule', { n: i + 1 })}
            onRemove={() => dispatch({ type: 'remove-row', list: 'rules', index: i })}
          >
            <MatcherEditor
              path={`cache.rules[${i}].match`}
              match={r.match}
              problems={problems}
              onChange={(match) => editRule({ match })}
            />
            <Select
              label={t('siteEdit.action')}
              value={r.action}
              options={['cache', 'bypass'] as const}
              path={`cache.rules[${i}].action`}
              problems={problems}
              onChange={(action) => editRule({ action })}
            />
            <Field
              label={t('siteEdit.cache.ttl')}
              path={`cache.rules[${i}].ttl`}
              type="number"
              value={r.ttl}
              problems={problems}
              onChange={(ttl) => editRule({ ttl })}
            />
          </Row>
        );
      })}
      <button
        type="button"
        className="secondary"
        onClick={() => dispatch({ type: 'add-row', list: 'rules' })}
      >
        {t('siteEdit.cache.add')}
      </button>
      <div className="checks">
        <Checkbox
          label={t('siteEdit.cache.staleIfError')}
          checked={form.stale_if_error}
          onChange={(v) => dispatch({ type: 'edit', patch: { stale_if_error: v } })}
        />
        <Checkbox
          label={t('siteEdit.cache.staleWhileUpdating')}
          checked={form.stale_while_updating}
          onChange={(v) => dispatch({ type: 'edit', patch: { stale_while_updating: v } })}
        />
      </div>
    </fieldset>
  );
}
