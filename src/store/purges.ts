// Purge jobs and each edge's progress on them.
import { PurgeJob, type PurgeResult } from '../spec/index.js';
import type { Connection } from './connection.js';
import { StoreDataError } from './errors.js';
import { checkStored, parseJson } from './parse.js';
import { insertEvent } from './settings.js';
import type { NewAuditEvent, PurgeQueries, StoredPurge } from './types.js';

export function purgeQueries(c: Connection): PurgeQueries {
  const q: PurgeQueries = {
    async createPurge(
      job: Omit<PurgeJob, 'id'>,
      edges: string[],
      event: NewAuditEvent,
    ): Promise<StoredPurge> {
      const at = c.now().toISOString();
      const id = await c.transaction(async (trx) => {
        const row = await trx
          .insertInto('purges')
          .values({ site: job.site, job: JSON.stringify(job), created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        for (const edge of edges) {
          await trx
            .insertInto('purge_edges')
            .values({
              purge_id: row.id,
              edge,
              state: 'pending',
              removed: 0,
              error: null,
              updated_at: at,
            })
            .execute();
        }
        await insertEvent(trx, at, { ...event, detail: { ...event.detail, purge: row.id, edges } });
        return row.id;
      });
      const stored = await q.getPurge(id);
      if (!stored) throw new StoreDataError(`purge ${id} vanished`);
      return stored;
    },

    async getPurge(id: number): Promise<StoredPurge | undefined> {
      const row = await c.db
        .selectFrom('purges')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const edges = await c.db
        .selectFrom('purge_edges')
        .select(['edge', 'state', 'removed', 'error', 'updated_at'])
        .where('purge_id', '=', id)
        .orderBy('edge')
        .execute();
      return {
        job: purgeJobOf(row.id, row.job),
        edges: edges.map((e) => ({
          ...e,
          state: e.state as StoredPurge['edges'][number]['state'],
        })),
      };
    },

    async pendingPurges(edge: string): Promise<PurgeJob[]> {
      const rows = await c.db
        .selectFrom('purge_edges as e')
        .innerJoin('purges as p', 'p.id', 'e.purge_id')
        .select(['p.id', 'p.job'])
        .where('e.edge', '=', edge)
        .where('e.state', '=', 'pending')
        .orderBy('p.id')
        .execute();
      return rows.map((r) => purgeJobOf(r.id, r.job));
    },

    async recordPurgeResult(edge: string, result: PurgeResult): Promise<boolean> {
      const r = await c.db
        .updateTable('purge_edges')
        .set({
          state: result.ok ? 'done' : 'failed',
          removed: result.removed,
          error: result.error,
          updated_at: c.now().toISOString(),
        })
        .where('purge_id', '=', result.id)
        .where('edge', '=', edge)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
  return q;
}

/** The row holds the job without its id (the row's key); errors name the purge and the field. */
function purgeJobOf(id: number, text: string): PurgeJob {
  const what = `purge ${id}`;
  const job = parseJson(text, what);
  if (job === null || typeof job !== 'object' || Array.isArray(job))
    throw new StoreDataError(`the stored ${what} is not a JSON object`);
  return checkStored(PurgeJob, { ...job, id }, what);
}
