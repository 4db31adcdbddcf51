// The site's names, the edges that serve it, and its DNS TTL.
import { Field } from '../../../components/form.js';
import type { EdgeWithToken } from '../../../api/types.js';
import type { SectionProps } from './parts.js';

export function SiteSection(props: SectionProps & { editing: boolean; edges: EdgeWithToken[] }) {
  const { form, problems, dispatch } = props;
  const edit = (patch: Partial<typeof form>) => dispatch({ type: 'edit', patch });
  const tags = [...new Set(props.edges.flatMap((e) => e.tags))];
  const selectorHint = `Edge names, tag:NAME or *. Edges: ${
    props.edges.map((e) => e.name).join(', ') || 'none yet'
  }${tags.length > 0 ? `; tags: ${tags.map((t) => `tag:${t}`).join(', ')}` : ''}.`;
  return (
    <fieldset className="card">
      <legend>Site</legend>
      <div className="grid">
        <Field
          label="Domain"
          path="domain"
          value={form.domain}
          onChange={(v) => edit({ domain: v })}
          problems={problems}
          placeholder="www.example.com"
          hint={props.editing ? 'Delete and create the site again to rename it.' : undefined}
          required
        />
        <Field
          label="Aliases"
          path="aliases"
          value={form.aliases}
          onChange={(v) => edit({ aliases: v })}
          problems={problems}
          hint="Other names served the same way, separated by commas."
        />
        <Field
          label="Edges"
          path="edges"
          value={form.edges}
          onChange={(v) => edit({ edges: v })}
          problems={problems}
          hint={selectorHint}
        />
        <Field
          label="DNS TTL (seconds)"
          path="dns_ttl"
          type="number"
          value={form.dns_ttl}
          onChange={(v) => edit({ dns_ttl: v })}
          problems={problems}
        />
      </div>
    </fieldset>
  );
}
