// Upload a certificate chain and its key (PEM) for a site, instead of ACME.
import { useState, type FormEvent } from 'react';
import { api, type ApiProblem } from '../../api/client.js';
import { ErrorNotice, Section } from '../../components/display.js';
import { Field, problemsOf } from '../../components/form.js';
import { certificatePath as path } from './paths.js';

export function UploadForm(props: { domains: string[]; onDone: () => void }) {
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
      setDone(
        `Stored a certificate for ${domain.trim()}; its edges get it with their next release.`,
      );
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
    <Section title="Upload a certificate">
      <form onSubmit={(e) => void submit(e)} data-testid="cert-upload" noValidate>
        <div className="grid">
          <Field
            label="Site"
            path="domain"
            value={domain}
            onChange={setDomain}
            problems={problems}
            hint={props.domains.length ? `Sites: ${props.domains.join(', ')}` : undefined}
          />
        </div>
        <Field
          label="Certificate chain (PEM, leaf first)"
          path="certificate"
          value={cert}
          onChange={setCert}
          problems={problems}
          multiline
        />
        <input
          type="file"
          aria-label="Certificate file"
          accept=".pem,.crt"
          onChange={(e) => readFile(setCert)(e.target.files?.[0])}
        />
        <Field
          label="Private key (PEM, unencrypted)"
          path="key"
          value={key}
          onChange={setKey}
          problems={problems}
          multiline
        />
        <input
          type="file"
          aria-label="Key file"
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
            Upload
          </button>
        </div>
      </form>
    </Section>
  );
}
