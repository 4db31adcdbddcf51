// Several control planes and what used to be per process (issue 19, docs/high-availability.md):
// two `outpost serve` on one real PostgreSQL, all real processes on loopback.
// - Probes: A probes from 127.0.19.31, B from 127.0.19.32 (--probe-source-address); a real
//   nginx stands where edge e1 is and answers as an edge's default server (421, X-CDN-Node)
//   to A's address only (to B it closes the connection, as a network cut off from B would).
//   Both control planes say e1 is up (one of two fresh observers down is no majority) and e2
//   (nothing listens) is down; the alert is raised for e2 only. kill -9 of A: once its
//   heartbeat runs out, B alone decides and e1 is down on B.
// - Revocations: edge e2's long-poll held by B ends with 401 at once when A revokes its token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeStatus } from '../../src/spec/index.js';
import { eventually } from '../support/http.js';
import { startProbeCluster, type ProbeCluster } from '../support/probe-cluster.js';
import { tempDir, type ControlPlane } from '../support/processes.js';

const EDGE_ADDRESS = '127.0.19.30';
const FROM_A = '127.0.19.31';
const FROM_B = '127.0.19.32';

describe('probes and revocations across control planes', () => {
  const tmp = tempDir('ha-probes');
  let cluster: ProbeCluster;
  let a: ControlPlane;
  let b: ControlPlane;
  let admin: Record<string, string> = {};
  let tokens: Record<string, string> = {};

  type Status = { edges: EdgeStatus[]; alerts: { kind: string; subject: string }[] };
  const statusOf = async (cp: ControlPlane): Promise<Status> => {
    const res = await fetch(`${cp.url}/v1/status`, {
      headers: { authorization: `Bearer ${admin.OUTPOST_TOKEN}` },
    });
    return (await res.json()) as Status;
  };
  const healthOf = (s: Status, edge: string) => s.edges.find((e) => e.name === edge)?.health;

  beforeAll(async () => {
    cluster = await startProbeCluster({
      dir: tmp.path,
      database: 'outpost_ha_probes',
      edgeAddress: EDGE_ADDRESS,
      fromA: FROM_A,
      fromB: FROM_B,
    });
    ({ a, b, admin, tokens } = cluster);
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop('SIGKILL');
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
