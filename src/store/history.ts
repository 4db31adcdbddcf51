// History queries: the per-edge and per-site points (1-minute and 1-hour rows), and the
// incidents. Points merge in a transaction (read, add, write) so a late sample joins its minute.
import type { Kysely, Transaction } from 'kysely';
import {
  emptyEdgePoint,
  emptySitePoint,
  mergeEdgePoint,
  mergeSitePoint,
  type EdgePoint,
  type Resolution,
  type SitePoint,
} from '../spec/index.js';
import type { Connection } from './connection.js';
import type { Database, EdgeHistoryTable, SiteHistoryTable } from './schema.js';
import type { HistoryQueries, HistoryRange, IncidentKind, StoredIncident } from './types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per INSERT: 22 columns x 400 stays far below SQLite's 32766 variables. */
const BATCH = 400;

function edgeRow(p: EdgePoint, res: Resolution): EdgeHistoryTable {
  return {
    edge: p.edge,
    res,
    t: p.t,
    up: p.up,
    down: p.down,
    latency_ms: p.latency_ms,
    latency_n: p.latency_n,
    requests: p.requests,
    bytes: p.bytes,
    hits: p.hits,
    lookups: p.lookups,
    res_n: p.res_n,
    cpu: p.cpu,
    load1: p.load1,
    mem_used: p.mem_used,
    mem_total: p.mem_total,
    disk_used: p.disk_used,
    disk_total: p.disk_total,
    rx_bps: p.rx_bps,
    tx_bps: p.tx_bps,
    conns: p.conns,
  };
}

function edgePoint(r: EdgeHistoryTable): EdgePoint {
  return {
    ...emptyEdgePoint(r.edge, r.t),
    up: r.up,
    down: r.down,
    latency_ms: r.latency_ms,
    latency_n: r.latency_n,
    requests: r.requests,
    bytes: r.bytes,
    hits: r.hits,
    lookups: r.lookups,
    res_n: r.res_n,
    cpu: r.cpu,
    load1: r.load1,
    mem_used: r.mem_used,
    mem_total: r.mem_total,
    disk_used: r.disk_used,
    disk_total: r.disk_total,
    rx_bps: r.rx_bps,
    tx_bps: r.tx_bps,
    conns: r.conns,
  };
}

function siteRow(p: SitePoint, res: Resolution): SiteHistoryTable {
  return {
    site: p.site,
    res,
    t: p.t,
    up: p.up,
    down: p.down,
    latency_ms: p.latency_ms,
    latency_n: p.latency_n,
    requests: p.requests,
    bytes: p.bytes,
    s2xx: p.status['2xx'],
    s3xx: p.status['3xx'],
    s4xx: p.status['4xx'],
    s5xx: p.status['5xx'],
    c_hit: p.cache.HIT,
    c_miss: p.cache.MISS,
    c_expired: p.cache.EXPIRED,
    c_stale: p.cache.STALE,
    c_updating: p.cache.UPDATING,
    c_revalidated: p.cache.REVALIDATED,
    c_bypass: p.cache.BYPASS,
    c_edge: p.cache.EDGE,
  };
}

function sitePoint(r: SiteHistoryTable): SitePoint {
  return {
    site: r.site,
    t: r.t,
    up: r.up,
    down: r.down,
    latency_ms: r.latency_ms,
    latency_n: r.latency_n,
    requests: r.requests,
    bytes: r.bytes,
    status: { '2xx': r.s2xx, '3xx': r.s3xx, '4xx': r.s4xx, '5xx': r.s5xx },
    cache: {
      HIT: r.c_hit,
      MISS: r.c_miss,
      EXPIRED: r.c_expired,
      STALE: r.c_stale,
      UPDATING: r.c_updating,
      REVALIDATED: r.c_revalidated,
      BYPASS: r.c_bypass,
      EDGE: r.c_edge,
    },
  };
}

const EDGE_UPDATE = [
  'up',
  'down',
  'latency_ms',
  'latency_n',
  'requests',
  'bytes',
  'hits',
  'lookups',
  'res_n',
  'cpu',
  'load1',
  'mem_used',
  'mem_total',
  'disk_used',
  'disk_total',
  'rx_bps',
  'tx_bps',
  'conns',
] as const;
const SITE_UPDATE = [
  'up',
  'down',
  'latency_ms',
  'latency_n',
  'requests',
  'bytes',
  's2xx',
  's3xx',
  's4xx',
  's5xx',
  'c_hit',
  'c_miss',
  'c_expired',
  'c_stale',
  'c_updating',
  'c_revalidated',
  'c_bypass',
  'c_edge',
] as const;

async function putRows(
  db: Db,
  res: Resolution,
  edges: readonly EdgePoint[],
  sites: readonly SitePoint[],
): Promise<void> {
  for (let i = 0; i < edges.length; i += BATCH) {
    await db
      .insertInto('edge_history')
      .values(edges.slice(i, i + BATCH).map((p) => edgeRow(p, res)))
      .onConflict((oc) =>
        oc
          .columns(['edge', 'res', 't'])
          .doUpdateSet((eb) =>
            Object.fromEntries(EDGE_UPDATE.map((k) => [k, eb.ref(`excluded.${k}`)])),
          ),
      )
      .execute();
  }
  for (let i = 0; i < sites.length; i += BATCH) {
    await db
      .insertInto('site_history')
      .values(sites.slice(i, i + BATCH).map((p) => siteRow(p, res)))
      .onConflict((oc) =>
        oc
          .columns(['site', 'res', 't'])
          .doUpdateSet((eb) =>
            Object.fromEntries(SITE_UPDATE.map((k) => [k, eb.ref(`excluded.${k}`)])),
          ),
      )
      .execute();
  }
}

