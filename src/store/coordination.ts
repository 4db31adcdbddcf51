// Control planes sharing one PostgreSQL database: announcements through LISTEN/NOTIFY on one
// channel, and the leader chosen by a session advisory lock.
//
// Decisions:
// - One dedicated connection LISTENs; if it drops, it reconnects (1 s, doubling to 10 s) and
//   delivers 'state', 'bundles' and 'purges' announcements, since it may have missed some. The slow
//   re-check in server/cluster.ts covers what a notification could still miss. A missed
//   'revocations' is not re-delivered: nothing can say which edge it named, and every edge
//   answer checks its token again when it is sent (the held poll ends at its --wait).
// - The leader lock is `pg_try_advisory_lock` on a second dedicated connection: PostgreSQL
//   holds it for that session only, so a leader killed with -9 loses it as soon as its socket
//   closes, and the next `tryLead` of another control plane gets it. A lost connection means
//   lost leadership (tryLead answers false until it holds the lock again).
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ChangeTopic, Coordination } from './types.js';

export const CHANGES_CHANNEL = 'outpost_changes';
/** The advisory lock key of the leader ("OUTL"; the write lock is "OUTP"). */
export const LEADER_LOCK_KEY = 0x4f55544c;
const TOPICS: readonly ChangeTopic[] = [
  'state',
  'bundles',
  'purges',
  'revocations',
  'logs',
  'log-answers',
];

export function postgresCoordination(url: string, pool: pg.Pool): Coordination {
  const instance = randomUUID();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closed = false;
  let listener: pg.Client | undefined;
  let leader: pg.Client | undefined;
  let leading = false;
  let retryMs = 1000;
  let everConnected = false;

  const deliver = (topic: ChangeTopic, detail?: string) => events.emit('topic', topic, detail);

  const listen = async (): Promise<void> => {
    if (closed) return;
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    client.on('end', () => {
      if (listener === client) listener = undefined;
      if (!closed) setTimeout(() => void listen().catch(() => undefined), retryMs).unref();
    });
    client.on('notification', (msg) => {
      const [from, topic, detail] = (msg.payload ?? '').split(' ');
      if (from === instance) return;
      if (TOPICS.includes(topic as ChangeTopic)) deliver(topic as ChangeTopic, detail);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      listener = client;
      retryMs = 1000;
      const reconnected = everConnected;
      everConnected = true;
      if (reconnected) {
        deliver('state');
        deliver('bundles');
        deliver('purges');
      }
    } catch {
      retryMs = Math.min(retryMs * 2, 10_000);
      await client.end().catch(() => undefined);
    }
  };
  void listen();

  return {
    instance,
    async announce(topic, detail) {
      const payload = `${instance} ${topic}${detail !== undefined ? ` ${detail}` : ''}`;
      await pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, payload]);
    },
    onAnnounce(fn) {
      events.on('topic', fn);
      return () => events.off('topic', fn);
    },
    async tryLead() {
      if (closed) return false;
      if (leader === undefined) {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => undefined);
        client.on('end', () => {
          if (leader === client) {
            leader = undefined;
            leading = false;
          }
        });
        try {
          await client.connect();
        } catch {
          await client.end().catch(() => undefined);
          return false;
        }
        leader = client;
      }
      if (leading) {
        // Still connected: the session, hence the lock, is still ours.
        try {
          await leader.query('SELECT 1');
          return true;
        } catch {
          leading = false;
          return false;
        }
      }
      try {
        const r = await leader.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
          LEADER_LOCK_KEY,
        ]);
        leading = r.rows[0]?.ok === true;
      } catch {
        leading = false;
      }
      return leading;
    },
    async close() {
      closed = true;
      leading = false;
      const clients = [listener, leader];
      listener = undefined;
      leader = undefined;
      for (const c of clients) await c?.end().catch(() => undefined);
    },
  };
}
