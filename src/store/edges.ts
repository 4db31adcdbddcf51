// Edges' queries: token hashes (never in an event) and the agents' last reports.
import type { Connection } from './connection.js';
import { insertEvent, parseDetail } from './settings.js';
import type { EdgeQueries, NewAuditEvent, StoredEdgeReport } from './types.js';

export function edgeQueries(c: Connection): EdgeQueries {
  return {
    async setEdgeTokenHash(
      edgeName: string,
      tokenHash: string | null,
      event: NewAuditEvent,
    ): Promise<boolean> {
      return c.transaction(async (trx) => {
        const result = await trx
          .updateTable('edges')
          .set({ token_hash: tokenHash })
          .where('name', '=', edgeName)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },

    async findEdgeByTokenHash(tokenHash: string): Promise<string | undefined> {
      const row = await c.db
        .selectFrom('edges')
        .select('name')
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return row?.name;
    },

    async edgesWithToken(): Promise<Set<string>> {
      const rows = await c.db
        .selectFrom('edges')
        .select('name')
        .where('token_hash', 'is not', null)
        .execute();
      return new Set(rows.map((r) => r.name));
    },

    async edgeHasToken(edgeName: string): Promise<boolean> {
      const row = await c.db
        .selectFrom('edges')
        .select('name')
        .where('name', '=', edgeName)
        .where('token_hash', 'is not', null)
        .executeTakeFirst();
      return row !== undefined;
    },

    async saveEdgeReport(
      edgeName: string,
      report: Record<string, unknown>,
    ): Promise<StoredEdgeReport> {
      const last_seen = c.now().toISOString();
      const text = JSON.stringify(report);
      await c.db
        .insertInto('edge_status')
        .values({ edge: edgeName, report: text, last_seen })
        .onConflict((oc) => oc.column('edge').doUpdateSet({ report: text, last_seen }))
        .execute();
      return { edge: edgeName, report, last_seen };
    },

    async listEdgeReports(): Promise<StoredEdgeReport[]> {
      const rows = await c.db.selectFrom('edge_status').selectAll().orderBy('edge').execute();
      return rows.map((r) => ({
        edge: r.edge,
        report: parseDetail(r.report),
        last_seen: r.last_seen,
      }));
    },
  };
}
