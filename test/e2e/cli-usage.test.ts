// The CLI as docs/cli.md describes it: login with its own flags, usage errors exit 2, a closed
// pipe ends quietly, edge add says where the edge listens. A real control plane on loopback.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  OUTPOST_BIN,
  readAdminEnv,
  ROOT,
  runCli,
  startControlPlane,
  tempDir,
  type Running,
} from '../support/processes.js';

describe('the CLI as documented', () => {
  const data = tempDir('cli-usage');
  let server: Running;
  let env: { OUTPOST_SERVER: string; OUTPOST_TOKEN: string };

  beforeAll(async () => {
    const cp = await startControlPlane(data.path);
    server = cp.server;
    env = await readAdminEnv(cp);
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('login --server URL --token T checks and saves them (0600); a later command uses them', async () => {
    const xdg = { XDG_CONFIG_HOME: join(data.path, 'xdg') };
    const wrong = await runCli(
      ['login', '--server', env.OUTPOST_SERVER, '--token', 'opa_wrong'],
      xdg,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/token/i);

    const r = await runCli(
      ['login', '--server', env.OUTPOST_SERVER, '--token', env.OUTPOST_TOKEN],
      xdg,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${env.OUTPOST_SERVER}`);
    const file = join(data.path, 'xdg', 'outpost', 'cli.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ token: env.OUTPOST_TOKEN });
    const list = await runCli(['site', 'list'], xdg);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('No sites');
  });

  it('usage errors exit 2 with one message; help and --version exit 0', async () => {
    const login = await runCli(['login', '--server', env.OUTPOST_SERVER]);
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('login needs --token TOKEN');
    const unknown = await runCli(['site', 'list', '--no-such-flag'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    const missingArg = await runCli(['edge', 'add'], env);
    expect(missingArg.code).toBe(2);
    const badChoice = await runCli(['edge', 'add', 'x', '--proxy', 'apache'], env);
    expect(badChoice.code).toBe(2);
    expect((await runCli(['--help'])).code).toBe(0);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('piped into a reader that stops early (head, true), a command ends without a stack trace', async () => {
    // `true` exits before the CLI (which takes a moment to start) writes: every write is EPIPE.
    const r = await new Promise<{ code: number | null; stderr: string; stdout: string }>(
      (resolve) => {
        const child = spawn(
          'sh',
          [
            '-c',
            `node ${OUTPOST_BIN} export | true; node ${OUTPOST_BIN} site list | head -c 1 >/dev/null`,
          ],
          { cwd: ROOT, env: { ...cleanEnv(), ...env } },
        );
        let stderr = '';
        let stdout = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.once('close', (code) => resolve({ code, stderr, stdout }));
      },
    );
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('edge add says where the edge listens; list shows it; a bad port names the field', async () => {
    const add = await runCli(
      [
        'edge',
        'add',
        'lis1',
        '--ipv4',
        '192.0.2.10',
        '--listen-address',
        '127.0.0.2',
        '::1',
        '--http-port',
        '8081',
        '--https-port',
        '8443',
      ],
      env,
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const json = await runCli(['edge', 'list', '--json'], env);
    const edges = JSON.parse(json.stdout) as { name: string; listen: unknown }[];
    expect(edges.find((e) => e.name === 'lis1')?.listen).toEqual({
      addresses: ['127.0.0.2', '::1'],
      http: 8081,
      https: 8443,
    });
    const list = await runCli(['edge', 'list'], env);
    expect(list.stdout).toMatch(/lis1 .*127\.0\.0\.2,::1:8081,8443/);

    const bad = await runCli(
      ['edge', 'add', 'lis2', '--ipv4', '192.0.2.11', '--http-port', '0'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('listen.http');
    expect((await runCli(['edge', 'list', '--json'], env)).stdout).not.toContain('lis2');
  });
});
