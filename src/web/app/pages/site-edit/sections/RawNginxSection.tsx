// The escape hatch: raw nginx directives for the site's server blocks, unchecked.
import { useTranslation } from 'react-i18next';
import { Field } from '../../../components/form.js';
import type { SectionProps } from './parts.js';

export function RawNginxSection(props: SectionProps) {
  const { t } = useTranslation();
  return (
    <details className="card">
      <summary>{t('siteEdit.raw.summary')}</summary>
      <Field
        label={t('siteEdit.raw.label')}
        path="raw_nginx"
        value={props.form.raw_nginx}
        onChange={(v) => props.dispatch({ type: 'edit', patch: { raw_nginx: v } })}
        problems={props.problems}
        multiline
      />
    </details>
  );
}
