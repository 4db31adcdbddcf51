// Request rate limits (issue 16): a rate per client address or header value, with a burst and
// an optional delay, on matching requests. Each edge counts on its own.
import { useTranslation } from 'react-i18next';
import { Field, FieldProblems } from '../../../components/form.js';
import type { RateLimitForm } from '../site-form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function RateLimitsSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.rateLimits.legend')}</legend>
      <p className="hint">{t('siteEdit.rateLimits.hint')}</p>
      {form.rate_limits.map((l, i) => (
        <RateLimitEditor
          key={i}
          index={i}
          limit={l}
          {...props}
          onChange={(patch) => dispatch({ type: 'edit-row', list: 'rate_limits', index: i, patch })}
        />
      ))}
      <button
        type="button"
        className="secondary"
        data-testid="add-rate-limit"
        onClick={() => dispatch({ type: 'add-row', list: 'rate_limits' })}
      >
        {t('siteEdit.rateLimits.add')}
      </button>
      <FieldProblems problems={problems} path="rate_limits" exact />
    </fieldset>
  );
}

function RateLimitEditor(
  props: SectionProps & {
    index: number;
    limit: RateLimitForm;
    onChange: (patch: Partial<RateLimitForm>) => void;
  },
) {
  const { limit: l, problems } = props;
  const p = `rate_limits[${props.index}]`;
  const { t } = useTranslation();
  const field = (
    key: Exclude<keyof RateLimitForm, 'match'>,
    label: string,
    placeholder?: string,
  ) => (
    <Field
      label={label}
      path={`${p}.${key}`}
      value={l[key]}
      onChange={(v) => props.onChange({ [key]: v })}
      problems={problems}
      {...(placeholder !== undefined ? { placeholder } : {})}
    />
  );
  return (
    <Row
      title={`${t('siteEdit.rateLimits.limit', { n: props.index + 1 })}${l.name ? `: ${l.name}` : ''}`}
      onRemove={() =>
        props.dispatch({ type: 'remove-row', list: 'rate_limits', index: props.index })
      }
    >
      {field('name', t('siteEdit.rateLimits.name'), 'api')}
      {field('rate', t('siteEdit.rateLimits.rate'), '10r/s')}
      {field('burst', t('siteEdit.rateLimits.burst'), '0')}
      {field('delay', t('siteEdit.rateLimits.delay'), 'nodelay')}
      {field('key', t('siteEdit.rateLimits.key'), 'ip')}
      {field('status', t('siteEdit.rateLimits.status'), '429')}
      {field('edges', t('siteEdit.rateLimits.edges'))}
      <MatcherEditor
        path={`${p}.match`}
        match={l.match}
        problems={problems}
        onChange={(match) => props.onChange({ match })}
      />
      <FieldProblems problems={problems} path={p} exact />
    </Row>
  );
}
