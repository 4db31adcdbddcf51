// The grant of a token or a user (issue 15): its scopes, and the sites (by domain or tag) that
// `purge` and `sites:write` stop at. Shared by the tokens and users pages.
import { useTranslation } from 'react-i18next';
import type { Scope } from '../api/types.js';
import { i18n } from '../i18n/index.js';
import { Checkbox } from './form.js';

export const SCOPES: readonly Scope[] = ['read', 'purge', 'sites:write', 'edges:write', 'admin'];

export interface GrantValue {
  scopes: Scope[];
  /** Comma-separated, as typed. */
  sites: string;
  tags: string;
}

export const EMPTY_GRANT: GrantValue = { scopes: [], sites: '', tags: '' };

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The grant as the API takes it. */
export function grantBody(g: GrantValue): { scopes: Scope[]; sites: string[]; tags: string[] } {
  return { scopes: g.scopes, sites: list(g.sites), tags: list(g.tags) };
}

export function GrantFields(props: {
  value: GrantValue;
  onChange: (g: GrantValue) => void;
  idPrefix: string;
}) {
  const { t } = useTranslation();
  const g = props.value;
  return (
    <>
      <fieldset className="field">
        <legend>{t('grant.scopes')}</legend>
        <div className="checks">
          {SCOPES.map((s) => (
            <Checkbox
              key={s}
              label={s}
              checked={g.scopes.includes(s)}
              onChange={(on) =>
                props.onChange({
                  ...g,
                  scopes: on ? [...g.scopes, s] : g.scopes.filter((x) => x !== s),
                })
              }
              testid={`${props.idPrefix}-scope-${s}`}
            />
          ))}
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${props.idPrefix}-sites`}>{t('grant.sites')}</label>
        <input
          id={`${props.idPrefix}-sites`}
          value={g.sites}
          placeholder="shop.example.com, blog.example.com"
          onChange={(e) => props.onChange({ ...g, sites: e.target.value })}
          data-testid={`${props.idPrefix}-sites`}
        />
      </div>
      <div className="field">
        <label htmlFor={`${props.idPrefix}-tags`}>{t('grant.tags')}</label>
        <input
          id={`${props.idPrefix}-tags`}
          value={g.tags}
          placeholder="shop"
          onChange={(e) => props.onChange({ ...g, tags: e.target.value })}
          data-testid={`${props.idPrefix}-tags`}
        />
      </div>
    </>
  );
}

/** A grant in one line: `purge (shop.example.com, tag shop)`. */
export function grantText(g: {
  scopes: readonly string[];
  sites: readonly string[];
  tags: readonly string[];
}) {
  const reach = [...g.sites, ...g.tags.map((tag) => i18n.t('grant.tag', { tag }))];
  return `${g.scopes.join(', ')}${reach.length > 0 ? ` (${reach.join(', ')})` : ''}`;
}
