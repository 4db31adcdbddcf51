// Release bundles as stored: the signed body is opaque here; the newest `keep` per edge stay.
import type { Connection } from './connection.js';
import type { BundleQueries, StoredBundle } from './types.js';

export function bundleQueries(c: Connection): BundleQueries {
  return {
    async saveBundle(bundle: Omit<StoredBundle, 'created_at'>, keep = 10): Promise<StoredBundle> {
      const row: StoredBundle = { ...bundle, created_at: c.now().toISOString() };
      await c.transaction(async (trx) => {
        await trx.insertInto('bundles').values(row).execute();
        await trx
          .deleteFrom('bundles')
          .where('edge', '=', bundle.edge)
          .where('release', '<=', bundle.release - keep)
          .execute();
      });
      return row;
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
