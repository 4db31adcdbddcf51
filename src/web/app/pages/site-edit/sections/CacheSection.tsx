// Cache rules in order (first match wins) and the site's stale settings.
import { Checkbox, Field, Select } from '../../../components/form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function CacheSection(props: SectionProps) {
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>Cache</legend>
      <p className="hint">
        Rules in order, first match wins; anything unmatched is proxied uncached. A matcher field
        lists alternatives (commas); all given fields must match.
      </p>
      {form.rules.map((r, i) => {
        const editRule = (patch: Partial<typeof r>) =>
          dispatch({ type: 'edit-row', list: 'rules', index: i, patch });
        return (
          <Row
            key={i}
            title={`Rule ${i + 1}`}
            onRemove={() => dispatch({ type: 'remove-row', list: 'rules', index: i })}
          >
            <MatcherEditor
              path={`cache.rules[${i}].match`}
              match={r.match}
              problems={problems}
              onChange={(match) => editRule({ match })}
            />
            <Select
              label="Action"
              value={r.action}
              options={['cache', 'bypass'] as const}
              path={`cache.rules[${i}].action`}
              problems={problems}
              onChange={(action) => editRule({ action })}
            />
            <Field
              label="TTL without caching headers (s)"
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
        Add cache rule
      </button>
      <div className="checks">
        <Checkbox
          label="Serve stale copies while the origin errors (stale_if_error)"
          checked={form.stale_if_error}
          onChange={(v) => dispatch({ type: 'edit', patch: { stale_if_error: v } })}
        />
        <Checkbox
          label="Serve stale copies while updating (ignores response headers)"
          checked={form.stale_while_updating}
          onChange={(v) => dispatch({ type: 'edit', patch: { stale_while_updating: v } })}
        />
      </div>
    </fieldset>
  );
}
