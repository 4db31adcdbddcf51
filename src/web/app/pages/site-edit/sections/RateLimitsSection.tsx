// Request rate limits (issue 16): a rate per client address or header value, with a burst and
// an optional delay, on matching requests. Each edge counts on its own.
import { Field, FieldProblems } from '../../../components/form.js';
import type { RateLimitForm } from '../site-form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function RateLimitsSection(props: SectionProps) {
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>Rate limits</legend>
      <p className="hint">Counted on each edge on its own.</p>
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
        Add rate limit
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
      title={`Rate limit ${props.index + 1}${l.name ? `: ${l.name}` : ''}`}
      onRemove={() =>
        props.dispatch({ type: 'remove-row', list: 'rate_limits', index: props.index })
      }
    >
      {field('name', 'Name', 'api')}
      {field('rate', 'Rate', '10r/s')}
      {field('burst', 'Burst', '0')}
      {field('delay', 'Delay', 'nodelay')}
      {field('key', 'Key', 'ip')}
      {field('status', 'Status', '429')}
      {field('edges', 'Only on edges')}
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
