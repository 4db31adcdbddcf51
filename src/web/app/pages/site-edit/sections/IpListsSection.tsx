// The state's named IP lists (issue 16): shared by every site whose matchers name them
// (`@office`). A change here is saved with the whole state, with this site in it.
import { useTranslation } from 'react-i18next';
import { Field, FieldProblems } from '../../../components/form.js';
import { Row, type SectionProps } from './parts.js';

export function IpListsSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  if (form.ip_lists_before === null) return null;
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.ipLists.legend')}</legend>
      <p className="hint">{t('siteEdit.ipLists.hint')}</p>
      {form.ip_lists.map((l, i) => (
        <Row
          key={i}
          title={t('siteEdit.ipLists.list', { name: l.name ? `@${l.name}` : String(i + 1) })}
          onRemove={() => dispatch({ type: 'remove-row', list: 'ip_lists', index: i })}
        >
          <Field
            label={t('siteEdit.ipLists.name')}
            path={`ip_lists[${i}].name`}
            testid={`field-ip_lists[${i}].name`}
            value={l.name}
            onChange={(v) =>
              dispatch({ type: 'edit-row', list: 'ip_lists', index: i, patch: { name: v } })
            }
            problems={problems}
          />
          <Field
            label={t('siteEdit.ipLists.networks')}
            path={`ip_lists.${l.name.trim()}`}
            testid={`field-ip_lists[${i}].networks`}
            value={l.networks}
            onChange={(v) =>
              dispatch({ type: 'edit-row', list: 'ip_lists', index: i, patch: { networks: v } })
            }
            problems={problems}
            multiline
          />
        </Row>
      ))}
      <button
        type="button"
        className="secondary"
        data-testid="add-ip-list"
        onClick={() => dispatch({ type: 'add-row', list: 'ip_lists' })}
      >
        {t('siteEdit.ipLists.add')}
      </button>
      <FieldProblems problems={problems} path="ip_lists" exact />
    </fieldset>
  );
}
