// Edges and several control planes (docs/high-availability.md), all real processes: two
// `outpost serve` on one real PostgreSQL, an edge (real nginx, real agent) given both URLs.
// - A purge accepted by A reaches edges long-polling B at once (NOTIFY), once per edge.
// - `outpost logs` asked on B reaches the edge polling A; the lines come back to B.
// - kill -9 the control plane the edge talks to: it moves to the other within seconds, applies
//   a change made there, and `outpost status` names the survivor.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPurgeJob } from '../../src/bundle/index.js';
import { PurgeStatus, type EdgeStatus } from '../../src/spec/index.js';
import { NGINX } from '../support/cdn.js';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import {
  freePort,
  readAdminEnv,
  runCli,
  startControlPlane,
  startOutpost,
  tempDir,
  type ControlPlane,
  type Running,
} from '../support/processes.js';

const EDGE_ADDRESS = '127.0.19.2';
const HOST = 'shop.test';

describe('edges with several control-plane URLs', () => {
  const tmp = tempDir('ha-edges');
  let pg: TestPostgres;
  let url = '';
  let a: ControlPlane;
  let b: ControlPlane;
  let agent: Running | undefined;
  let origin: TestOrigin;
  let admin: Record<string, string> = {};
  let edgePort = 0;
  let publicUrl = '';
  const tokens: Record<string, string> = {};
  const sharedKey = () => join(tmp.path, 'shared-secret.key');
  const ports: Record<string, number> = {};
  const serve = (name: 'a' | 'b') =>
    startControlPlane(join(tmp.path, name), {
      port: ports[name] as number,
      args: [
        // The join command gives new edges both, A first.
        '--join-servers',
        `http://127.0.0.1:${ports.a},http://127.0.0.1:${ports.b}`,
        '--database',
        url,
        '--public-url',
        publicUrl,
        '--nginx-check',
        'off',
        '--secret-key-file',
        sharedKey(),
      ],
      startTimeoutMs: 90_000,
    });

  /** e1 is the real edge; e2 and e3 are edges whose polls the test makes itself. */
  const applyOn = async (cp: ControlPlane, extraSites: string[] = []) => {
    const file = join(tmp.path, 'outpost.yaml');
    const site = (d: string) =>
      `  - domain: ${d}\n    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]\n`;
    writeFileSync(
      file,
      `edges:
  - name: e1
    host: {v4: ${EDGE_ADDRESS}}
    listen: {addresses: [${EDGE_ADDRESS}], http: ${edgePort}, https: ${edgePort + 1}}
  - name: e2
    host: {v4: 203.0.113.12}
  - name: e3
    host: {v4: 203.0.113.13}
sites:
${[HOST, ...extraSites].map(site).join('')}`,
    );
    const r = await runCli(['apply', '-f', file], { ...admin, OUTPOST_SERVER: cp.url });
    expect(r.code, r.stderr).toBe(0);
    for (const e of ['e1', 'e2', 'e3']) {
      const token = new RegExp(`New edge ${e}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        r.stdout,
      )?.[1];
      if (token) tokens[e] = token;
    }
  };

  const statusOf = async (cp: ControlPlane): Promise<EdgeStatus[]> => {
    const res = await fetch(`${cp.url}/v1/status`, {
      headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
    });
    return ((await res.json()) as { edges: EdgeStatus[] }).edges;
  };

  /** The edge API as an agent calls it, with edge `e`'s token. */
  const edgeCall = (cp: ControlPlane, e: string, path: string, init: RequestInit = {}) =>
    fetch(`${cp.url}/${path}`, {
      ...init,
      headers: {
        ...init.headers,
        authorization: `Bearer ${tokens[e]}`,
        'content-type': 'application/json',
      },
    });

  /** A long-poll of edge `e` on `cp` that knows its bundle: answered by a purge or a change. */
  const heldPoll = async (cp: ControlPlane, e: string, waitSeconds: number) => {
    const first = await edgeCall(cp, e, 'v1/edge/poll?wait=0');
    const etag = first.headers.get('etag') ?? '';
    await first.body?.cancel();
    const started = Date.now();
    const res = await edgeCall(cp, e, `v1/edge/poll?wait=${waitSeconds}`, {
      headers: { 'if-none-match': etag },
    });
    const body =
      res.status === 200
        ? ((await res.json()) as { bundle: unknown; purges: unknown[] })
        : undefined;
    return { status: res.status, body, ms: Date.now() - started, at: Date.now() };
  };

  beforeAll(async () => {
    chmodSync(tmp.path, 0o755); // nginx workers (www-data) must reach the edge's root
    origin = await startOrigin({});
    pg = await startPostgres();
    url = await pg.createDatabase('outpost_ha_edges');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    edgePort = await freePort(EDGE_ADDRESS);
    ports.a = await freePort();
    ports.b = await freePort();
    a = await serve('a');
    admin = await readAdminEnv(a);
    await a.server.waitFor(/is the leader/, 60_000);
    b = await serve('b');
    await applyOn(a);
    writeFileSync(join(tmp.path, 'token-e1'), `${tokens.e1}\n`, { mode: 0o600 });
    agent = startOutpost([
      'agent',
      '--control-plane',
      a.url,
      '--control-plane',
      b.url,
      '--token-file',
      join(tmp.path, 'token-e1'),
      '--root',
      join(tmp.path, 'edge-e1'),
      '--report-interval',
      '1',
      '--log-level',
      'info',
    ]);
    await eventually('e1 to apply its release through A', async () => {
      const e1 = (await statusOf(b)).find((e) => e.name === 'e1');
      return e1?.applied_release !== null && e1?.applied_release === e1?.desired_release
        ? e1
        : undefined;
    });
  }, 300_000);

  afterAll(async () => {
    await agent?.stop();
    // The agent leaves nginx serving by design.
    const root = join(tmp.path, 'edge-e1');
    try {
      execFileSync(
        NGINX,
        ['-p', `${root}/`, '-c', join(root, 'live', 'nginx.conf'), '-s', 'quit'],
        {
          stdio: 'pipe',
        },
      );
    } catch {
      /* not running */
    }
    await a?.server.stop('SIGKILL');
    await b?.server.stop();
    await pg?.stop();
    await origin?.close();
    tmp.remove();
  });

  it('the edge talks to its first URL, A, and both control planes say so', async () => {
    for (const cp of [a, b]) {
      const e1 = await eventually('a report naming A', async () =>
        (await statusOf(cp)).find((e) => e.name === 'e1' && e.control_plane !== null),
      );
      expect(e1.control_plane).toBe(a.url);
    }
    const cli = await runCli(['status'], { ...admin, OUTPOST_SERVER: b.url });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`CONTROL PLANE e1: ${a.url}`);
    // The table keeps ERROR as its last column.
    expect(cli.stdout).toMatch(/EDGE\s+STATE\s+RELEASE\s+LAST SEEN\s+ERROR\n/);
    // A new edge's join command (from either control plane) gives it both URLs, A first.
    const add = await runCli(['edge', 'add', 'e4', '--ipv4', '203.0.113.14'], {
      ...admin,
      OUTPOST_SERVER: b.url,
    });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain(
      `curl -fsSL ${a.url}/install.sh | sudo bash -s -- --server ${a.url},${b.url} --name e4`,
    );
  });

  it('a purge accepted by A wakes the long-polls B holds, and each edge gets it once', async () => {
    // e2 and e3 long-poll B (their bundles known, so only a purge or a change answers early).
    const wait = 60;
    const polls = [heldPoll(b, 'e2', wait), heldPoll(b, 'e3', wait)];
    await new Promise((r) => setTimeout(r, 700)); // both are held by B
    const created = await fetch(`${a.url}/v1/sites/${HOST}/purge`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin.OUTPOST_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ kind: 'prefix', prefix: '/' }),
    });
    expect(created.status).toBe(202);
    const createdAt = Date.now();
    const id = PurgeStatus.parse(await created.json()).job.id;
    const hello = (await (await edgeCall(b, 'e2', 'v1/edge/hello')).json()) as {
      public_key: string;
    };
    const publicKey = hello.public_key;
    const answers = await Promise.all(polls);
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, `e${i + 2}`).toBe(200);
      expect(answer.body?.bundle).toBeNull();
      // Signed for that edge with the one key (B signs what A accepted).
      const e = `e${i + 2}`;
      expect(answer.body?.purges.map((p) => verifyPurgeJob(p, publicKey, e).id)).toEqual([id]);
      // Woken by the announcement, not by the end of its wait (which also reads the purges).
      expect(answer.ms).toBeLessThan(wait * 1000 - 5000);
      process.stdout.write(
        `ha-edges: e${i + 2}'s long-poll on B got the purge ${answer.at - createdAt} ms after A accepted it\n`,
      );
    }
    // e2 confirms on B, e3 on A: either control plane records it, for everyone.
    for (const [e, cp] of [
      ['e2', b],
      ['e3', a],
    ] as const) {
      const r = await edgeCall(cp, e, 'v1/edge/purges', {
        method: 'POST',
        body: JSON.stringify({ results: [{ id, ok: true, removed: 0, error: null }] }),
      });
      expect(r.status).toBe(204);
    }
    // e1 (the real agent, on A) ran it too; then nothing is pending anywhere.
    // e4 (added by the first test) has no agent: its job waits for it.
    const done = await eventually('every running edge to confirm the purge', async () => {
      const res = await fetch(`${b.url}/v1/purges/${id}`, {
        headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
      });
      const s = PurgeStatus.parse(await res.json());
      return s.edges.every((e) => e.state === 'done' || e.edge === 'e4') ? s : undefined;
    });
    expect(done.edges.map((e) => `${e.edge} ${e.state}`).sort()).toEqual([
      'e1 done',
      'e2 done',
      'e3 done',
      'e4 pending',
    ]);
    for (const cp of [a, b])
      for (const e of ['e2', 'e3']) {
        const again = await edgeCall(cp, e, 'v1/edge/poll?wait=0');
        const body = (await again.json()) as { purges: unknown[] };
        expect(body.purges, `${e} on ${cp.url}`).toEqual([]);
      }
    // The agent ran it exactly once.
    const ran = (agent?.output() ?? '')
      .split('\n')
      .filter((l) => l.includes('"msg":"purged"') && l.includes(`[${id},`));
    expect(ran).toHaveLength(1);
  }, 120_000);

  it('outpost logs asked on B gets the lines of the edge polling A (passed on through the database)', async () => {
    // The edge polls A (its first URL); B is asked. Without the announcement B would name e1
    // as not answering.
    const e1 = (await statusOf(b)).find((e) => e.name === 'e1');
    expect(e1?.control_plane).toBe(a.url);
    const sent = await httpGet(`http://${EDGE_ADDRESS}:${edgePort}/ha-logs/one`, { host: HOST });
    expect(sent.status).toBe(200);
    // nginx's workers flush their log lines every second: ask until the line is there.
    const rows = await eventually(
      "the edge's line through B",
      async () => {
        const r = await runCli(['logs', HOST, '--edge', 'e1', '--path', '/ha-logs/', '--json'], {
          ...admin,
          OUTPOST_SERVER: b.url,
        });
        if (r.code !== 0) return undefined;
        const lines = r.stdout
          .trim()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as { edge: string; uri: string; status: number });
        return lines.length > 0 ? { lines, stderr: r.stderr } : undefined;
      },
      60_000,
      500,
    );
    expect(rows.lines.map((l) => [l.edge, l.uri, l.status])).toEqual([['e1', '/ha-logs/one', 200]]);
    expect(rows.stderr).toBe('');
    // Nothing is left in the database once it was passed on.
    expect(await pg.query('outpost_ha_edges', 'select id from log_answers')).toEqual([]);
  }, 120_000);

  it('kill -9 of A: the edge moves to B within seconds, applies a change made there, status names B', async () => {
    const before = (await statusOf(b)).find((e) => e.name === 'e1');
    expect(before?.applied_release).not.toBeNull();
    await a.server.stop('SIGKILL');
    const killedAt = Date.now();
    await agent?.waitFor(
      new RegExp(`now talking to the control plane at ${b.url.replace(/[.]/g, '\\.')}`),
      60_000,
    );
    process.stdout.write(
      `ha-edges: the agent talked to B ${Date.now() - killedAt} ms after kill -9 of A\n`,
    );
    await b.server.waitFor(/is the leader/, 60_000);
    await applyOn(b, ['two.test']);
    const moved = await eventually('e1 to apply the change made on B', async () => {
      const e1 = (await statusOf(b)).find((e) => e.name === 'e1');
      return e1 &&
        e1.desired_release !== null &&
        e1.desired_release > (before?.desired_release ?? 0) &&
        e1.applied_release === e1.desired_release &&
        e1.control_plane === b.url
        ? e1
        : undefined;
    });
    process.stdout.write(
      `ha-edges: release ${moved.applied_release} applied ${Date.now() - killedAt} ms after the kill\n`,
    );
    // The edge serves it: its answers carry the new release.
    const res = await httpGet(`http://${EDGE_ADDRESS}:${edgePort}/x`, { host: 'two.test' });
    expect(res.headers['x-outpost-release']).toBe(String(moved.applied_release));
    const cli = await runCli(['status'], { ...admin, OUTPOST_SERVER: b.url });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`CONTROL PLANE e1: ${b.url}`);
    expect(cli.stdout).toMatch(/\be1\s+ok\s+/);
  }, 180_000);
});
