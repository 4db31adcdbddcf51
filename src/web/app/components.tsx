// Small building blocks shared by the pages: form fields that show the API's problems by path,
// badges, a sparkline, a copy button, and the "not available here" notice.
import { useId, useState, type ReactNode, type Ref } from 'react';
import { ApiError, type ApiProblem, type Health, type TrafficPoint } from './api.js';

/** Problems at `path` or below it (`origins[0]` has `origins[0].host.v4`). */
export function problemsAt(problems: ApiProblem[], path: string, exact = false): ApiProblem[] {
  return problems.filter(
    (p) =>
      p.path === path ||
      (!exact && (p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`))),
  );
}

/**
 * The problems an API error names by field, or null when it names none: the list of problems,
 * or the single path the error itself carries.
 */
export function problemsOf(err: unknown): ApiProblem[] | null {
  if (!(err instanceof ApiError)) return null;
  if (err.problems.length > 0) return err.problems;
  if (err.path) return [{ path: err.path, message: err.message }];
  return null;
}

/** Every problem of a form, each with its path, above the form. */
export function ProblemList(props: {
  problems: ApiProblem[];
  heading?: ReactNode;
  ref?: Ref<HTMLDivElement>;
}) {
  if (props.problems.length === 0) return null;
  return (
    <div className="problems" role="alert" data-testid="problems" ref={props.ref} tabIndex={-1}>
      {props.heading ? <strong>{props.heading}</strong> : null}
      <ul>
        {props.problems.map((p, i) => (
          <li key={i}>
            <code>{p.path}</code>: {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function FieldProblems(props: { problems: ApiProblem[]; path: string; exact?: boolean }) {
  const mine = problemsAt(props.problems, props.path, props.exact);
  if (mine.length === 0) return null;
  return (
    <ul className="field-problems" data-testid={`problem-${props.path}`} role="alert">
      {mine.map((p, i) => (
        <li key={i}>
          {p.path !== props.path ? <code>{p.path}</code> : null} {p.message}
        </li>
      ))}
    </ul>
  );
}

interface FieldProps {
  label: string;
  path: string;
  value: string;
  onChange: (v: string) => void;
  problems: ApiProblem[];
  hint?: string;
  type?: string;
  placeholder?: string;
  multiline?: boolean;
  testid?: string;
  required?: boolean;
}

export function Field(props: FieldProps) {
  const id = useId();
  const invalid = problemsAt(props.problems, props.path).length > 0;
  const common = {
    id,
    value: props.value,
    placeholder: props.placeholder,
    'aria-invalid': invalid || undefined,
    'aria-describedby': props.hint ? `${id}-hint` : undefined,
    'data-testid': props.testid ?? `field-${props.path}`,
    required: props.required,
  };
  return (
    <div className={`field${invalid ? ' invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={4} onChange={(e) => props.onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={props.type ?? 'text'}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.hint ? (
        <small id={`${id}-hint`} className="hint">
          {props.hint}
        </small>
      ) : null}
      <FieldProblems problems={props.problems} path={props.path} />
    </div>
  );
}

export function Checkbox(props: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  testid?: string;
}) {
  return (
    <label className="checkbox">
      <input
        type="checkbox"
        checked={props.checked}
        data-testid={props.testid}
        onChange={(e) => props.onChange(e.target.checked)}
      />{' '}
      {props.label}
    </label>
  );
}

export function Select<T extends string>(props: {
  label: string;
  value: T;
  options: readonly T[];
  onChange: (v: T) => void;
  testid?: string;
  path?: string;
  problems?: ApiProblem[];
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        data-testid={props.testid}
        onChange={(e) => props.onChange(e.target.value as T)}
      >
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
      {props.path && props.problems ? (
        <FieldProblems problems={props.problems} path={props.path} />
      ) : null}
    </div>
  );
}

const STATE_TONE: Record<string, string> = {
  ok: 'good',
  up: 'good',
  pending: 'warn',
  degraded: 'warn',
  error: 'bad',
  down: 'bad',
  offline: 'bad',
  'never-seen': 'muted',
  unknown: 'muted',
  paused: 'muted',
};

