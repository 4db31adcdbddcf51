// Several control planes and what used to be per process (issue 19, docs/high-availability.md):
// two `outpost serve` on one real PostgreSQL, all real processes on loopback.
// - Probes: A probes from 127.0.19.31, B from 127.0.19.32 (--probe-source-address); a real
//   nginx stands where edge e1 is and answers as an edge's default server (421, X-CDN-Node)
//   to A's address only (to B it closes the connection, as a network cut off from B would).
//   Both control planes say e1 is up (one of two fresh observers down is no majority) and e2
//   (nothing listens) is down; the alert is raised for e2 only. kill -9 of A: once its
//   heartbeat runs out, B alone decides and e1 is down on B.
// - Revocations: edge e2's long-poll held by B ends with 401 at once when A revokes its token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeStatus } from '../../src/spec/index.js';
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

const EDGE_ADDRESS = '127.0.19.30';
const FROM_A = '127.0.19.31';
const FROM_B = '127.0.19.32';

describe('probes and revocations across control planes', () => {
  const tmp = tempDir('ha-probes');
  let pg: TestPostgres;
  let url = '';
  let a: ControlPlane;
  let b: ControlPlane;
  let nginx: Running;
  let admin: Record<string, string> = {};
  let e1Port = 0;
  let e2Port = 0;
  const tokens: Record<string, string> = {};
  const sharedKey = () => join(tmp.path, 'shared-secret.key');
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
        sharedKey(),
        '--probe-interval',
        '1',
        '--probe-timeout',
        '1',
        '--probe-source-address',
        from,
      ],
      startTimeoutMs: 90_000,
    });

  type Status = { edges: EdgeStatus[]; alerts: { kind: string; subject: string }[] };
  const statusOf = async (cp: ControlPlane): Promise<Status> => {
    const res = await fetch(`${cp.url}/v1/status`, {
      headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
    });
    return (await res.json()) as Status;
  };
  const healthOf = (s: Status, edge: string) => s.edges.find((e) => e.name === edge)?.health;

  beforeAll(async () => {
    e1Port = await freePort(EDGE_ADDRESS);
    e2Port = await freePort(EDGE_ADDRESS); // nothing listens there
    const conf = join(tmp.path, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;
pid ${tmp.path}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
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
    url = await pg.createDatabase('outpost_ha_probes');
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
    for (const e of ['e1', 'e2']) {
      const token = new RegExp(`New edge ${e}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        r.stdout,
      )?.[1];
      if (token) tokens[e] = token;
    }
  }, 300_000);

  afterAll(async () => {
    await a?.server.stop('SIGKILL');
    await b?.server.stop();
    await nginx?.stop();
    await pg?.stop();
    tmp.remove();
  });

  it('the edge only A reaches is up on both control planes; the edge nobody reaches is down on both', async () => {
    for (const [name, cp] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const s = await eventually(`${name}: e1 up and e2 down`, async () => {
        const st = await statusOf(cp);
        return healthOf(st, 'e1') === 'up' && healthOf(st, 'e2') === 'down' ? st : undefined;
      });
      const downAlerts = s.alerts.filter((x) => x.kind === 'edge_down').map((x) => x.subject);
      expect(downAlerts, name).toEqual(['e2']);
    }
    // It stays so over several rounds of probes (B's own probes of e1 fail every second).
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      expect(healthOf(await statusOf(b), 'e1'), `B, round ${i}`).toBe('up');
    }
  }, 120_000);

  it("e2's long-poll held by B ends with 401 as soon as A revokes its token", async () => {
    const edgeCall = (cp: ControlPlane, path: string, headers: Record<string, string> = {}) =>
      fetch(`${cp.url}/${path}`, {
        headers: { ...headers, authorization: `Bearer ${tokens.e2}` },
      });
    const first = await eventually('a bundle for e2 on B', async () => {
      const res = await edgeCall(b, 'v1/edge/poll?wait=0');
      const etag = res.headers.get('etag');
      await res.body?.cancel();
      return res.status === 200 && etag !== null ? etag : undefined;
    });
    const wait = 30;
    const started = Date.now();
    const held = edgeCall(b, `v1/edge/poll?wait=${wait}`, { 'if-none-match': first }).then(
      async (res) => {
        await res.body?.cancel();
        return { status: res.status, at: Date.now() };
      },
    );
    await new Promise((r) => setTimeout(r, 700)); // the poll is held by B
    const revoke = await fetch(`${a.url}/v1/edges/e2/token`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
    });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();
    const answer = await held;
    expect(answer.status).toBe(401);
    // Ended by the announcement, long before its wait (which would also end in 401).
    expect(answer.at - started).toBeLessThan(wait * 1000 - 10_000);
    process.stdout.write(
      `ha-probes: B's held poll ended with 401 ${answer.at - revokedAt} ms after A revoked the token\n`,
    );
  }, 120_000);

  it('kill -9 of A: its probes stop counting once its heartbeat runs out, and B alone says e1 is down', async () => {
    expect(healthOf(await statusOf(b), 'e1')).toBe('up');
    await a.server.stop('SIGKILL');
    const killedAt = Date.now();
    const s = await eventually(
      'B to say e1 is down',
      async () => {
        const st = await statusOf(b);
        return healthOf(st, 'e1') === 'down' ? st : undefined;
      },
      60_000,
    );
    const ms = Date.now() - killedAt;
    process.stdout.write(`ha-probes: e1 down on B ${ms} ms after kill -9 of A\n`);
    // Within A's freshness (2 × (1 s interval + its round) + 1 s timeout) and one round of B.
    expect(ms).toBeLessThan(30_000);
    expect(
      s.alerts
        .filter((x) => x.kind === 'edge_down')
        .map((x) => x.subject)
        .sort(),
    ).toEqual(['e1', 'e2']);
  }, 120_000);
});
