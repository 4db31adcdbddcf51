// Probe results shared by the control planes on one database (migration 009): each one's
// heartbeat and its state of each target, merged by health/shared-health.ts.
import type { Connection } from './connection.js';
import type { LogAnswerQueries, ProbeObservation, ProbeQueries, ProbeRound } from './types.js';

/** Rows per statement (SQLite's bound-variable limit is far above 5 × this). */
const CHUNK = 400;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export function probeQueries(c: Connection): ProbeQueries {
  return {
    async saveProbeRound(round: ProbeRound): Promise<void> {
      await c.transaction(async (trx) => {
        await trx
          .insertInto('probe_observers')
          .values({
            instance: round.instance,
            observed_at: round.at,
            fresh_until: round.freshUntil,
          })
          .onConflict((oc) =>
            oc
              .column('instance')
              .doUpdateSet({ observed_at: round.at, fresh_until: round.freshUntil }),
          )
          .execute();
        for (const rows of chunks(round.changed)) {
          await trx
            .insertInto('probe_observations')
            .values(
              rows.map((o) => ({
                instance: round.instance,
                target: o.target,
                state: o.state,
                reason: o.reason,
                since: o.since,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['instance', 'target']).doUpdateSet((eb) => ({
                state: eb.ref('excluded.state'),
                reason: eb.ref('excluded.reason'),
                since: eb.ref('excluded.since'),
              })),
            )
            .execute();
        }
        for (const targets of chunks(round.removed)) {
          await trx
            .deleteFrom('probe_observations')
            .where('instance', '=', round.instance)
            .where('target', 'in', targets)
            .execute();
        }
        // Control planes gone long ago (killed, or stopped before they could say so).
        const gone = await trx
          .selectFrom('probe_observers')
          .select('instance')
          .where('fresh_until', '<', round.forgetBefore)
          .execute();
        for (const rows of chunks(gone.map((g) => g.instance))) {
          await trx.deleteFrom('probe_observations').where('instance', 'in', rows).execute();
          await trx.deleteFrom('probe_observers').where('instance', 'in', rows).execute();
        }
      });
    },

    async freshProbeObservations(now: string, except: string) {
      const observers = await c.db
        .selectFrom('probe_observers')
        .select(['instance', 'fresh_until'])
        .where('fresh_until', '>', now)
        .where('instance', '<>', except)
        .orderBy('instance')
        .execute();
      if (observers.length === 0) return [];
      const rows = await c.db
        .selectFrom('probe_observations')
        .select(['instance', 'target', 'state', 'reason', 'since'])
        .where(
          'instance',
          'in',
          observers.map((o) => o.instance),
        )
        .execute();
      const by = new Map<string, ProbeObservation[]>(observers.map((o) => [o.instance, []]));
      for (const r of rows) {
        if (r.state !== 'up' && r.state !== 'down') continue;
        by.get(r.instance)?.push({
          target: r.target,
          state: r.state,
          reason: r.reason,
          since: r.since,
        });
      }
      return observers.map((o) => ({
        instance: o.instance,
        freshUntil: o.fresh_until,
        observations: by.get(o.instance) ?? [],
      }));
    },

    async dropProbeObserver(instance: string): Promise<void> {
      await c.transaction(async (trx) => {
        await trx.deleteFrom('probe_observations').where('instance', '=', instance).execute();
        await trx.deleteFrom('probe_observers').where('instance', '=', instance).execute();
      });
    },
  };
}

/** Log answers passed between control planes (migration 009): short-lived rows. */
export function logAnswerQueries(c: Connection): LogAnswerQueries {
  return {
    async putLogAnswer(a) {
      await c.transaction(async (trx) => {
        await trx.deleteFrom('log_answers').where('created_at', '<', a.forgetBefore).execute();
        await trx
          .insertInto('log_answers')
          .values({ id: a.id, edge: a.edge, answer: a.answer, created_at: a.at })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      });
    },
    async takeLogAnswer(id) {
      return c.transaction(async (trx) => {
        const row = await trx
          .selectFrom('log_answers')
          .select(['edge', 'answer'])
          .where('id', '=', id)
          .executeTakeFirst();
        if (row !== undefined) await trx.deleteFrom('log_answers').where('id', '=', id).execute();
        return row;
      });
    },
  };
}