export function Badge(props: { value: string; testid?: string; title?: string }) {
  return (
    <span
      className={`badge ${STATE_TONE[props.value] ?? 'muted'}`}
      data-testid={props.testid}
      title={props.title}
    >
      {props.value}
    </span>
  );
}

export function HealthBadge(props: {
  health: Health | undefined;
  testid?: string;
  title?: string;
}) {
  return <Badge value={props.health ?? 'unknown'} testid={props.testid} title={props.title} />;
}

/** Requests per minute over the last hour, with the hit ratio as a second line. */
export function Sparkline(props: { series: TrafficPoint[]; label: string; testid?: string }) {
  const w = 120;
  const h = 28;
  const pts = props.series;
  if (pts.length === 0)
    return (
      <svg width={w} height={h} role="img" aria-label={`${props.label}: no traffic yet`}>
        <line x1="0" y1={h - 1} x2={w} y2={h - 1} className="spark-base" />
      </svg>
    );
  const max = Math.max(1, ...pts.map((p) => p.requests));
  const step = pts.length > 1 ? w / (pts.length - 1) : w;
  const y = (v: number) => h - 2 - (v / max) * (h - 4);
  const line = pts.map((p, i) => `${(i * step).toFixed(1)},${y(p.requests).toFixed(1)}`).join(' ');
  const ratio = pts.map((p, i) => {
    const total = p.hits + p.misses;
    const r = total > 0 ? p.hits / total : 0;
    return `${(i * step).toFixed(1)},${(h - 2 - r * (h - 4)).toFixed(1)}`;
  });
  const total = pts.reduce((s, p) => s + p.requests, 0);
  return (
    <svg
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={`${props.label}: ${total} requests in the last ${pts.length} minutes`}
      data-testid={props.testid}
    >
      <polyline points={ratio.join(' ')} className="spark-ratio" />
      <polyline points={line} className="spark-requests" />
    </svg>
  );
}

export function CopyButton(props: { text: string; label?: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
    } catch {
      // Clipboard API refused (not a secure context): fall back to a selection copy.
      const ta = document.createElement('textarea');
      ta.value = props.text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <button
      type="button"
      className="secondary"
      onClick={() => void copy()}
      data-testid={props.testid}
    >
      {copied ? 'Copied' : (props.label ?? 'Copy')}
    </button>
  );
}

/** A table's header row, one column heading each. */
export function TableHead(props: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c, i) => (
          <th key={i} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** "Really do this?" with the dangerous button and Cancel, in place of the button that asked. */
export function Confirm(props: {
  question: string;
  label: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  testid?: string;
  children?: ReactNode;
}) {
  return (
    <span className="confirm" role="group" aria-label={props.question}>
      {props.question}{' '}
      <button
        type="button"
        className="danger"
        disabled={props.busy}
        onClick={props.onConfirm}
        data-testid={props.testid}
      >
        {props.label}
      </button>{' '}
      <button type="button" className="secondary" onClick={props.onCancel}>
        Cancel
      </button>
      {props.children}
    </span>
  );
}

export function NotAvailable(props: { what: string }) {
  return (
    <p className="notice" data-testid="not-available">
      {props.what} is not available on this control plane.
    </p>
  );
}

export function ErrorNotice(props: { error: unknown }) {
  if (!props.error) return null;
  // Name the field the API blamed, when it did, so the message says what to fix where.
  const message =
    props.error instanceof ApiError && props.error.path
      ? `${props.error.path}: ${props.error.message}`
      : props.error instanceof Error
        ? props.error.message
        : JSON.stringify(props.error);
  return (
    <p className="error-notice" role="alert" data-testid="error">
      {message}
    </p>
  );
}

export function Section(props: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      <header className="card-head">
        <h2>{props.title}</h2>
        {props.actions ? <div className="actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'never';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  return `${Math.floor(seconds / 3600)}h ago`;
}

export function formatRelease(applied: number | null, desired: number | null): string {
  return `${applied ?? '–'}/${desired ?? '–'}`;
}
