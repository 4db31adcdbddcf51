// After a token rotation the agent still holds the old token: `outpost status` says "token
// rejected" with the time. An agent whose --server is not a control plane says so in one
// sentence, and `outpost agent status` on the edge shows it from the state dir.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readAdminEnv,
  runCli,
  startControlPlane,
  startOutpost,
  tempDir,
  type Running,
} from '../support/processes.js';

describe('refused edge tokens and unreachable control planes are shown', () => {
  const data = tempDir('token-refused');
  let server: Running;
  let url = '';
  let env: Record<string, string> = {};
  let agent: Running | undefined;

  beforeAll(async () => {
    const cp = await startControlPlane(data.path, { args: ['--nginx-check', 'off'] });
    ({ server, url } = cp);
    env = await readAdminEnv(cp);
  });
  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    data.remove();
  });

  it('a request naming the edge with its old token makes status say "token rejected" and when', async () => {
    const add = await runCli(['edge', 'add', 'rot1', '--ipv4', '192.0.2.20'], env);
    expect(add.code, add.stderr).toBe(0);
    const old = /\n {2}(ope_\S+)\n/.exec(add.stdout)?.[1] ?? '';
    expect(old).not.toBe('');
    // The old token works, then the rotation kills it.
    const hello = await fetch(`${url}/v1/edge/hello`, {
      headers: { authorization: `Bearer ${old}`, 'x-outpost-edge': 'rot1' },
    });
    expect(hello.status).toBe(200);
    expect((await runCli(['edge', 'rotate-token', 'rot1'], env)).code).toBe(0);
    const before = Date.now();
    // What the agent does on its next poll: the old token, its edge's name in the header.
    const refused = await fetch(`${url}/v1/edge/poll?wait=0`, {
      headers: { authorization: `Bearer ${old}`, 'x-outpost-edge': 'rot1' },
    });
    expect(refused.status).toBe(401);
    // A name that is no edge is not recorded.
    await fetch(`${url}/v1/edge/poll?wait=0`, {
      headers: { authorization: `Bearer ${old}`, 'x-outpost-edge': 'nosuchedge' },
    });

    const json = await runCli(['status', '--json'], env);
    const edges = (
      JSON.parse(json.stdout) as {
        edges: { name: string; state: string; token_rejected_at: string | null }[];
      }
    ).edges;
    const e = edges.find((x) => x.name === 'rot1');
    expect(e?.state).toBe('error');
    expect(Date.parse(e?.token_rejected_at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(edges.map((x) => x.name)).not.toContain('nosuchedge');
    const text = await runCli(['status'], env);
    expect(text.stdout).toMatch(/rot1 .*error.*token rejected at \d{4}-\d\d-\d\dT/);
  });

  it('an agent pointed at a URL that is not a control plane says so; agent status shows it', async () => {
    chmodSync(data.path, 0o755); // nginx workers (www-data) must reach the agent's root
    const root = join(data.path, 'agent-root');
    const tokenFile = join(data.path, 'edge-token');
    writeFileSync(tokenFile, `ope_${'a'.repeat(43)}\n`, { mode: 0o600 });
    const wrong = `${url}/not-the-api/`;
    agent = startOutpost([
      'agent',
      '--server',
      wrong,
      '--token-file',
      tokenFile,
      '--root',
      root,
      '--log-level',
      'warn',
    ]);
    await agent.waitFor(/is not an Outpost control plane's URL/, 30_000);
    const st = await runCli(['agent', 'status', '--root', root]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain('Edge: not joined yet');
    expect(st.stdout).toMatch(
      /Control plane: .*not-the-api\/? is not an Outpost control plane's URL: it answered HTTP \d+.*\(since \d{4}-/,
    );
    const asJson = JSON.parse(
      (await runCli(['agent', 'status', '--root', root, '--json'])).stdout,
    ) as {
      control_plane: { reachable: boolean };
    };
    expect(asJson.control_plane.reachable).toBe(false);
    // A state dir where no agent ran is an error, not an empty answer.
    const none = await runCli(['agent', 'status', '--root', join(data.path, 'never')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no agent state in');
  }, 60_000);
});
