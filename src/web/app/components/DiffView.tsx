// A dry run's diff: each changed entry and, for updates, each field from → to; plus the
// same text `outpost apply` prints.
import { Trans, useTranslation } from 'react-i18next';
import type { ChangeResult } from '../api/types.js';
import { TableHead } from './display.js';

const show = (v: unknown) => (v === undefined ? '–' : JSON.stringify(v));

export function DiffView(props: { answer: ChangeResult }) {
  const { t } = useTranslation();
  const changes = props.answer.diff.changes;
  if (changes.length === 0)
    return (
      <p className="muted" data-testid="diff-empty">
        {t('diff.none')}
      </p>
    );
  return (
    <div className="diff">
      {changes.map((c) => (
        <div key={`${c.kind}:${c.key}`} className={`diff-entry ${c.op}`} data-testid="diff-entry">
          <div className="diff-title">
            <span className={`op ${c.op}`}>{c.op}</span> {c.kind} <code>{c.key}</code>
          </div>
          {c.fields.length > 0 ? (
            <table className="table compact">
              <TableHead columns={[t('diff.field'), t('diff.from'), t('diff.to')]} />
              <tbody>
                {c.fields.map((f) => (
                  <tr key={f.path}>
                    <td>
                      <code>{f.path}</code>
                    </td>
                    <td className="from">{show(f.from)}</td>
                    <td className="to">{show(f.to)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ))}
      <details>
        <summary>
          <Trans i18nKey="diff.asCli" components={{ code: <code /> }} />
        </summary>
        <pre data-testid="diff-text">{props.answer.text}</pre>
      </details>
    </div>
  );
}
