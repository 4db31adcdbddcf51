// Edges: the list with actions (pause/resume, rotate and revoke the token, remove), and the
// "Add edge" form, which shows the new edge's token and join command once.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { maybeMessageText } from '../../i18n/messages.js';
import { listEdges } from '../../api/client.js';
import { useApi } from '../../api/useApi.js';
import { Badge, ErrorNotice, HealthBadge, TableHead } from '../../components/display.js';
import { formatRelease } from '../../components/format.js';
import { useLive } from '../../live/LiveContext.js';
import { Link } from '../../router.js';
import { AddEdgeForm } from './AddEdgeForm.js';
import { EdgeActions } from './EdgeActions.js';
import { TokenOnce } from './TokenOnce.js';

export function EdgesPage() {
  const { t } = useTranslation();
  const { status } = useLive();
  const edges = useApi(listEdges, [status?.revision]);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ title: string; token: string; join: string } | null>(null);
  return (
    <div className="page" data-testid="edges">
      <div className="page-head">
        <h1>{t('edges.title')}</h1>
        {!adding ? (
          <button type="button" onClick={() => setAdding(true)} data-testid="add-edge">
            {t('edges.addEdge')}
          </button>
        ) : null}
      </div>
      {secret ? <TokenOnce {...secret} onDone={() => setSecret(null)} /> : null}
      {adding ? (
        <AddEdgeForm
          onCancel={() => setAdding(false)}
          onCreated={(a) => {
            setAdding(false);
            setSecret({
              title: t('edges.added', { name: a.edge.name }),
              token: a.token,
              join: a.join_command,
            });
            edges.reload();
          }}
        />
      ) : null}
      <ErrorNotice error={edges.error} />
      {edges.data && edges.data.edges.length === 0 && !adding ? (
        <p className="muted">{t('common.noEdgesYet')}</p>
      ) : null}
      {edges.data && edges.data.edges.length > 0 ? (
        <table className="table card" data-testid="edges-table">
          <TableHead
            columns={[
              t('edges.col.edge'),
              t('edges.col.addresses'),
              t('edges.col.tags'),
              t('edges.col.state'),
              t('edges.col.health'),
              t('edges.col.release'),
              t('edges.col.actions'),
            ]}
          />
          <tbody>
            {edges.data.edges.map((e) => {
              const s = status?.edges.find((x) => x.name === e.name);
              return (
                <tr key={e.name} data-testid={`edges-row-${e.name}`}>
                  <th scope="row">
                    <Link href={`/edges/${encodeURIComponent(e.name)}`}>{e.name}</Link>
                  </th>
                  <td>{[e.host.v4, e.host.v6].filter(Boolean).join(', ')}</td>
                  <td>{e.tags.join(', ') || '–'}</td>
                  <td>
                    {e.paused ? (
                      <Badge value="paused" />
                    ) : e.drain ? (
                      <Badge value="drained" />
                    ) : null}{' '}
                    <Badge
                      value={s?.state ?? 'never-seen'}
                      title={(s && maybeMessageText(s.error, s.error_code)) ?? undefined}
                    />
                  </td>
                  <td>
                    <HealthBadge health={s?.health} />
                  </td>
                  <td>{s ? formatRelease(s.applied_release, s.desired_release) : '–'}</td>
                  <td>
                    <EdgeActions
                      edge={e}
                      onChanged={edges.reload}
                      onToken={(tok) =>
                        setSecret({
                          title: t('edges.newToken', { name: tok.name }),
                          token: tok.token,
                          join: tok.join_command,
                        })
                      }
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
