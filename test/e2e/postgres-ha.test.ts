// Two control planes (`outpost serve --database postgres://…`, real processes) on one real
// PostgreSQL: an edge's long-poll held by A is answered with the release of a change made
// through B (LISTEN/NOTIFY; the leader builds once); kill -9 the leader and the other one takes
// over (it builds the next change). The measured wake-up is printed, not asserted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  readAdminEnv,
  runCli,
  startControlPlane,
  tempDir,
  type ControlPlane,
} from '../support/processes.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

describe('two control planes on one PostgreSQL database', () => {
  const tmp = tempDir('pg-ha');
  let pg: TestPostgres;
  let url = '';
  let a: ControlPlane;
  let b: ControlPlane;
  let admin: Record<string, string> = {};
  let edgeToken = '';
  const sharedKey = () => join(tmp.path, 'shared-secret.key');
  // One name in front of both (docs/high-availability.md): releases carry it (the ACME
  // challenge proxy), so they do not change with the leader.
  let publicUrl = '';
  const serve = (name: string) =>
    startControlPlane(join(tmp.path, name), {
      args: [
        '--database',
        url,
        '--public-url',
        publicUrl,
        '--nginx-check',
        'off',
        '--secret-key-file',
        sharedKey(),
      ],
    });

  const applyOn = async (cp: ControlPlane, sites: string[]) => {
    const file = join(tmp.path, 'outpost.yaml');
    writeFileSync(
      file,
      `edges:
  - name: e1
    host: {v4: 203.0.113.10}
sites:
${sites.map((d) => `  - domain: ${d}\n    origins: [{host: {v4: 192.0.2.1}}]\n`).join('')}`,
    );
    const r = await runCli(['apply', '-f', file], { ...admin, OUTPOST_SERVER: cp.url });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  /** The edge's bundle from `cp`: a long-poll when `known` is given. */
  const poll = async (cp: ControlPlane, known?: string, wait = 0) => {
    const res = await fetch(`${cp.url}/v1/edge/bundle?wait=${wait}`, {
      headers: {
        authorization: `Bearer ${edgeToken}`,
        ...(known ? { 'if-none-match': `"${known}"` } : {}),
      },
    });
    return {
      status: res.status,
      release: Number(res.headers.get('x-outpost-release') ?? 0),
      hash: (res.headers.get('etag') ?? '').replace(/"/g, ''),
    };
  };

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('outpost_ha');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    a = await serve('a');
    admin = await readAdminEnv(a);
    await a.server.waitFor(/is the leader/);
    b = await serve('b');
  }, 240_000);

  afterAll(async () => {
    await a?.server.stop('SIGKILL');
    await b?.server.stop();
    await pg?.stop();
    tmp.remove();
  });

  it('shares one CDN: B prints no new admin token and only A leads', () => {
    expect(b.server.output()).not.toContain('OUTPOST_TOKEN');
    expect(b.server.output()).not.toMatch(/is the leader/);
  });

  it('a long-poll held by A gets the release of a change made through B', async () => {
    const out = await applyOn(b, ['one.test']);
    edgeToken = /New edge e1: its token, shown once:\n {2}(ope_\S+)/.exec(out)?.[1] ?? '';
    expect(edgeToken).not.toBe('');
    // A built it (the leader), and B serves the same stored bundle.
    let first = await poll(a);
    for (let i = 0; first.status !== 200 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      first = await poll(a);
    }
    expect(first.status).toBe(200);
    expect((await poll(b)).hash).toBe(first.hash);

    let answeredAt = 0;
    const held = poll(a, first.hash, 30).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    await new Promise((r) => setTimeout(r, 500)); // the poll is waiting on A
    await applyOn(b, ['one.test', 'two.test']);
    const appliedAt = Date.now(); // the CLI has exited: the change is committed on B
    const woken = await held;
    expect(woken.status).toBe(200);
    expect(woken.release).toBe(first.release + 1);
    process.stdout.write(
      `postgres-ha: A's long-poll answered ${answeredAt - appliedAt} ms after B's apply command returned (negative: before the CLI process had exited)\n`,
    );
    // Built once: B serves the very release A's poll got.
    expect((await poll(b)).hash).toBe(woken.hash);
  }, 240_000);

  it('kill -9 the leader: the other takes over and builds the next change', async () => {
    const before = await poll(b);
    await a.server.stop('SIGKILL');
    const killedAt = Date.now();
    await b.server.waitFor(/is the leader/, 60_000);
    process.stdout.write(`postgres-ha: B led ${Date.now() - killedAt} ms after kill -9 of A\n`);
    await applyOn(b, ['one.test', 'two.test', 'three.test']);
    let after = await poll(b, before.hash, 30);
    for (let i = 0; after.status !== 200 && i < 10; i++) after = await poll(b, before.hash, 30);
    expect(after.status).toBe(200);
    expect(after.release).toBe(before.release + 1);
  }, 240_000);
});