export function historyQueries(c: Connection): HistoryQueries {
  return {
    async addHistory(res, edges, sites) {
      if (edges.length === 0 && sites.length === 0) return;
      await c.transaction(async (trx) => {
        const mergedEdges: EdgePoint[] = [];
        for (const p of edges) {
          const row = await trx
            .selectFrom('edge_history')
            .selectAll()
            .where('edge', '=', p.edge)
            .where('res', '=', res)
            .where('t', '=', p.t)
            .executeTakeFirst();
          mergedEdges.push(mergeEdgePoint(row ? edgePoint(row) : emptyEdgePoint(p.edge, p.t), p));
        }
        const mergedSites: SitePoint[] = [];
        for (const p of sites) {
          const row = await trx
            .selectFrom('site_history')
            .selectAll()
            .where('site', '=', p.site)
            .where('res', '=', res)
            .where('t', '=', p.t)
            .executeTakeFirst();
          mergedSites.push(mergeSitePoint(row ? sitePoint(row) : emptySitePoint(p.site, p.t), p));
        }
        await putRows(trx, res, mergedEdges, mergedSites);
      });
    },

    async putHistory(res, edges, sites) {
      if (edges.length === 0 && sites.length === 0) return;
      await c.transaction((trx) => putRows(trx, res, edges, sites));
    },

    async readEdgeHistory(q: HistoryRange & { edge?: string }) {
      let query = c.db
        .selectFrom('edge_history')
        .selectAll()
        .where('res', '=', q.resolution)
        .where('t', '>=', q.from)
        .where('t', '<', q.to);
      if (q.edge !== undefined) query = query.where('edge', '=', q.edge);
      const rows = await query.orderBy('edge').orderBy('t').execute();
      return rows.map(edgePoint);
    },

    async readSiteHistory(q: HistoryRange & { site?: string }) {
      let query = c.db
        .selectFrom('site_history')
        .selectAll()
        .where('res', '=', q.resolution)
        .where('t', '>=', q.from)
        .where('t', '<', q.to);
      if (q.site !== undefined) query = query.where('site', '=', q.site);
      const rows = await query.orderBy('site').orderBy('t').execute();
      return rows.map(sitePoint);
    },

    async latestHistoryBucket(res) {
      const [e, s] = await Promise.all([
        c.db
          .selectFrom('edge_history')
          .select((eb) => eb.fn.max('t').as('t'))
          .where('res', '=', res)
          .executeTakeFirst(),
        c.db
          .selectFrom('site_history')
          .select((eb) => eb.fn.max('t').as('t'))
          .where('res', '=', res)
          .executeTakeFirst(),
      ]);
      const ts = [e?.t, s?.t].filter((t): t is number => typeof t === 'number');
      return ts.length === 0 ? undefined : Math.max(...ts);
    },

    async pruneHistory(res, before) {
      return c.transaction(async (trx) => {
        const a = await trx
          .deleteFrom('edge_history')
          .where('res', '=', res)
          .where('t', '<', before)
          .executeTakeFirst();
        const b = await trx
          .deleteFrom('site_history')
          .where('res', '=', res)
          .where('t', '<', before)
          .executeTakeFirst();
        return Number(a.numDeletedRows) + Number(b.numDeletedRows);
      });
    },

    async openIncident(kind: IncidentKind, subject: string, at: string, message: string) {
      return c.transaction(async (trx) => {
        const open = await trx
          .selectFrom('incidents')
          .selectAll()
          .where('kind', '=', kind)
          .where('subject', '=', subject)
          .where('ended_at', 'is', null)
          .executeTakeFirst();
        if (open) return incident(open);
        const row = await trx
          .insertInto('incidents')
          .values({ kind, subject, started_at: at, ended_at: null, message })
          .returningAll()
          .executeTakeFirstOrThrow();
        return incident(row);
      });
    },

    async closeIncident(kind: IncidentKind, subject: string, at: string) {
      const r = await c.db
        .updateTable('incidents')
        .set({ ended_at: at })
        .where('kind', '=', kind)
        .where('subject', '=', subject)
        .where('ended_at', 'is', null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async listIncidents(q: { since: string; kind?: IncidentKind; subject?: string }) {
      let query = c.db
        .selectFrom('incidents')
        .selectAll()
        .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>=', q.since)]));
      if (q.kind !== undefined) query = query.where('kind', '=', q.kind);
      if (q.subject !== undefined) query = query.where('subject', '=', q.subject);
      const rows = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(incident);
    },

    async pruneIncidents(before: string) {
      const r = await c.db
        .deleteFrom('incidents')
        .where('ended_at', 'is not', null)
        .where('ended_at', '<', before)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

function incident(r: {
  id: number;
  kind: string;
  subject: string;
  started_at: string;
  ended_at: string | null;
  message: string;
}): StoredIncident {
  return {
    id: r.id,
    kind: r.kind === 'site' ? 'site' : 'edge',
    subject: r.subject,
    started_at: r.started_at,
    ended_at: r.ended_at,
    message: r.message,
  };
}
