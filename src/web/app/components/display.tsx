// Display parts shared by the pages: badges, a sparkline, a copy button, table heads, "really?"
// confirmations, notices and sections.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Health, TrafficPoint } from '../api/types.js';
import type { en } from '../i18n/en.js';
import { errorText } from '../i18n/messages.js';

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

/** The words of the states the API reports; a state not listed shows as the API wrote it. */
const STATE_LABEL: Record<string, StateKey> = {
  ok: 'state.ok',
  up: 'state.up',
  pending: 'state.pending',
  degraded: 'state.degraded',
  error: 'state.error',
  down: 'state.down',
  offline: 'state.offline',
  'never-seen': 'state.never-seen',
  unknown: 'state.unknown',
  paused: 'state.paused',
  drained: 'state.drained',
};
type StateKey = `state.${keyof typeof en.state}`;

export function Badge(props: { value: string; testid?: string; title?: string }) {
  const { t } = useTranslation();
  const label = STATE_LABEL[props.value];
  return (
    <span
      className={`badge ${STATE_TONE[props.value] ?? 'muted'}`}
      data-testid={props.testid}
      data-value={props.value}
      title={props.title}
    >
      {label ? t(label) : props.value}
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
  const { t } = useTranslation();
  const w = 120;
  const h = 28;
  const pts = props.series;
  if (pts.length === 0)
    return (
      <svg width={w} height={h} role="img" aria-label={t('spark.none', { label: props.label })}>
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
      aria-label={t('spark.total', { label: props.label, total, minutes: pts.length })}
      data-testid={props.testid}
    >
      <polyline points={ratio.join(' ')} className="spark-ratio" />
      <polyline points={line} className="spark-requests" />
    </svg>
  );
}

export function CopyButton(props: { text: string; label?: string; testid?: string }) {
  const { t } = useTranslation();
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
      {copied ? t('common.copied') : (props.label ?? t('common.copy'))}
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
  const { t } = useTranslation();
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
        {t('common.cancel')}
      </button>
      {props.children}
    </span>
  );
}

export function NotAvailable(props: { what: string }) {
  const { t } = useTranslation();
  return (
    <p className="notice" data-testid="not-available">
      {t('common.notAvailable', { what: props.what })}
    </p>
  );
}

export function ErrorNotice(props: { error: unknown }) {
  useTranslation(); // shown again in a new language
  if (!props.error) return null;
  return (
    <p className="error-notice" role="alert" data-testid="error">
      {errorText(props.error)}
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
