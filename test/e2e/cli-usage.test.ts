// The CLI as docs/cli.md describes it: login with its own flags, usage errors exit 2, a closed
// pipe ends quietly, edge add says where the edge listens and takes the networks it serves
// (issue 22: --asn, --line; a bad one named by its field). A real control plane on loopback.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETWORK_LINE_NAMES, NETWORK_LINES } from '../../src/spec/network-lines.js';
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

  // ---- issue 22: the edge's networks (--asn, --line) ----
  it('edge add takes --asn and --line; list and show print them; networks replaces them', async () => {
    const add = await runCli(
      [
        'edge',
        'add',
        'net1',
        '--ipv4',
        '192.0.2.20',
        '--asn',
        '4134,AS4809',
        '--line',
        'china-telecom-cn2',
        '--line',
        'china-unicom',
      ],
      env,
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const json = await runCli(['edge', 'list', '--json'], env);
    const edges = JSON.parse(json.stdout) as { name: string; networks?: unknown }[];
    expect(edges.find((e) => e.name === 'net1')?.networks).toEqual({
      asns: [4134, 4809],
      lines: ['china-telecom-cn2', 'china-unicom'],
    });
    const list = await runCli(['edge', 'list'], env);
    expect(list.stdout).toMatch(/^NAME .* NETWORKS /m);
    expect(list.stdout).toMatch(/^net1 .* china-telecom-cn2,china-unicom,AS4134,AS4809 /m);
    const show = await runCli(['edge', 'show', 'net1'], env);
    expect(show.code).toBe(0);
    const unicom = NETWORK_LINES['china-unicom']?.asns.length;
    expect(unicom).toBeGreaterThan(2);
    expect(show.stdout).toContain(
      `networks:   china-telecom-cn2 (2 ASNs), china-unicom (${unicom} ASNs), AS4134, AS4809\n`,
    );
    expect(show.stdout).toContain('ipv4:       192.0.2.20\n');

    const replaced = await runCli(['edge', 'networks', 'net1', '--line', 'china-mobile'], env);
    expect(replaced.stderr).toBe('');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/^Edge net1 serves china-mobile \(\d+ ASNs\) \(revision \d+\)/);
    const after = JSON.parse((await runCli(['edge', 'show', 'net1', '--json'], env)).stdout) as {
      networks?: unknown;
      host: unknown;
    };
    expect(after.networks).toEqual({ lines: ['china-mobile'] });
    expect(after.host).toEqual({ v4: '192.0.2.20' });
    expect((await runCli(['edge', 'networks', 'net1', '--none'], env)).code).toBe(0);
    expect(
      JSON.parse((await runCli(['edge', 'show', 'net1', '--json'], env)).stdout) as object,
    ).not.toHaveProperty('networks');
    const neither = await runCli(['edge', 'networks', 'net1'], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give --asn, --line or --none');
    const missing = await runCli(['edge', 'networks', 'nosuch', '--asn', '4134'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no edge "nosuch"');
  }, 240_000); // 10 CLI runs: each ~10 s when the shared machine is loaded

  it('an unknown line preset is named with the known ones, a bad ASN with its field; nothing is added', async () => {
    const add = (...flags: string[]) =>
      runCli(['edge', 'add', 'net2', '--ipv4', '192.0.2.21', ...flags], env);
    const line = await add('--line', 'china-unicom,china-telecom-cn3');
    expect(line.code).toBe(1);
    expect(line.stderr).toContain('networks.lines[1]');
    expect(line.stderr).toContain(
      `unknown line "china-telecom-cn3"; known lines: ${NETWORK_LINE_NAMES.join(', ')}`,
    );
    const word = await add('--asn', '4134,41x');
    expect(word.code).toBe(1);
    expect(word.stderr).toContain('networks.asns[1]: "41x" (--asn) is not an AS number');
    const zero = await add('--asn', '4134', '--asn', '0');
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('networks.asns[1]');
    const big = await add('--asn', '4294967295');
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('networks.asns[0]');
    expect((await runCli(['edge', 'list', '--json'], env)).stdout).not.toContain('net2');
  }, 120_000);
  // ---- end issue 22 ----
});
