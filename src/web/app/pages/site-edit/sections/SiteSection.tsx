// The site's names, the edges that serve it, and its DNS TTL.
import { useTranslation } from 'react-i18next';
import { Field } from '../../../components/form.js';
import type { EdgeWithToken } from '../../../api/types.js';
import type { SectionProps } from './parts.js';

export function SiteSection(props: SectionProps & { editing: boolean; edges: EdgeWithToken[] }) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  const edit = (patch: Partial<typeof form>) => dispatch({ type: 'edit', patch });
  const tags = [...new Set(props.edges.flatMap((e) => e.tags))];
  const edgeList = props.edges.map((e) => e.name).join(', ') || t('siteEdit.site.noneYet');
  const selectorHint =
    tags.length > 0
      ? t('siteEdit.site.edgesHintTags', {
          edges: edgeList,
          tags: tags.map((tag) => `tag:${tag}`).join(', '),
        })
      : t('siteEdit.site.edgesHint', { edges: edgeList });
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.site.legend')}</legend>
      <div className="grid">
        <Field
          label={t('siteEdit.site.domain')}
          path="domain"
          value={form.domain}
          onChange={(v) => edit({ domain: v })}
          problems={problems}
          placeholder="www.example.com"
          hint={props.editing ? t('siteEdit.site.renameHint') : undefined}
          required
        />
        <Field
          label={t('siteEdit.site.aliases')}
          path="aliases"
          value={form.aliases}
          onChange={(v) => edit({ aliases: v })}
          problems={problems}
          hint={t('siteEdit.site.aliasesHint')}
        />
        <Field
          label={t('siteEdit.site.edges')}
          path="edges"
          value={form.edges}
          onChange={(v) => edit({ edges: v })}
          problems={problems}
          hint={selectorHint}
        />
        <Field
          label={t('siteEdit.site.dnsTtl')}
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
