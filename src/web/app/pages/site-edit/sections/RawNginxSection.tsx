// The escape hatch: raw nginx directives for the site's server blocks, unchecked.
import { Field } from '../../../components/form.js';
import type { SectionProps } from './parts.js';

export function RawNginxSection(props: SectionProps) {
  return (
    <details className="card">
      <summary>Advanced: raw nginx directives (unchecked)</summary>
      <Field
        label="Directives in this site's server blocks"
        path="raw_nginx"
        value={props.form.raw_nginx}
        onChange={(v) => props.dispatch({ type: 'edit', patch: { raw_nginx: v } })}
        problems={props.problems}
        multiline
      />
    </details>
  );
}
