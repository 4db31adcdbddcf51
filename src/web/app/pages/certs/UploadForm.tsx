// Upload a certificate chain and its key (PEM) for a site, instead of ACME.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiProblem } from '../../api/client.js';
import { ErrorNotice, Section } from '../../components/display.js';
import { Field, problemsOf } from '../../components/form.js';
import { certificatePath as path } from './paths.js';

export function UploadForm(props: { domains: string[]; onDone: () => void }) {
  const { t } = useTranslation();
  const [domain, setDomain] = useState('');
  const [cert, setCert] = useState('');
  const [key, setKey] = useState('');
  const [problems, setProblems] = useState<ApiProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    try {
      await api('PUT', path(domain.trim()), { certificate: cert, key });
      setProblems([]);
      setDone(t('certs.upload.done', { domain: domain.trim() }));
      setCert('');
      setKey('');
      props.onDone();
    } catch (err) {
      const found = problemsOf(err);
      if (found) setProblems(found);
      else setError(err);
    }
  };
  const readFile = (set: (v: string) => void) => (file: File | undefined) => {
    if (file) void file.text().then(set);
  };
  return (
    <Section title={t('certs.upload.title')}>
      <form onSubmit={(e) => void submit(e)} data-testid="cert-upload" noValidate>
        <div className="grid">
          <Field
            label={t('certs.col.site')}
            path="domain"
            value={domain}
            onChange={setDomain}
            problems={problems}
            hint={
              props.domains.length
                ? t('certs.upload.sites', { sites: props.domains.join(', ') })
                : undefined
            }
          />
        </div>
        <Field
          label={t('certs.upload.chain')}
          path="certificate"
          value={cert}
          onChange={setCert}
          problems={problems}
          multiline
        />
        <input
          type="file"
          aria-label={t('certs.upload.chainFile')}
          accept=".pem,.crt"
          onChange={(e) => readFile(setCert)(e.target.files?.[0])}
        />
        <Field
          label={t('certs.upload.key')}
          path="key"
          value={key}
          onChange={setKey}
          problems={problems}
          multiline
        />
        <input
          type="file"
          aria-label={t('certs.upload.keyFile')}
          accept=".pem,.key"
          onChange={(e) => readFile(setKey)(e.target.files?.[0])}
        />
        <ErrorNotice error={error} />
        {done ? (
          <p className="ok-notice" role="status">
            {done}
          </p>
        ) : null}
        <div className="actions">
          <button
            type="submit"
            disabled={!domain.trim() || !cert || !key}
            data-testid="upload-cert"
          >
            {t('certs.upload.submit')}
          </button>
        </div>
      </form>
    </Section>
  );
}
