// HTTPS: the redirect from HTTP, and HSTS with its options.
import { useTranslation } from 'react-i18next';
import { Checkbox, Field, FieldProblems } from '../../../components/form.js';
import type { SiteForm } from '../site-form.js';
import type { SectionProps } from './parts.js';

export function HttpsSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  const edit = (patch: Partial<SiteForm>) => dispatch({ type: 'edit', patch });
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.https.legend')}</legend>
      <div className="checks">
        <Checkbox
          label={t('siteEdit.https.redirect')}
          checked={form.redirect_http}
          onChange={(v) => edit({ redirect_http: v })}
        />
        <Checkbox
          label={t('siteEdit.https.hsts')}
          checked={form.hsts}
          onChange={(v) => edit({ hsts: v })}
        />
      </div>
      {form.hsts ? (
        <div className="grid">
          <Field
            label={t('siteEdit.https.maxAge')}
            path="https.hsts.max_age"
            type="number"
            value={form.hsts_max_age}
            onChange={(v) => edit({ hsts_max_age: v })}
            problems={problems}
          />
          <div className="checks">
            <Checkbox
              label="includeSubDomains"
              checked={form.hsts_include_subdomains}
              onChange={(v) => edit({ hsts_include_subdomains: v })}
            />
            <Checkbox
              label="preload"
              checked={form.hsts_preload}
              onChange={(v) => edit({ hsts_preload: v })}
            />
          </div>
        </div>
      ) : null}
      <FieldProblems problems={problems} path="https" exact />
    </fieldset>
  );
}
