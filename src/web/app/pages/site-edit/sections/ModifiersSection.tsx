// Typed modifiers: match requests, then redirect, deny, set a header, bypass the cache or set
// its TTL, on every edge of the site or only on some.
import type { ApiProblem } from '../../../api/client.js';
import { Field, FieldProblems, Select } from '../../../components/form.js';
import { SPEC_DEFAULTS } from '../../../defaults.js';
import { MODIFIER_TYPES, type ModifierForm } from '../site-form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function ModifiersSection(props: SectionProps) {
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>Modifiers</legend>
      <p className="hint">
        Typed rules such as “this slow edge redirects large files”. Precedence: modifiers naming the
        edge, then tags or *, then those without edges.
      </p>
      {form.modifiers.map((m, i) => (
        <ModifierEditor
          key={i}
          index={i}
          modifier={m}
          problems={problems}
          onChange={(patch) => dispatch({ type: 'edit-row', list: 'modifiers', index: i, patch })}
          onRemove={() => dispatch({ type: 'remove-row', list: 'modifiers', index: i })}
        />
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => dispatch({ type: 'add-row', list: 'modifiers' })}
      >
        Add modifier
      </button>
    </fieldset>
  );
}

function ModifierEditor(props: {
  index: number;
  modifier: ModifierForm;
  problems: ApiProblem[];
  onChange: (patch: Partial<ModifierForm>) => void;
  onRemove: () => void;
}) {
  const { modifier: m, problems } = props;
  const p = `modifiers[${props.index}]`;
  return (
    <Row
      title={`Modifier ${props.index + 1}${m.name ? `: ${m.name}` : ''}`}
      onRemove={props.onRemove}
    >
      <Field
        label="Name"
        path={`${p}.name`}
        value={m.name}
        onChange={(v) => props.onChange({ name: v })}
        problems={problems}
        placeholder="large-files"
      />
      <Field
        label="Only on edges"
        path={`${p}.edges`}
        value={m.edges}
        onChange={(v) => props.onChange({ edges: v })}
        problems={problems}
        hint="Edge names, tag:NAME or *; empty: every edge of the site."
      />
      <MatcherEditor
        path={`${p}.match`}
        match={m.match}
        problems={problems}
        onChange={(match) => props.onChange({ match })}
      />
      <Select
        label="Action"
        value={m.type}
        options={MODIFIER_TYPES}
        onChange={(v) => props.onChange({ type: v })}
        path={`${p}.action.type`}
        problems={problems}
      />
      {m.type === 'redirect' ? (
        <>
          <Field
            label="Status"
            path={`${p}.action.status`}
            type="number"
            value={m.status}
            onChange={(v) => props.onChange({ status: v })}
            problems={problems}
            placeholder={String(SPEC_DEFAULTS.modifier.redirect_status)}
          />
          <Field
            label="Target"
            path={`${p}.action.target`}
            value={m.target}
            onChange={(v) => props.onChange({ target: v })}
            problems={problems}
            placeholder="https://static.example.com{uri}"
            hint="Placeholders: {uri} {path} {args} {host} {scheme}"
          />
        </>
      ) : null}
      {m.type === 'deny' ? (
        <Field
          label="Status"
          path={`${p}.action.status`}
          type="number"
          value={m.status}
          onChange={(v) => props.onChange({ status: v })}
          problems={problems}
          placeholder={String(SPEC_DEFAULTS.modifier.deny_status)}
        />
      ) : null}
      {m.type === 'set_header' ? (
        <>
          <Field
            label="Header"
            path={`${p}.action.name`}
            value={m.header_name}
            onChange={(v) => props.onChange({ header_name: v })}
            problems={problems}
          />
          <Field
            label="Value"
            path={`${p}.action.value`}
            value={m.header_value}
            onChange={(v) => props.onChange({ header_value: v })}
            problems={problems}
          />
        </>
      ) : null}
      {m.type === 'cache_ttl' ? (
        <Field
          label="TTL (s)"
          path={`${p}.action.ttl`}
          type="number"
          value={m.ttl}
          onChange={(v) => props.onChange({ ttl: v })}
          problems={problems}
        />
      ) : null}
      <FieldProblems problems={problems} path={`${p}.action`} exact />
    </Row>
  );
}
