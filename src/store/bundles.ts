// Release bundles as stored: the signed manifest (body) is opaque here; the newest `keep` per
// edge stay. File contents are stored once by SHA-256 (release_files) and swept by the builder
// when no kept manifest names them.
import type { Connection } from './connection.js';
import type { BundleQueries, StoredBundle } from './types.js';

/** Rows per statement (SQLite allows 32,766 parameters; four columns a row). */
const CHUNK = 500;

export function bundleQueries(c: Connection): BundleQueries {
  return {
    async saveBundle(bundle: Omit<StoredBundle, 'created_at'>, keep = 10): Promise<StoredBundle> {
      const [row] = await saveAll(c, [bundle], keep);
      return row!;
    },

    async saveBundles(bundles, keep = 10) {
      return saveAll(c, bundles, keep);
    },

    async latestBundles(): Promise<StoredBundle[]> {
      return c.db
        .selectFrom('bundles as b')
        .selectAll()
        .where('b.release', '=', (eb) =>
          eb
            .selectFrom('bundles as l')
            .select((x) => x.fn.max('l.release').as('m'))
            .whereRef('l.edge', '=', 'b.edge'),
        )
        .orderBy('b.edge')
        .execute();
    },

    async keptBundles(): Promise<StoredBundle[]> {
      return c.db.selectFrom('bundles').selectAll().orderBy('edge').orderBy('release').execute();
    },

    async putReleaseFiles(files) {
      if (files.length === 0) return;
      const at = c.now().toISOString();
      await c.transaction(async (trx) => {
        for (let i = 0; i < files.length; i += CHUNK)
          await trx
            .insertInto('release_files')
            .values(
              files.slice(i, i + CHUNK).map((f) => ({
                sha256: f.sha256,
                content: f.content,
                size: f.content.length,
                created_at: at,
              })),
            )
            .onConflict((oc) => oc.column('sha256').doNothing())
            .execute();
      });
    },

    async releaseFiles(hashes) {
      const out = new Map<string, Buffer>();
      const unique = [...new Set(hashes)];
      for (let i = 0; i < unique.length; i += CHUNK) {
        const rows = await c.db
          .selectFrom('release_files')
          .select(['sha256', 'content'])
          .where('sha256', 'in', unique.slice(i, i + CHUNK))
          .execute();
        for (const r of rows) out.set(r.sha256, Buffer.from(r.content));
      }
      return out;
    },

    async pruneReleaseFiles(keep) {
      const rows = await c.db.selectFrom('release_files').select('sha256').execute();
      const gone = rows.map((r) => r.sha256).filter((h) => !keep.has(h));
      for (let i = 0; i < gone.length; i += CHUNK)
        await c.db
          .deleteFrom('release_files')
          .where('sha256', 'in', gone.slice(i, i + CHUNK))
          .execute();
      return gone.length;
    },

    async releaseFilesBytes() {
      const row = await c.db
        .selectFrom('release_files')
        .select((x) => x.fn.sum<number>('size').as('bytes'))
        .executeTakeFirst();
      return Number(row?.bytes ?? 0);
    },

    async latestBundle(edgeName: string): Promise<StoredBundle | undefined> {
      return c.db
        .selectFrom('bundles')
        .selectAll()
        .where('edge', '=', edgeName)
        .orderBy('release', 'desc')
        .limit(1)
        .executeTakeFirst();
    },
  };
}

/** Several edges' new releases in one transaction (a build publishes them together). */
async function saveAll(
  c: Connection,
  bundles: readonly Omit<StoredBundle, 'created_at'>[],
  keep: number,
): Promise<StoredBundle[]> {
  const at = c.now().toISOString();
  const rows: StoredBundle[] = bundles.map((b) => ({ ...b, created_at: at }));
  if (rows.length === 0) return rows;
  await c.transaction(async (trx) => {
    // Seven columns a row: well under SQLite's parameter limit per statement.
    for (let i = 0; i < rows.length; i += CHUNK)
      await trx
        .insertInto('bundles')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    for (const b of rows)
      await trx
        .deleteFrom('bundles')
        .where('edge', '=', b.edge)
        .where('release', '<=', b.release - keep)
        .execute();
  });
  return rows;
}
