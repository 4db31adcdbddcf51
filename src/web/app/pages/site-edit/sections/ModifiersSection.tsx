// Typed modifiers: match requests, then redirect, deny, set a header, bypass the cache or set
// its TTL, on every edge of the site or only on some.
import { useTranslation } from 'react-i18next';
import type { ApiProblem } from '../../../api/client.js';
import { Field, FieldProblems, Select } from '../../../components/form.js';
import { SPEC_DEFAULTS } from '../../../defaults.js';
import { MODIFIER_TYPES, type ModifierForm } from '../site-form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function ModifiersSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.modifiers.legend')}</legend>
      <p className="hint">{t('siteEdit.modifiers.hint')}</p>
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
        {t('siteEdit.modifiers.add')}
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
  const { t } = useTranslation();
  const { modifier: m, problems } = props;
  const p = `modifiers[${props.index}]`;
  return (
    <Row
      title={
        m.name
          ? t('siteEdit.modifiers.titleNamed', { n: props.index + 1, name: m.name })
          : t('siteEdit.modifiers.title', { n: props.index + 1 })
      }
      onRemove={props.onRemove}
    >
      <Field
        label={t('siteEdit.modifiers.name')}
        path={`${p}.name`}
        value={m.name}
        onChange={(v) => props.onChange({ name: v })}
        problems={problems}
        placeholder="large-files"
      />
      <Field
        label={t('siteEdit.modifiers.edges')}
        path={`${p}.edges`}
        value={m.edges}
        onChange={(v) => props.onChange({ edges: v })}
        problems={problems}
        hint={t('siteEdit.modifiers.edgesHint')}
      />
      <MatcherEditor
        path={`${p}.match`}
        match={m.match}
        problems={problems}
        onChange={(match) => props.onChange({ match })}
      />
      <Select
        label={t('siteEdit.action')}
        value={m.type}
        options={MODIFIER_TYPES}
        onChange={(v) => props.onChange({ type: v })}
        path={`${p}.action.type`}
        problems={problems}
      />
      {m.type === 'redirect' ? (
        <>
          <Field
            label={t('siteEdit.modifiers.status')}
            path={`${p}.action.status`}
            type="number"
            value={m.status}
            onChange={(v) => props.onChange({ status: v })}
            problems={problems}
            placeholder={String(SPEC_DEFAULTS.modifier.redirect_status)}
          />
          <Field
            label={t('siteEdit.modifiers.target')}
            path={`${p}.action.target`}
            value={m.target}
            onChange={(v) => props.onChange({ target: v })}
            problems={problems}
            placeholder="https://static.example.com{uri}"
            hint={t('siteEdit.modifiers.targetHint')}
          />
        </>
      ) : null}
      {m.type === 'deny' ? (
        <Field
          label={t('siteEdit.modifiers.status')}
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
            label={t('siteEdit.modifiers.header')}
            path={`${p}.action.name`}
            value={m.header_name}
            onChange={(v) => props.onChange({ header_name: v })}
            problems={problems}
          />
          <Field
            label={t('siteEdit.modifiers.value')}
            path={`${p}.action.value`}
            value={m.header_value}
            onChange={(v) => props.onChange({ header_value: v })}
            problems={problems}
          />
        </>
      ) : null}
      {m.type === 'cache_ttl' ? (
        <Field
          label={t('siteEdit.modifiers.ttl')}
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
