// PostgreSQL down while two control planes merge their probes (issues 19 and 14,
// docs/high-availability.md "When PostgreSQL is down"): two `outpost serve` on one real
// PostgreSQL, which the test stops (pg_ctl stop -m fast) and starts again on the same port.
// A real nginx stands where edge e1 is and answers A's probes only (as in ha-probes); e2 has
// nothing listening. While the database is down: both control planes stay up, /healthz
// answers, /v1/status answers 503 `unavailable` (not a 500), the probes keep running (the
// edge's nginx logs A's probes), and each failure is logged once, not once per round. When
// it is back: /v1/status answers again, the merge is whole again (B says e1 is up only
// because A's fresh probes count), and the recovery is logged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeStatus } from '../../src/spec/index.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import { eventually } from '../support/http.js';
import type { TestPostgres } from '../support/postgres.js';
import { startProbeCluster, type ProbeCluster } from '../support/probe-cluster.js';
import { tempDir, type ControlPlane } from '../support/processes.js';

const EDGE_ADDRESS = '127.0.19.40';
const FROM_A = '127.0.19.41';
const FROM_B = '127.0.19.42';
/** How long the database stays down: beyond A's freshness seen by B (~5 s here). */
const OUTAGE_MS = 10_000;

describe('PostgreSQL down while control planes merge their probes', () => {
  const tmp = tempDir('ha-pg-down');
  let cluster: ProbeCluster;
  let pg: TestPostgres;
  let url = '';
  let a: ControlPlane;
  let b: ControlPlane;
  let admin: Record<string, string> = {};
  const accessLog = () => join(tmp.path, 'access.log');

  type Status = { edges: EdgeStatus[] };
  const status = async (cp: ControlPlane) => {
    const res = await fetch(`${cp.url}/v1/status`, {
      headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const healthOf = (s: { body: Record<string, unknown> }, edge: string) =>
    (s.body as unknown as Status).edges?.find((e) => e.name === edge)?.health;
  const probesFromA = () =>
    readFileSync(accessLog(), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${FROM_A} `)).length;
  const count = (cp: ControlPlane, text: string) => cp.server.output().split(text).length - 1;

  beforeAll(async () => {
    cluster = await startProbeCluster({
      dir: tmp.path,
      database: 'outpost_ha_pg_down',
      edgeAddress: EDGE_ADDRESS,
      fromA: FROM_A,
      fromB: FROM_B,
      accessLog: accessLog(),
    });
    ({ pg, url, a, b, admin } = cluster);
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('answers 503 while the database is down, keeps probing, logs each failure once, and merges again when it is back', async () => {
    for (const cp of [a, b])
      await eventually('e1 up and e2 down', async () => {
        const s = await status(cp);
        return healthOf(s, 'e1') === 'up' && healthOf(s, 'e2') === 'down' ? s : undefined;
      });

    await pg.halt();
    const haltedAt = Date.now();
    const probesBefore = probesFromA();
    // A few rounds of probes while the database is down.
    const during: { status: number; code: unknown }[] = [];
    while (Date.now() - haltedAt < OUTAGE_MS) {
      for (const cp of [a, b]) {
        const s = await status(cp);
        during.push({ status: s.status, code: (s.body.error as { code?: unknown })?.code });
        expect((await fetch(`${cp.url}/healthz`)).status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Both control planes are still running.
    expect(a.server.child.exitCode).toBeNull();
    expect(b.server.child.exitCode).toBeNull();
    // Never a 500: 503 `unavailable` (the first answers may still come from before the stop).
    expect(during.filter((d) => d.status !== 200 && d.status !== 503)).toEqual([]);
    expect(during.slice(-2)).toEqual([
      { status: 503, code: 'unavailable' },
      { status: 503, code: 'unavailable' },
    ]);
    // A kept probing e1 (about one probe a second) while nothing could be read or written.
    expect(probesFromA() - probesBefore).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 / 2);
    // Each failing step is logged when it starts failing, not once per round (10 rounds).
    for (const cp of [a, b]) {
      expect(count(cp, 'writing this control plane’s probes failed')).toBeLessThanOrEqual(1);
      expect(count(cp, 'reading the other control planes’ probes failed')).toBeLessThanOrEqual(1);
    }

    await pg.start();
    const startedAt = Date.now();
    // Both answer again, and B says e1 is up: its own probes fail, so only A's fresh
    // observations (written and read again after the outage) make the majority.
    for (const cp of [a, b])
      await eventually(
        'status answering with e1 up and e2 down',
        async () => {
          const s = await status(cp);
          return s.status === 200 && healthOf(s, 'e1') === 'up' && healthOf(s, 'e2') === 'down'
            ? s
            : undefined;
        },
        60_000,
      );
    process.stdout.write(
      `ha-postgres-down: status whole again on both ${Date.now() - startedAt} ms after PostgreSQL started\n`,
    );
    for (const cp of [a, b])
      await cp.server.waitFor(/writing this control plane’s probes works again/, 20_000);
  }, 240_000);

  it('a connection held between two statements whose session the server ends fails its next statement, and the process goes on', async () => {
    // Before: the pool's client emitted 'error' with no listener (an uncaught exception: here
    // vitest fails the run, a control plane exited).
    const { db } = await openPostgresDatabase(url, 2);
    try {
      const held = db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        await pg.query('postgres', 'SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await new Promise((r) => setTimeout(r, 500)); // the termination arrives while idle
        await sql`SELECT 1`.execute(trx);
      });
      await expect(held).rejects.toThrow();
      // The pool dropped the ended connection: the next statement gets a new one.
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
      expect(rows[0]?.one).toBe(1);
    } finally {
      await db.destroy();
    }
  }, 60_000);
});
