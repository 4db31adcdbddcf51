// kill -9 of a control plane in the middle of a large apply (a thousand sites, one transaction):
// afterwards the database holds all of it or nothing of it (revision, sites, audit events),
// and the CDN carries on. The middle is real: the test-only OUTPOST_TEST_HOLD_STATE_WRITE_MS
// holds the write transaction open after every row is written, before the commit, and the
// control plane is killed there.
// - PostgreSQL: two control planes; A is killed; B keeps serving and applies the same change.
// - SQLite: one control plane, killed, started again on the same data dir.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import {
  readAdminEnv,
  runCli,
  startControlPlane,
  tempDir,
  type ControlPlane,
} from '../support/processes.js';

const HOLD = { OUTPOST_TEST_HOLD_STATE_WRITE_MS: '120000' };
const SITES = 1000;

/** A spec with one edge and `n` sites (documentation addresses: nothing is contacted). */
function specYaml(n: number): string {
  const sites = Array.from(
    { length: n },
    (_, i) => `  - domain: s${i}.atomic.test\n    origins: [{host: {v4: 192.0.2.1}}]\n`,
  );
  return `edges:\n  - name: e1\n    host: {v4: 203.0.113.10}\nsites:\n${sites.join('')}`;
}

/** What the database holds, read with SQL by each test (not through a control plane). */
interface Held {
  revision: number;
  sites: number;
  applies: number;
}

async function applyFile(
  dir: string,
  n: number,
  env: Record<string, string>,
): Promise<Awaited<ReturnType<typeof runCli>>> {
  const file = join(dir, `spec-${n}.yaml`);
  writeFileSync(file, specYaml(n));
  return runCli(['apply', '-f', file], env);
}

/** Starts the large apply on `cp`, waits until its transaction is held open, kills cp with -9. */
async function killInTheMiddle(dir: string, cp: ControlPlane, env: Record<string, string>) {
  const applying = applyFile(dir, SITES, { ...env, OUTPOST_SERVER: cp.url });
  await cp.server.waitFor(/test hook: holding the desired-state write open/, 120_000);
  await cp.server.stop('SIGKILL');
  const cli = await applying;
  expect(cli.code, 'the apply cannot have succeeded').not.toBe(0);
  return cli;
}

describe('kill -9 in the middle of an apply: all or nothing', () => {
  describe('on PostgreSQL, with a second control plane', () => {
    const tmp = tempDir('atomic-pg');
    let pg: TestPostgres;
    let url = '';
    let a: ControlPlane;
    let b: ControlPlane;
    let admin: Record<string, string> = {};
    const serve = (name: string, env: Record<string, string> = {}) =>
      startControlPlane(join(tmp.path, name), {
        args: [
          '--database',
          url,
          '--nginx-check',
          'off',
          '--secret-key-file',
          join(tmp.path, 'shared-secret.key'),
        ],
        env,
        startTimeoutMs: 90_000,
      });
    const held = async (): Promise<Held> => {
      const [state] = await pg.query<{ revision: number }>(
        'outpost_atomic',
        'SELECT revision FROM state',
      );
      const [sites] = await pg.query<{ n: string }>(
        'outpost_atomic',
        'SELECT count(*) AS n FROM sites',
      );
      const [events] = await pg.query<{ n: string }>(
        'outpost_atomic',
        "SELECT count(*) AS n FROM events WHERE action = 'spec.apply'",
      );
      return {
        revision: Number(state?.revision),
        sites: Number(sites?.n),
        applies: Number(events?.n),
      };
    };

    beforeAll(async () => {
      pg = await startPostgres();
      url = await pg.createDatabase('outpost_atomic');
      a = await serve('a', HOLD);
      admin = await readAdminEnv(a);
      b = await serve('b');
    }, 240_000);

    afterAll(async () => {
      await a?.server.stop('SIGKILL');
      await b?.server.stop();
      await pg?.stop();
      tmp.remove();
    });

    it('nothing of the killed apply is in the database; B carries on and applies it whole', async () => {
      const small = await applyFile(tmp.path, 1, { ...admin, OUTPOST_SERVER: b.url });
      expect(small.code, small.stderr).toBe(0);
      const before = await held();
      expect(before).toEqual({ revision: 1, sites: 1, applies: 1 });

      await killInTheMiddle(tmp.path, a, admin);
      expect(await held()).toEqual(before);
      // B answers from the same database, and its own view agrees.
      const state = await fetch(`${b.url}/v1/state`, {
        headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
      });
      expect(state.status).toBe(200);
      const body = (await state.json()) as { revision: number; spec: { sites: unknown[] } };
      expect(body.revision).toBe(1);
      expect(body.spec.sites).toHaveLength(1);

      // The killed transaction's write lock went with its session: B writes at once.
      const whole = await applyFile(tmp.path, SITES, { ...admin, OUTPOST_SERVER: b.url });
      expect(whole.code, whole.stderr).toBe(0);
      expect(await held()).toEqual({ revision: 2, sites: SITES, applies: 2 });
    }, 300_000);
  });

  describe('on SQLite, started again on the same data dir', () => {
    const tmp = tempDir('atomic-sqlite');
    const dataDir = join(tmp.path, 'data');
    let cp: ControlPlane;
    let admin: Record<string, string> = {};
    const serve = (env: Record<string, string> = {}) =>
      startControlPlane(dataDir, {
        args: ['--nginx-check', 'off', '--secret-key-file', join(tmp.path, 'secret.key')],
        env,
        startTimeoutMs: 90_000,
      });
    /** Read with the control plane stopped or running (SQLite readers do not block it). */
    const held = (): Held => {
      const db = new Database(join(dataDir, 'outpost.db'), { readonly: true });
      try {
        const row = (sql: string) => db.prepare(sql).get() as Record<string, number>;
        return {
          revision: Number(row('SELECT revision FROM state').revision),
          sites: Number(row('SELECT count(*) AS n FROM sites').n),
          applies: Number(row("SELECT count(*) AS n FROM events WHERE action = 'spec.apply'").n),
        };
      } finally {
        db.close();
      }
    };

    beforeAll(async () => {
      // First without the hook, for the starting state; then again with it.
      cp = await serve();
      admin = await readAdminEnv(cp);
      const small = await applyFile(tmp.path, 1, { ...admin, OUTPOST_SERVER: cp.url });
      expect(small.code, small.stderr).toBe(0);
      await cp.server.stop();
      cp = await serve(HOLD);
    }, 240_000);

    afterAll(async () => {
      await cp?.server.stop();
      tmp.remove();
    });

    it('nothing of the killed apply survives the restart; the same apply then goes in whole', async () => {
      const before = held();
      expect(before).toEqual({ revision: 1, sites: 1, applies: 1 });

      await killInTheMiddle(tmp.path, cp, admin);
      expect(held()).toEqual(before);
      // Started again on the same data dir (the dead process's lock is stale), without the hook.
      cp = await serve();
      expect(held()).toEqual(before);
      const whole = await applyFile(tmp.path, SITES, { ...admin, OUTPOST_SERVER: cp.url });
      expect(whole.code, whole.stderr).toBe(0);
      expect(held()).toEqual({ revision: 2, sites: SITES, applies: 2 });
    }, 300_000);
  });
});
