// The site's origins: addresses or a hostname, protocol, port, weight, TLS to the origin, backup.
import { useTranslation } from 'react-i18next';
import type { ApiProblem } from '../../../api/client.js';
import { Checkbox, Field, FieldProblems, Select } from '../../../components/form.js';
import type { OriginForm } from '../site-form.js';
import { Row, type SectionProps } from './parts.js';

export function OriginsSection(props: SectionProps) {
  const { t } = useTranslation();
  const { form, problems, dispatch } = props;
  return (
    <fieldset className="card">
      <legend>{t('siteEdit.origins.legend')}</legend>
      <FieldProblems problems={problems} path="origins" exact />
      {form.origins.map((o, i) => (
        <OriginEditor
          key={i}
          index={i}
          origin={o}
          problems={problems}
          onChange={(patch) => dispatch({ type: 'edit-row', list: 'origins', index: i, patch })}
          onRemove={
            form.origins.length > 1
              ? () => dispatch({ type: 'remove-row', list: 'origins', index: i })
              : undefined
          }
        />
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => dispatch({ type: 'add-row', list: 'origins' })}
        data-testid="add-origin"
      >
        {t('siteEdit.origins.add')}
      </button>
    </fieldset>
  );
}

function OriginEditor(props: {
  index: number;
  origin: OriginForm;
  problems: ApiProblem[];
  onChange: (patch: Partial<OriginForm>) => void;
  onRemove: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  const { origin: o, problems } = props;
  const p = `origins[${props.index}]`;
  return (
    <Row title={t('siteEdit.origins.title', { n: props.index + 1 })} onRemove={props.onRemove}>
      <Select
        label={t('siteEdit.origins.kind')}
        value={o.kind}
        options={['address', 'hostname'] as const}
        labels={{
          address: t('siteEdit.origins.kindAddress'),
          hostname: t('siteEdit.origins.kindHostname'),
        }}
        onChange={(v) => props.onChange({ kind: v })}
        testid={`${p}.kind`}
      />
      {o.kind === 'address' ? (
        <>
          <Field
            label={t('siteEdit.origins.v4')}
            path={`${p}.host.v4`}
            value={o.v4}
            onChange={(v) => props.onChange({ v4: v })}
            problems={problems}
            placeholder="192.0.2.10"
          />
          <Field
            label={t('siteEdit.origins.v6')}
            path={`${p}.host.v6`}
            value={o.v6}
            onChange={(v) => props.onChange({ v6: v })}
            problems={problems}
            placeholder="2001:db8::10"
          />
        </>
      ) : (
        <Field
          label={t('siteEdit.origins.hostname')}
          path={`${p}.host`}
          value={o.hostname}
          onChange={(v) => props.onChange({ hostname: v })}
          problems={problems}
          placeholder="origin.example.com"
        />
      )}
      {o.kind === 'address' ? <FieldProblems problems={problems} path={`${p}.host`} exact /> : null}
      <Select
        label={t('siteEdit.origins.protocol')}
        value={o.protocol}
        options={['https', 'http'] as const}
        onChange={(v) => props.onChange({ protocol: v })}
        testid={`${p}.protocol`}
        path={`${p}.protocol`}
        problems={problems}
      />
      <Field
        label={t('siteEdit.origins.port')}
        path={`${p}.port`}
        type="number"
        value={o.port}
        onChange={(v) => props.onChange({ port: v })}
        problems={problems}
        placeholder={o.protocol === 'https' ? '443' : '80'}
      />
      <Field
        label={t('siteEdit.origins.weight')}
        path={`${p}.weight`}
        type="number"
        value={o.weight}
        onChange={(v) => props.onChange({ weight: v })}
        problems={problems}
      />
      {o.protocol === 'https' ? (
        <Field
          label={t('siteEdit.origins.tlsName')}
          path={`${p}.tls_server_name`}
          value={o.tls_server_name}
          onChange={(v) => props.onChange({ tls_server_name: v })}
          problems={problems}
          hint={t('siteEdit.origins.tlsNameHint')}
        />
      ) : null}
      <div className="checks">
        {o.protocol === 'https' ? (
          <Checkbox
            label={t('siteEdit.origins.verify')}
            checked={o.verify_tls}
            onChange={(v) => props.onChange({ verify_tls: v })}
          />
        ) : null}
        <Checkbox
          label={t('siteEdit.origins.backup')}
          checked={o.backup}
          onChange={(v) => props.onChange({ backup: v })}
        />
      </div>
      {o.protocol === 'https' ? (
        <Field
          label={t('siteEdit.origins.ca')}
          path={`${p}.tls_ca`}
          value={o.tls_ca}
          onChange={(v) => props.onChange({ tls_ca: v })}
          problems={problems}
          multiline
        />
      ) : null}
      <FieldProblems problems={problems} path={p} exact />
    </Row>
  );
}
