// The state's named IP lists (issue 16): shared by every site whose matchers name them
// (`@office`). A change here is saved with the whole state, with this site in it.
import { Field, FieldProblems } from '../../../components/form.js';
import { Row, type SectionProps } from './parts.js';

export function IpListsSection(props: SectionProps) {
  const { form, problems, dispatch } = props;
  if (form.ip_lists_before === null) return null;
  return (
    <fieldset className="card">
      <legend>IP lists</legend>
      <p className="hint">Shared by all sites; use them as @name in client IPs.</p>
      {form.ip_lists.map((l, i) => (
        <Row
          key={i}
          title={`IP list ${l.name ? `@${l.name}` : i + 1}`}
          onRemove={() => dispatch({ type: 'remove-row', list: 'ip_lists', index: i })}
        >
          <Field
            label="Name"
            path={`ip_lists[${i}].name`}
            testid={`field-ip_lists[${i}].name`}
            value={l.name}
            onChange={(v) =>
              dispatch({ type: 'edit-row', list: 'ip_lists', index: i, patch: { name: v } })
            }
            problems={problems}
          />
          <Field
            label="Networks"
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
        Add IP list
      </button>
      <FieldProblems problems={problems} path="ip_lists" exact />
    </fieldset>
  );
}
