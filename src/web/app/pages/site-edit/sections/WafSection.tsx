// The WAF (issue 16): OWASP CRS on ModSecurity, nginx edges only. Exclusions and per-edge
// overrides are kept as the spec has them (edit them in the spec file).
import { useTranslation } from 'react-i18next';
import { Checkbox, Field, FieldProblems, Select } from '../../../components/form.js';
import type { WafForm } from '../site-form.js';
import type { SectionProps } from './parts.js';

export function WafSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  const w = form.waf;
  const edit = (patch: Partial<WafForm>) =>
    dispatch({ type: 'edit', patch: { waf: { ...w, ...patch } } });
  return (
    <fieldset className="card">
      <legend>WAF</legend>
      <div className="checks">
        <Checkbox
          label={t('siteEdit.waf.enabled')}
          checked={w.enabled}
          onChange={(v) => edit({ enabled: v })}
          testid="waf-enabled"
        />
      </div>
      {w.enabled ? (
        <div className="grid">
          <Select
            label={t('siteEdit.waf.mode')}
            value={w.mode}
            options={['detect', 'block'] as const}
            onChange={(v) => edit({ mode: v })}
            testid="waf.mode"
            path="waf.mode"
            problems={problems}
          />
          <Field
            label={t('siteEdit.waf.paranoia')}
            path="waf.paranoia"
            type="number"
            value={w.paranoia}
            onChange={(v) => edit({ paranoia: v })}
            problems={problems}
            placeholder="1"
          />
          <Field
            label={t('siteEdit.waf.inbound')}
            path="waf.anomaly_threshold.inbound"
            type="number"
            value={w.inbound}
            onChange={(v) => edit({ inbound: v })}
            problems={problems}
            placeholder="5"
          />
          <Field
            label={t('siteEdit.waf.outbound')}
            path="waf.anomaly_threshold.outbound"
            type="number"
            value={w.outbound}
            onChange={(v) => edit({ outbound: v })}
            problems={problems}
            placeholder="4"
          />
          <Field
            label={t('siteEdit.waf.bodyLimit')}
            path="waf.request_body_limit"
            type="number"
            value={w.request_body_limit}
            onChange={(v) => edit({ request_body_limit: v })}
            problems={problems}
          />
        </div>
      ) : null}
      <FieldProblems problems={problems} path="waf" exact />
      <FieldProblems problems={problems} path="waf.enabled" exact />
    </fieldset>
  );
}
