// The control plane installed as a service would run it: deploy/install-control-plane.sh into a
// prefix, the installed package started from there (dist/, no src/, no tsx) over HTTPS with
// its own certificate, the admin token in a 0600 file, and the one-file agent joining it over
// HTTPS. And a --public-url in plain http:// to another machine is refused at start.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import {
  cleanEnv,
  freePort,
  ROOT,
  runCli,
  startProcess,
  tempDir,
  type Running,
} from '../support/processes.js';
import { AGENT_EXECUTABLE, buildReleaseIfStale } from '../support/release.js';
import { selfSignedCertificate } from '../support/tls.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'deploy', 'install-control-plane.sh');

describe('deploy/install-control-plane.sh and the control plane over HTTPS', () => {
  const dir = tempDir('cp-install');
  const prefix = join(dir.path, 'root');
  const data = join(dir.path, 'data');
  let port = 0;
  let url = '';
  let server: Running | undefined;
  let agent: Running | undefined;
  let tls: { certFile: string; keyFile: string };
  const edgeRoot = join(dir.path, 'edge');

  beforeAll(async () => {
    chmodSync(dir.path, 0o755); // nginx workers (www-data) must reach the edge root: the agent checks
    await buildReleaseIfStale();
    port = await freePort();
    url = `https://127.0.0.1:${port}`;
    tls = selfSignedCertificate(dir.path, ['127.0.0.1', 'localhost']);
  }, 600_000);

  afterAll(async () => {
    await agent?.stop();
    if (existsSync(join(edgeRoot, 'logs', 'nginx.pid')))
      try {
        execFileSync(
          NGINX,
          ['-p', `${edgeRoot}/`, '-c', join(edgeRoot, 'live', 'nginx.conf'), '-s', 'quit'],
          {
            stdio: 'pipe',
          },
        );
      } catch {
        /* not running */
      }
    await server?.stop();
    dir.remove();
  });

  it('is valid bash and refuses a plain http:// public URL', async () => {
    await expect(run('bash', ['-n', SCRIPT])).resolves.toBeDefined();
    const r = await run('bash', [
      SCRIPT,
      '--prefix',
      prefix,
      '--public-url',
      'http://192.0.2.1',
    ]).then(
      () => ({ stderr: '', code: 0 }),
      (e: { stderr: string; code: number }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is plain http://: edges refuse it');
  });

  it('installs the package, the unit, the settings and the key (0640)', async () => {
    const r = await run('bash', [
      SCRIPT,
      '--prefix',
      prefix,
      '--public-url',
      url,
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert',
      tls.certFile,
      '--tls-key',
      tls.keyFile,
    ]);
    expect(r.stdout).toContain('Installing Outpost');
    const app = join(prefix, 'opt', 'outpost');
    expect(existsSync(join(app, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(app, 'dist', `outpost-agent-linux-${process.arch}`))).toBe(true);
    const env = readFileSync(join(prefix, 'etc', 'outpost', 'control-plane.env'), 'utf8');
    expect(env).toContain('OUTPOST_DATA_DIR="/var/lib/outpost"');
    expect(env).toContain(`OUTPOST_PUBLIC_URL="${url}"`);
    expect(env).toContain(
      'OUTPOST_SERVE_ARGS="--tls-cert /etc/outpost/tls/cert.pem --tls-key /etc/outpost/tls/key.pem"',
    );
    expect(statSync(join(prefix, 'etc', 'outpost', 'tls', 'key.pem')).mode & 0o777).toBe(0o640);
    const unit = readFileSync(
      join(prefix, 'etc', 'systemd', 'system', 'outpost-control-plane.service'),
      'utf8',
    );
    expect(unit).toBe(readFileSync(join(ROOT, 'deploy', 'outpost-control-plane.service'), 'utf8'));
    for (const line of [
      'User=outpost',
      'StateDirectoryMode=0700',
      'Restart=on-failure',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
    ])
      expect(unit).toContain(`\n${line}\n`);
  });

  it('the installed package serves HTTPS and writes the admin token to a 0600 file', async () => {
    const app = join(prefix, 'opt', 'outpost');
    // What `npm ci --omit=dev` would install there (no network in tests).
    symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
    // The unit's command, with the environment file's settings (paths under the prefix).
    server = startProcess(
      process.execPath,
      [
        join(app, 'bin', 'outpost.js'),
        'serve',
        '--tls-cert',
        join(prefix, 'etc', 'outpost', 'tls', 'cert.pem'),
        '--tls-key',
        join(prefix, 'etc', 'outpost', 'tls', 'key.pem'),
        '--nginx-check',
        'off',
        '--probe-interval',
        '0',
      ],
      {
        OUTPOST_DATA_DIR: data,
        OUTPOST_LISTEN: `127.0.0.1:${port}`,
        OUTPOST_PUBLIC_URL: url,
      },
    );
    await server.waitFor(/Admin API:/, 30_000);
    expect(server.output()).not.toMatch(/opa_/);
    const tokenFile = join(data, 'admin-token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(server.output()).toContain('first start: the admin token was written to a file');

    // As install.sh fetches: curl, trusting this certificate.
    const sums = await run('curl', [
      '-fsS',
      '--cacert',
      tls.certFile,
      `${url}/v1/install/agent.sha256`,
    ]);
    expect(sums.stdout).toMatch(
      new RegExp(`^[0-9a-f]{64}  outpost-agent-linux-${process.arch}\\n$`),
    );
    const token = readFileSync(tokenFile, 'utf8').trim();
    const state = await run('curl', [
      '-fsS',
      '--cacert',
      tls.certFile,
      '-H',
      `authorization: Bearer ${token}`,
      `${url}/v1/state`,
    ]);
    expect(JSON.parse(state.stdout)).toHaveProperty('revision');
    // Plain HTTP on the HTTPS port gets no API answer.
    await expect(fetch(`http://127.0.0.1:${port}/v1/state`)).rejects.toThrow();
  }, 60_000);

  it('the one-file agent joins over HTTPS, trusting the certificate via NODE_EXTRA_CA_CERTS', async () => {
    const admin = {
      OUTPOST_SERVER: url,
      OUTPOST_TOKEN: readFileSync(join(data, 'admin-token'), 'utf8').trim(),
    };
    const caEnv = { NODE_EXTRA_CA_CERTS: tls.certFile };
    const edgePort = await freePort('127.0.0.43');
    const yaml = join(dir.path, 'outpost.yaml');
    writeFileSync(
      yaml,
      `edges:\n  - name: tls1\n    host: {v4: 127.0.0.43}\n    listen: {addresses: [127.0.0.43], http: ${edgePort}, https: ${edgePort + 1}}\nsites: []\n`,
    );
    const applied = await runCli(['apply', '-f', yaml], { ...admin, ...caEnv });
    expect(applied.code, applied.stderr).toBe(0);
    const edgeToken = /New edge tls1: its token, shown once:\n {2}(ope_\S+)/.exec(
      applied.stdout,
    )?.[1];
    expect(edgeToken).toBeDefined();
    const tokenFile = join(dir.path, 'edge-token');
    writeFileSync(tokenFile, `${edgeToken}\n`, { mode: 0o600 });
    agent = startProcess(
      AGENT_EXECUTABLE,
      [
        '--server',
        url,
        '--token-file',
        tokenFile,
        '--root',
        edgeRoot,
        '--nginx',
        NGINX,
        '--report-interval',
        '1',
      ],
      { ...cleanEnv(), ...caEnv, PATH: '/usr/sbin:/sbin' },
    );
    await agent.waitFor(/joined the control plane; signing key pinned/);
    await eventually('the edge to apply its release over HTTPS', async () => {
      const st = await runCli(['status', '--json'], { ...admin, ...caEnv });
      const row = (JSON.parse(st.stdout) as { edges: { name: string; state: string }[] }).edges[0];
      return row?.state === 'ok' ? row : undefined;
    });
  }, 60_000);

  it('outpost serve refuses a plain http:// --public-url on another machine', async () => {
    const r = await runCli([
      'serve',
      '--data-dir',
      join(dir.path, 'refused'),
      '--listen',
      '127.0.0.1:0',
      '--public-url',
      'http://192.0.2.1:8080',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      '--public-url "http://192.0.2.1:8080" is plain http:// to 192.0.2.1',
    );
    expect(existsSync(join(dir.path, 'refused'))).toBe(false);
  });
});
