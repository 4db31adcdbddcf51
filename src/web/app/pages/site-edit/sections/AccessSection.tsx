// Who may reach the site (issue 16): access rules by matcher (the first match decides), the
// default for requests no rule matches, and the status and body of a deny.
import { useTranslation } from 'react-i18next';
import { Checkbox, Field, FieldProblems, Select } from '../../../components/form.js';
import { ACCESS_ACTIONS, type AccessForm, type AccessRuleForm } from '../site-form.js';
import { MatcherEditor, Row, type SectionProps } from './parts.js';

export function AccessSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  const a = form.access;
  const edit = (patch: Partial<AccessForm>) =>
    dispatch({ type: 'edit', patch: { access: { ...a, ...patch } } });
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.access.legend')}</legend>
      <div className="checks">
        <Checkbox
          label={t('siteEdit.access.enabled')}
          checked={a.enabled}
          onChange={(v) => edit({ enabled: v })}
          testid="access-enabled"
        />
      </div>
      {a.enabled ? (
        <>
          <div className="grid">
            <Select
              label={t('siteEdit.access.default')}
              value={a.default}
              options={['allow', 'deny'] as const}
              onChange={(v) => edit({ default: v })}
              testid="access.default"
              path="access.default"
              problems={problems}
            />
            <Field
              label={t('siteEdit.access.status')}
              path="access.status"
              type="number"
              value={a.status}
              onChange={(v) => edit({ status: v })}
              problems={problems}
              placeholder="403"
            />
            <Field
              label={t('siteEdit.access.body')}
              path="access.body"
              value={a.body}
              onChange={(v) => edit({ body: v })}
              problems={problems}
              multiline
            />
          </div>
          {form.access_rules.map((r, i) => (
            <AccessRuleEditor
              key={i}
              index={i}
              rule={r}
              {...props}
              onChange={(patch) =>
                dispatch({ type: 'edit-row', list: 'access_rules', index: i, patch })
              }
            />
          ))}
          <button
            type="button"
            className="secondary"
            data-testid="add-access-rule"
            onClick={() => dispatch({ type: 'add-row', list: 'access_rules' })}
          >
            {t('siteEdit.access.add')}
          </button>
        </>
      ) : null}
      <FieldProblems problems={problems} path="access" exact />
    </fieldset>
  );
}

function AccessRuleEditor(
  props: SectionProps & {
    index: number;
    rule: AccessRuleForm;
    onChange: (patch: Partial<AccessRuleForm>) => void;
  },
) {
  const { rule: r, problems } = props;
  const p = `access.rules[${props.index}]`;
  const { t } = useTranslation();
  return (
    <Row
      title={`${t('siteEdit.access.rule', { n: props.index + 1 })}${r.name ? `: ${r.name}` : ''}`}
      onRemove={() =>
        props.dispatch({ type: 'remove-row', list: 'access_rules', index: props.index })
      }
    >
      <Field
        label={t('siteEdit.access.name')}
        path={`${p}.name`}
        value={r.name}
        onChange={(v) => props.onChange({ name: v })}
        problems={problems}
      />
      <Field
        label={t('siteEdit.access.edges')}
        path={`${p}.edges`}
        value={r.edges}
        onChange={(v) => props.onChange({ edges: v })}
        problems={problems}
      />
      <MatcherEditor
        path={`${p}.match`}
        match={r.match}
        problems={problems}
        onChange={(match) => props.onChange({ match })}
      />
      <Select
        label={t('siteEdit.access.action')}
        value={r.action}
        options={ACCESS_ACTIONS}
        onChange={(v) => props.onChange({ action: v })}
        testid={`${p}.action`}
        path={`${p}.action`}
        problems={problems}
      />
      {r.action !== 'allow' ? (
        <Field
          label={t('siteEdit.access.ruleStatus')}
          path={`${p}.status`}
          type="number"
          value={r.status}
          onChange={(v) => props.onChange({ status: v })}
          problems={problems}
        />
      ) : null}
      {r.action === 'redirect' ? (
        <Field
          label={t('siteEdit.access.target')}
          path={`${p}.target`}
          value={r.target}
          onChange={(v) => props.onChange({ target: v })}
          problems={problems}
          placeholder="https://example.com{uri}"
        />
      ) : null}
      <FieldProblems problems={problems} path={p} exact />
    </Row>
  );
}
