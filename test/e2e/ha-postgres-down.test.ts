// PostgreSQL down while two control planes merge their probes (issues 19 and 14,
// docs/high-availability.md "When PostgreSQL is down"): two `outpost serve` on one real
// PostgreSQL, which the test stops (pg_ctl stop -m fast) and starts again on the same port.
// A real nginx stands where edge e1 is and answers A's probes only (as in ha-probes); e2 has
// nothing listening. While the database is down: both control planes stay up, /healthz
// answers, /v1/status answers 503 `unavailable` (not a 500), the probes keep running (the
// edge's nginx logs A's probes), and each failure is logged once, not once per round. When
// it is back: /v1/status answers again, the merge is whole again (B says e1 is up only
// because A's fresh probes count), and the recovery is logged.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeStatus } from '../../src/spec/index.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import { NGINX } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import {
  freePort,
  readAdminEnv,
  runCli,
  startControlPlane,
  startProcess,
  tempDir,
  type ControlPlane,
  type Running,
} from '../support/processes.js';

const EDGE_ADDRESS = '127.0.19.40';
const FROM_A = '127.0.19.41';
const FROM_B = '127.0.19.42';
/** How long the database stays down: beyond A's freshness seen by B (~5 s here). */
const OUTAGE_MS = 10_000;

describe('PostgreSQL down while control planes merge their probes', () => {
  const tmp = tempDir('ha-pg-down');
  let pg: TestPostgres;
  let url = '';
  let a: ControlPlane;
  let b: ControlPlane;
  let nginx: Running;
  let admin: Record<string, string> = {};
  const accessLog = () => join(tmp.path, 'access.log');
  const serve = (name: string, from: string) =>
    startControlPlane(join(tmp.path, name), {
      args: [
        '--database',
        url,
        '--public-url',
        'http://127.0.0.1:9',
        '--nginx-check',
        'off',
        '--secret-key-file',
        join(tmp.path, 'shared-secret.key'),
        '--probe-interval',
        '1',
        '--probe-timeout',
        '1',
        '--probe-source-address',
        from,
      ],
      startTimeoutMs: 90_000,
    });

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
    const e1Port = await freePort(EDGE_ADDRESS);
    const e2Port = await freePort(EDGE_ADDRESS); // nothing listens there
    const conf = join(tmp.path, 'nginx.conf');
    writeFileSync(accessLog(), '');
    writeFileSync(
      conf,
      `daemon off;
pid ${tmp.path}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  log_format probes '$remote_addr $status';
  access_log ${accessLog()} probes;
  server {
    listen ${EDGE_ADDRESS}:${e1Port} default_server;
    location / {
      # reachable from A only: B's connections are closed without an answer
      if ($remote_addr != "${FROM_A}") { return 444; }
      add_header X-CDN-Node e1 always;
      return 421;
    }
  }
}
`,
    );
    nginx = startProcess(NGINX, ['-p', `${tmp.path}/`, '-c', conf]);
    pg = await startPostgres();
    url = await pg.createDatabase('outpost_ha_pg_down');
    a = await serve('a', FROM_A);
    admin = await readAdminEnv(a);
    await a.server.waitFor(/is the leader/, 60_000);
    b = await serve('b', FROM_B);
    const file = join(tmp.path, 'outpost.yaml');
    writeFileSync(
      file,
      `edges:
  - name: e1
    host: {v4: ${EDGE_ADDRESS}}
    listen: {addresses: [${EDGE_ADDRESS}], http: ${e1Port}, https: ${e1Port + 1}}
  - name: e2
    host: {v4: ${EDGE_ADDRESS}}
    listen: {addresses: [${EDGE_ADDRESS}], http: ${e2Port}, https: ${e2Port + 1}}
sites: []
`,
    );
    const r = await runCli(['apply', '-f', file], { ...admin, OUTPOST_SERVER: a.url });
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await a?.server.stop();
    await b?.server.stop();
    await nginx?.stop();
    await pg?.stop();
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
