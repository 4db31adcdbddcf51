// What every section of the site editor shares: its props (the form, the problems to show, and
// the reducer's dispatch), a removable row box, and the matcher fields.
import type { Dispatch, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiProblem } from '../../../api/client.js';
import { Field, FieldProblems } from '../../../components/form.js';
import type { EditorAction } from '../editor.js';
import type { MatcherForm, SiteForm } from '../site-form.js';

export interface SectionProps {
  form: SiteForm;
  problems: ApiProblem[];
  dispatch: Dispatch<EditorAction>;
}

export function Row(props: {
  title: string;
  children: ReactNode;
  onRemove?: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  return (
    <div className="row-box">
      <div className="row-head">
        <strong>{props.title}</strong>
        {props.onRemove ? (
          <button
            type="button"
            className="link danger"
            onClick={props.onRemove}
            aria-label={t('siteEdit.removeRow', { title: props.title })}
          >
            {t('common.remove')}
          </button>
        ) : null}
      </div>
      <div className="grid">{props.children}</div>
    </div>
  );
}

const MATCHER_FIELDS = [
  ['paths', 'siteEdit.matcher.paths', '/static/*, /assets/*'],
  ['extensions', 'siteEdit.matcher.extensions', 'css, js, png'],
  ['methods', 'siteEdit.matcher.methods', 'GET, HEAD'],
  ['client_ips', 'siteEdit.matcher.clientIps', '10.0.0.0/8, @office'],
] as const satisfies readonly (readonly [keyof MatcherForm, string, string])[];

export function MatcherEditor(props: {
  path: string;
  match: MatcherForm;
  problems: ApiProblem[];
  onChange: (m: MatcherForm) => void;
}) {
  const { t } = useTranslation();
  const { match: m } = props;
  return (
    <>
      {MATCHER_FIELDS.map(([key, label, placeholder]) => (
        <Field
          key={key}
          label={t(label)}
          path={`${props.path}.${key}`}
          value={m[key]}
          onChange={(v) => props.onChange({ ...m, [key]: v })}
          problems={props.problems}
          placeholder={placeholder}
        />
      ))}
      <FieldProblems problems={props.problems} path={props.path} exact />
    </>
  );
}
