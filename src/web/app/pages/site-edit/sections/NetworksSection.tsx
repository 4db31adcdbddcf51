// Issue 22: the site's `networks` entries: per edge selector (a name, `tag:NAME`, `*`), the
// networks those edges serve for this site's records instead of their own (docs/dns.md
// "Steering by network"); an entry naming the edge wins over one selecting it by tag or `*`.
import { useTranslation } from 'react-i18next';
import { Field, FieldProblems } from '../../../components/form.js';
import { NetworksFields } from '../../../components/NetworksFields.js';
import { Row, type SectionProps } from './parts.js';

export function NetworksSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card" data-testid="site-networks">
      <legend>{t('networks.site.legend')}</legend>
      <p className="hint">{t('networks.site.hint')}</p>
      {form.networks.map((n, i) => (
        <Row
          key={i}
          title={t('networks.site.entry', { n: i + 1 })}
          onRemove={() => dispatch({ type: 'remove-row', list: 'networks', index: i })}
        >
          <Field
            label={t('networks.site.edges')}
            path={`networks[${i}].edges`}
            value={n.edges}
            onChange={(edges) =>
              dispatch({ type: 'edit-row', list: 'networks', index: i, patch: { edges } })
            }
            problems={problems}
            placeholder="hk-cmi, tag:cn"
          />
          <NetworksFields
            path={`networks[${i}]`}
            value={n.networks}
            onChange={(networks) =>
              dispatch({ type: 'edit-row', list: 'networks', index: i, patch: { networks } })
            }
            problems={problems}
          />
        </Row>
      ))}
      <button
        type="button"
        className="secondary"
        data-testid="add-site-networks"
        onClick={() => dispatch({ type: 'add-row', list: 'networks' })}
      >
        {t('networks.site.add')}
      </button>
      <FieldProblems problems={problems} path="networks" exact />
    </fieldset>
  );
}
