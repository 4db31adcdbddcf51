// History: per edge and per site, one row of numbers per bucket (1 minute or 1 hour; the `res`
// column holds its width in seconds), and the incidents the status page lists. Rows are keyed
// by (subject, res, t); SQLite keeps them WITHOUT ROWID (the key is the table), which halves
// the file against a rowid table plus its key index. Numbers are `bigint` (times in Unix
// seconds and byte counts outgrow PostgreSQL's 4-byte integer; SQLite gives it INTEGER affinity). No index by time: pruning (once an hour)
// scans the table, which costs less than an index as large as the key on every row.
import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import { autoIncrementId, type AnyDb, type SqlFlavor } from './dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = CreateTableBuilder<any, any>;

const counts = (t: Table): Table =>
  t
    .addColumn('res', 'bigint', (c) => c.notNull())
    .addColumn('t', 'bigint', (c) => c.notNull())
    .addColumn('up', 'bigint', (c) => c.notNull())
    .addColumn('down', 'bigint', (c) => c.notNull())
    .addColumn('latency_ms', 'real')
    .addColumn('latency_n', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull());

export function history(flavor: SqlFlavor): Migration {
  const end = (t: Table): Table => (flavor === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t);
  return {
    async up(db: AnyDb) {
      let edges = counts(
        db.schema.createTable('edge_history').addColumn('edge', 'text', (c) => c.notNull()),
      )
        .addColumn('hits', 'bigint', (c) => c.notNull())
        .addColumn('lookups', 'bigint', (c) => c.notNull())
        .addColumn('res_n', 'bigint', (c) => c.notNull());
      for (const g of ['cpu', 'load1', 'mem_used', 'mem_total', 'disk_used', 'disk_total'])
        edges = edges.addColumn(g, 'real');
      for (const g of ['rx_bps', 'tx_bps', 'conns']) edges = edges.addColumn(g, 'real');
      await end(edges.addPrimaryKeyConstraint('edge_history_pk', ['edge', 'res', 't'])).execute();

      let sites = counts(
        db.schema.createTable('site_history').addColumn('site', 'text', (c) => c.notNull()),
      );
      for (const k of ['s2xx', 's3xx', 's4xx', 's5xx'])
        sites = sites.addColumn(k, 'bigint', (c) => c.notNull());
      for (const k of ['hit', 'miss', 'expired', 'stale', 'updating', 'revalidated', 'bypass'])
        sites = sites.addColumn(`c_${k}`, 'bigint', (c) => c.notNull());
      sites = sites.addColumn('c_edge', 'bigint', (c) => c.notNull());
      await end(sites.addPrimaryKeyConstraint('site_history_pk', ['site', 'res', 't'])).execute();
      await db.schema
        .createTable('incidents')
        .addColumn('id', 'integer', autoIncrementId(flavor))
        /** edge | site */
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('incidents_started')
        .on('incidents')
        .columns(['started_at'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('incidents').execute();
      await db.schema.dropTable('site_history').execute();
      await db.schema.dropTable('edge_history').execute();
    },
  };
}
