// Issue 22: the fields of a `networks` value (the ASNs and line presets an edge serves best,
// for GeoDNS; docs/dns.md "Steering by network"), shared by the edge page and the site
// editor's per-site entries: the ASNs as a list typed in a text box, the presets of
// spec/network-lines.ts as checkboxes with their name in the UI's language and their ASN
// count. Nothing is checked here: the API's problems (`networks.asns[1]`) are shown beside
// the field whose path they name.
import { useTranslation } from 'react-i18next';
import type { ApiProblem } from '../api/client.js';
import { NETWORK_LINE_NAMES, NETWORK_LINES } from '../../../spec/network-lines.js';
import { Field, FieldProblems } from './form.js';
import { numberOrText, splitList } from './form-text.js';

/** The networks as the form edits them. */
export interface NetworksForm {
  asns: string;
  lines: string[];
}

export const emptyNetworks = (): NetworksForm => ({ asns: '', lines: [] });

export function networksForm(n: { asns?: number[]; lines?: string[] } | undefined): NetworksForm {
  return { asns: (n?.asns ?? []).join(', '), lines: [...(n?.lines ?? [])] };
}

/**
 * The form as the API takes it: `asns` (numbers where the words are; `AS4134` is 4134; any
 * other word as typed, for the API to name), `lines` in the order they were loaded, then
 * checked (so saving unchanged presets changes nothing); a side left empty is left out.
 */
export function networksValue(f: NetworksForm): { asns?: (number | string)[]; lines?: string[] } {
  const asns = splitList(f.asns).map((w) => numberOrText(w.replace(/^AS(?=\d+$)/i, '')) ?? w);
  return {
    ...(asns.length > 0 ? { asns } : {}),
    ...(f.lines.length > 0 ? { lines: [...f.lines] } : {}),
  };
}

/** A preset's name in the UI's language (its key when the catalogue has none). */
function useLineLabel(): (name: string) => string {
  const { t } = useTranslation();
  return (name) => {
    switch (name) {
      case 'china-telecom':
        return t('networks.line.chinaTelecom');
      case 'china-telecom-cn2':
        return t('networks.line.chinaTelecomCn2');
      case 'china-unicom':
        return t('networks.line.chinaUnicom');
      case 'china-unicom-9929':
        return t('networks.line.chinaUnicom9929');
      case 'china-mobile':
        return t('networks.line.chinaMobile');
      case 'china-mobile-cmi':
        return t('networks.line.chinaMobileCmi');
      case 'china-education':
        return t('networks.line.chinaEducation');
      default:
        return name;
    }
  };
}

/**
 * The ASN box and the preset checkboxes. `path` is where the value sits in what is sent
 * (`networks` on an edge, `networks[2]` in a site); test ids are `field-PATH.asns` and
 * `PATH.lines-NAME`.
 */
export function NetworksFields(props: {
  value: NetworksForm;
  onChange: (v: NetworksForm) => void;
  path: string;
  problems: ApiProblem[];
}) {
  const { t } = useTranslation();
  const label = useLineLabel();
  const { value, path } = props;
  const toggle = (name: string, on: boolean) =>
    props.onChange({
      ...value,
      lines: on ? [...value.lines, name] : value.lines.filter((l) => l !== name),
    });
  return (
    <div className="networks">
      <Field
        label={t('networks.asns')}
        path={`${path}.asns`}
        value={value.asns}
        onChange={(asns) => props.onChange({ ...value, asns })}
        problems={props.problems}
        hint={t('networks.asnsHint')}
        placeholder="4134, 4809"
      />
      <fieldset className="field" data-testid={`${path}.lines`}>
        <legend>{t('networks.lines')}</legend>
        {NETWORK_LINE_NAMES.map((name) => {
          const line = NETWORK_LINES[name];
          return (
            <label key={name} className="checkbox" title={line?.title}>
              <input
                type="checkbox"
                checked={value.lines.includes(name)}
                data-testid={`${path}.lines-${name}`}
                onChange={(e) => toggle(name, e.target.checked)}
              />{' '}
              {label(name)} <code>{name}</code>{' '}
              <small className="muted">
                {t('networks.asnCount', { count: line?.asns.length ?? 0 })}
              </small>
            </label>
          );
        })}
        <FieldProblems problems={props.problems} path={`${path}.lines`} />
      </fieldset>
      <FieldProblems problems={props.problems} path={path} exact />
    </div>
  );
}
