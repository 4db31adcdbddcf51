// Issue 22: the edge page's Networks section: the ASNs and line presets the edge serves best
// (GeoDNS answers their clients with it before looking at countries), saved with the rest of
// the edge as it is (PUT /v1/edges/NAME); the API's problems beside their fields, nothing
// saved when there are any.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, edgeBody, type ApiProblem } from '../../api/client.js';
import type { EdgeWithToken } from '../../api/types.js';
import { ErrorNotice, Section } from '../../components/display.js';
import { problemsOf } from '../../components/form.js';
import {
  NetworksFields,
  networksForm,
  networksValue,
  type NetworksForm,
} from '../../components/NetworksFields.js';

export function EdgeNetworks(props: { edge: EdgeWithToken; onSaved: () => void }) {
  const { t } = useTranslation();
  const { edge } = props;
  const [form, setForm] = useState<NetworksForm>(() => networksForm(edge.networks));
  const [problems, setProblems] = useState<ApiProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<number | null>(null);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    const body: Record<string, unknown> = { ...edgeBody(edge) };
    delete body.networks;
    const networks = networksValue(form);
    if (Object.keys(networks).length > 0) body.networks = networks;
    try {
      const r = await api<{ revision: number }>(
        'PUT',
        `/v1/edges/${encodeURIComponent(edge.name)}`,
        body,
      );
      setProblems([]);
      setSaved(r.revision);
      props.onSaved();
    } catch (err) {
      const found = problemsOf(err);
      if (found) setProblems(found);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title={t('networks.title')}>
      <form onSubmit={(e) => void save(e)} data-testid="edge-networks" noValidate>
        <p className="muted">{t('networks.intro')}</p>
        <NetworksFields value={form} onChange={setForm} path="networks" problems={problems} />
        <ErrorNotice error={error} />
        <div className="actions">
          <button type="submit" disabled={busy} data-testid="save-networks">
            {busy ? t('networks.saving') : t('networks.save')}
          </button>
          {saved !== null ? (
            <span role="status" data-testid="networks-saved">
              {t('networks.saved', { revision: saved })}
            </span>
          ) : null}
        </div>
      </form>
    </Section>
  );
}
