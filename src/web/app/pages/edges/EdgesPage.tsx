// Edges: the list with actions (pause/resume, rotate and revoke the token, remove), and the
// "Add edge" form, which shows the new edge's token and join command once.
import { useState } from 'react';
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
  const { status } = useLive();
  const edges = useApi(listEdges, [status?.revision]);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ title: string; token: string; join: string } | null>(null);
  return (
    <div className="page" data-testid="edges">
      <div className="page-head">
        <h1>Edges</h1>
        {!adding ? (
          <button type="button" onClick={() => setAdding(true)} data-testid="add-edge">
            Add edge
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
              title: `Edge ${a.edge.name} added`,
              token: a.token,
              join: a.join_command,
            });
            edges.reload();
          }}
        />
      ) : null}
      <ErrorNotice error={edges.error} />
      {edges.data && edges.data.edges.length === 0 && !adding ? (
        <p className="muted">No edges yet.</p>
      ) : null}
      {edges.data && edges.data.edges.length > 0 ? (
        <table className="table card" data-testid="edges-table">
          <TableHead
            columns={['Edge', 'Addresses', 'Tags', 'State', 'Health', 'Release', 'Actions']}
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
                    <Badge value={s?.state ?? 'never-seen'} title={s?.error ?? undefined} />
                  </td>
                  <td>
                    <HealthBadge health={s?.health} />
                  </td>
                  <td>{s ? formatRelease(s.applied_release, s.desired_release) : '–'}</td>
                  <td>
                    <EdgeActions
                      edge={e}
                      onChanged={edges.reload}
                      onToken={(t) =>
                        setSecret({
                          title: `New token for ${t.name}`,
                          token: t.token,
                          join: t.join_command,
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
