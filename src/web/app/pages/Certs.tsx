// Certificates: names, issuer, expiry, next renewal and last error; issue now; upload a
// certificate and key (PEM).
import { useState, type FormEvent } from 'react';
import { api, ApiError, listSites, type ApiProblem, type CertInfo } from '../api.js';
import { ErrorNotice, Field, NotAvailable, Section } from '../components.js';
import { useApi } from '../useApi.js';

function certsOf(answer: unknown): CertInfo[] {
  if (Array.isArray(answer)) return answer as CertInfo[];
  if (answer && typeof answer === 'object') {
    const o = answer as { certs?: CertInfo[]; certificates?: CertInfo[] };
    return o.certs ?? o.certificates ?? [];
  }
  return [];
}

const domainOf = (c: CertInfo) => c.domain ?? c.names?.[0] ?? '';

export function CertsPage() {
  const certs = useApi(() => api<unknown>('GET', '/v1/certs'));
  const sites = useApi(listSites);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const issue = async (domain: string) => {
    setBusy(domain);
    setError(null);
    setMessage(null);
    try {
      await api('POST', `/v1/certs/${encodeURIComponent(domain)}/issue`, {});
      setMessage(`Issued a certificate for ${domain}.`);
      certs.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  if (certs.missing)
    return (
      <div className="page" data-testid="certs">
        <h1>Certificates</h1>
        <NotAvailable what="Certificate management" />
      </div>
    );
  const list = certsOf(certs.data);
  const covered = new Set(list.flatMap((c) => [domainOf(c), ...(c.names ?? [])]));
  const uncovered = (sites.data?.sites ?? []).filter((s) => !covered.has(s.domain));
  return (
    <div className="page" data-testid="certs">
      <h1>Certificates</h1>
      <ErrorNotice error={certs.error} />
      <ErrorNotice error={error} />
      {message ? (
        <p className="ok-notice" role="status">
          {message}
        </p>
      ) : null}
      <Section title="Certificates">
        {list.length === 0 && uncovered.length === 0 ? (
          <p className="muted">No certificates.</p>
        ) : (
          <table className="table" data-testid="cert-table">
            <thead>
              <tr>
                <th scope="col">Names</th>
                <th scope="col">Issuer</th>
                <th scope="col">Expires</th>
                <th scope="col">Days left</th>
                <th scope="col">Next renewal</th>
                <th scope="col">Last error</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {list.map((c) => {
                const d = domainOf(c);
                const left = c.days_left ?? null;
                return (
                  <tr key={d} data-testid={`cert-row-${d}`}>
                    <th scope="row">{(c.names ?? [d]).join(', ')}</th>
                    <td>{c.issuer ?? '–'}</td>
                    <td>{c.not_after ? new Date(c.not_after).toLocaleDateString() : '–'}</td>
                    <td>
                      <span
                        className={`badge ${left === null ? 'muted' : left < 7 ? 'bad' : left < 21 ? 'warn' : 'good'}`}
                      >
                        {left ?? '–'}
                      </span>
                    </td>
                    <td>{c.next_renewal ? new Date(c.next_renewal).toLocaleString() : '–'}</td>
                    <td className="reason">{c.last_error ?? ''}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy !== null}
                        onClick={() => void issue(d)}
                        data-testid={`issue-${d}`}
                      >
                        {busy === d ? 'Issuing…' : 'Issue now'}
                      </button>
                    </td>
                  </tr>
                );
              })}
              {uncovered.map((s) => (
                <tr key={s.domain} data-testid={`cert-row-${s.domain}`}>
                  <th scope="row">{s.domain}</th>
                  <td colSpan={5} className="muted">
                    no certificate
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy !== null}
                      onClick={() => void issue(s.domain)}
                      data-testid={`issue-${s.domain}`}
                    >
                      {busy === s.domain ? 'Issuing…' : 'Issue now'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <UploadForm domains={(sites.data?.sites ?? []).map((s) => s.domain)} onDone={certs.reload} />
    </div>
  );
}

function UploadForm(props: { domains: string[]; onDone: () => void }) {
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
      await api('POST', `/v1/certs/${encodeURIComponent(domain.trim())}/upload`, {
        cert_pem: cert,
        key_pem: key,
      });
      setProblems([]);
      setDone(`Uploaded a certificate for ${domain.trim()}.`);
      setCert('');
      setKey('');
      props.onDone();
    } catch (err) {
      if (err instanceof ApiError && err.problems.length > 0) setProblems(err.problems);
      else if (err instanceof ApiError && err.path)
        setProblems([{ path: err.path, message: err.message }]);
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
            label="Domain"
            path="domain"
            value={domain}
            onChange={setDomain}
            problems={problems}
            hint={props.domains.length ? `Sites: ${props.domains.join(', ')}` : undefined}
          />
        </div>
        <Field
          label="Certificate chain (PEM)"
          path="cert_pem"
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
          label="Private key (PEM)"
          path="key_pem"
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
          <button type="submit" disabled={!domain.trim() || !cert || !key}>
            Upload
          </button>
        </div>
      </form>
    </Section>
  );
}
