// Form parts shared by the pages: fields, checkboxes and selects that show the API's problems
// beside the field whose path they name, and the list of every problem above a form.
import { useId, type ReactNode, type Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, type ApiProblem } from '../api/client.js';
import { problemText } from '../i18n/messages.js';

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
  useTranslation(); // shown again in a new language
  if (props.problems.length === 0) return null;
  return (
    <div className="problems" role="alert" data-testid="problems" ref={props.ref} tabIndex={-1}>
      {props.heading ? <strong>{props.heading}</strong> : null}
      <ul>
        {props.problems.map((p, i) => (
          <li key={i}>
            <code>{p.path}</code>: {problemText(p)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function FieldProblems(props: { problems: ApiProblem[]; path: string; exact?: boolean }) {
  useTranslation(); // shown again in a new language
  const mine = problemsAt(props.problems, props.path, props.exact);
  if (mine.length === 0) return null;
  return (
    <ul className="field-problems" data-testid={`problem-${props.path}`} role="alert">
      {mine.map((p, i) => (
        <li key={i}>
          {p.path !== props.path ? <code>{p.path}</code> : null} {problemText(p)}
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
  /** What each option reads as, when not its value (the value is what the API takes). */
  labels?: Partial<Record<T, string>>;
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
            {props.labels?.[o] ?? o}
          </option>
        ))}
      </select>
      {props.path && props.problems ? (
        <FieldProblems problems={props.problems} path={props.path} />
      ) : null}
    </div>
  );
}
