// Plain SVG charts (no chart library, no inline script or style: the strict CSP holds): a line
// chart of one or more series over time, a range picker, and 90-day uptime bars.
import { useTranslation } from 'react-i18next';
import type { HistoryRange } from '../api/types.js';

export interface ChartSeries {
  label: string;
  /** CSS class of the line (colours live in styles.css). */
  className: string;
  values: (number | null)[];
}

const RANGES: HistoryRange[] = ['1h', '24h', '7d', '90d'];

export function RangePicker(props: { value: HistoryRange; onChange: (r: HistoryRange) => void }) {
  const { t } = useTranslation();
  return (
    <div
      className="range-picker"
      role="group"
      aria-label={t('charts.range')}
      data-testid="range-picker"
    >
      {RANGES.map((r) => (
        <button
          key={r}
          type="button"
          className={r === props.value ? 'active' : ''}
          aria-pressed={r === props.value}
          onClick={() => props.onChange(r)}
          data-testid={`range-${r}`}
        >
          {r}
        </button>
      ))}
    </div>
  );
}

/**
 * A line per series over the same times; null values break the line. `max` fixes the top (a
 * capacity line is drawn at `limit` when given).
 */
export function LineChart(props: {
  title: string;
  times: string[];
  series: ChartSeries[];
  format: (v: number) => string;
  max?: number;
  limit?: { value: number; label: string };
  testid?: string;
}) {
  const { t } = useTranslation();
  const w = 560;
  const h = 140;
  const pad = { l: 56, r: 8, t: 8, b: 18 };
  const n = props.times.length;
  const all = props.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = Math.max(props.max ?? 0, props.limit?.value ?? 0, ...all, 0) || 1;
  const x = (i: number) => pad.l + (n > 1 ? (i / (n - 1)) * (w - pad.l - pad.r) : 0);
  const y = (v: number) => pad.t + (1 - v / top) * (h - pad.t - pad.b);
  const paths = props.series.map((s) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return { s, d };
  });
  const points = all.length;
  const first = props.times[0];
  const last = props.times[n - 1];
  return (
    <figure className="chart" data-testid={props.testid} data-points={points} data-buckets={n}>
      <figcaption>
        {props.title}
        {props.series.map((s) => (
          <span key={s.label} className={`legend ${s.className}`}>
            {s.label}
          </span>
        ))}
      </figcaption>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={t('charts.values', {
          title: props.title,
          count: points,
          from: first ?? '–',
          to: last ?? '–',
        })}
      >
        <line x1={pad.l} y1={y(0)} x2={w - pad.r} y2={y(0)} className="chart-axis" />
        <line x1={pad.l} y1={y(top)} x2={w - pad.r} y2={y(top)} className="chart-grid" />
        <text x={pad.l - 4} y={y(top) + 4} className="chart-label" textAnchor="end">
          {props.format(top)}
        </text>
        <text x={pad.l - 4} y={y(0)} className="chart-label" textAnchor="end">
          0
        </text>
        {props.limit ? (
          <>
            <line
              x1={pad.l}
              y1={y(props.limit.value)}
              x2={w - pad.r}
              y2={y(props.limit.value)}
              className="chart-limit"
              data-testid={props.testid ? `${props.testid}-limit` : undefined}
            />
            <text
              x={w - pad.r}
              y={y(props.limit.value) - 3}
              className="chart-label"
              textAnchor="end"
            >
              {props.limit.label}
            </text>
          </>
        ) : null}
        {paths.map(({ s, d }) => (
          <path key={s.label} d={d} className={`chart-line ${s.className}`} />
        ))}
        {first ? (
          <text x={pad.l} y={h - 4} className="chart-label">
            {shortTime(first)}
          </text>
        ) : null}
        {last ? (
          <text x={w - pad.r} y={h - 4} className="chart-label" textAnchor="end">
            {shortTime(last)}
          </text>
        ) : null}
      </svg>
    </figure>
  );
}

function shortTime(iso: string): string {
  const d = new Date(iso);
  return `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 16)}`;
}

/** 90 bars, one a day: green all up, amber some down, red mostly down, grey no data. */
export function UptimeBars(props: {
  days: { date: string; up_ratio: number | null }[];
  testid?: string;
}) {
  const { t } = useTranslation();
  const bw = 6;
  const gap = 2;
  const h = 28;
  const tone = (r: number | null) =>
    r === null ? 'none' : r >= 0.999 ? 'up' : r >= 0.9 ? 'degraded' : 'down';
  return (
    <svg
      className="uptime-bars"
      viewBox={`0 0 ${props.days.length * (bw + gap)} ${h}`}
      role="img"
      aria-label={t('charts.uptimeDays', { count: props.days.length })}
      data-testid={props.testid}
    >
      {props.days.map((d, i) => (
        <rect
          key={d.date}
          x={i * (bw + gap)}
          y={0}
          width={bw}
          height={h}
          rx={1}
          className={`bar ${tone(d.up_ratio)}`}
          data-date={d.date}
          data-tone={tone(d.up_ratio)}
        >
          <title>
            {d.date}:{' '}
            {d.up_ratio === null
              ? t('charts.noData')
              : t('charts.upPercent', { percent: (d.up_ratio * 100).toFixed(2) })}
          </title>
        </rect>
      ))}
    </svg>
  );
}
