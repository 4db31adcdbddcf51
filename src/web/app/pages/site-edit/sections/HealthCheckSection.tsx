// The site's own health check (its URL, how often, how patiently).
import { useTranslation } from 'react-i18next';
import { Checkbox, Field, FieldProblems } from '../../../components/form.js';
import type { SiteForm } from '../site-form.js';
import type { SectionProps } from './parts.js';

export function HealthCheckSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  const edit = (patch: Partial<SiteForm>) => dispatch({ type: 'edit', patch });
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.health.legend')}</legend>
      <Checkbox
        label={t('siteEdit.health.enabled')}
        checked={form.health_check}
        onChange={(v) => edit({ health_check: v })}
        testid="health-check-enabled"
      />
      {form.health_check ? (
        <div className="grid">
          <Field
            label={t('siteEdit.health.url')}
            path="health_check.uri"
            value={form.hc_uri}
            onChange={(v) => edit({ hc_uri: v })}
            problems={problems}
            placeholder="https://www.example.com/healthz"
          />
          <Field
            label={t('siteEdit.health.every')}
            path="health_check.frequency"
            type="number"
            value={form.hc_frequency}
            onChange={(v) => edit({ hc_frequency: v })}
            problems={problems}
          />
          <Field
            label={t('siteEdit.health.timeout')}
            path="health_check.timeout"
            type="number"
            value={form.hc_timeout}
            onChange={(v) => edit({ hc_timeout: v })}
            problems={problems}
          />
        </div>
      ) : null}
      <FieldProblems problems={problems} path="health_check" exact />
    </fieldset>
  );
}
