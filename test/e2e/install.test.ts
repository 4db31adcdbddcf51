// deploy/install.sh run for real into a temporary prefix, and a real control plane serving it
// and the agent package that an edge installs.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT, startControlPlane, tempDir, type Running } from '../support/processes.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'deploy', 'install.sh');
const UNIT = join(ROOT, 'deploy', 'outpost-agent.service');

function edgeToken(): string {
  return `ope_${randomBytes(32).toString('base64url')}`;
}

interface Result {
  code: number;
  output: string;
}

/**
 * Runs install.sh in a new session (no controlling terminal: it can never wait on /dev/tty).
 * With `piped`, the script comes on standard input as with `curl … | bash -s -- ARGS`.
 */
async function install(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; piped?: Buffer } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const argv = opts.piped ? ['-s', '--', ...args] : [SCRIPT, ...args];
    const child = spawn('bash', argv, {
      cwd: ROOT,
      env: { ...cleanEnv(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
    // A script that stops early leaves its input unread: that is not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.piped ?? opts.input ?? '');
  });
}

const BASE = [
  '--skip-packages',
  '--skip-systemd',
  '--server',
  'http://127.0.0.1:1',
  '--name',
  't',
  '--pin',
  'sha256:abc',
];

describe('deploy/install.sh', () => {
  const dir = tempDir('install');
  afterAll(() => dir.remove());

  it('is valid bash', async () => {
    await expect(run('bash', ['-n', SCRIPT])).resolves.toBeDefined();
  });

  it('writes the token (0600), the settings and the unit; re-running replaces the token', async () => {
    const prefix = join(dir.path, 'edge');
    const tokenPath = join(prefix, 'etc', 'outpost', 'edge-token');
    const envPath = join(prefix, 'etc', 'outpost', 'agent.env');
    const unitPath = join(prefix, 'etc', 'systemd', 'system', 'outpost-agent.service');

    const first = edgeToken();
    const given = join(dir.path, 'token');
    writeFileSync(given, `${first}\n`, { mode: 0o600 });
    const r1 = await install(['--prefix', prefix, ...BASE, '--token-file', given]);
    expect(r1.output).not.toContain(first);
    expect(r1.code, r1.output).toBe(0);
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenPath, 'utf8')).toBe(`${first}\n`);
    const env = readFileSync(envPath, 'utf8');
    expect(env).toContain('OUTPOST_SERVER="http://127.0.0.1:1"');
    expect(env).toContain('OUTPOST_TOKEN_FILE="/etc/outpost/edge-token"');
    expect(env).toContain('OUTPOST_AGENT_ARGS="--pin sha256:abc"');
    expect(env).not.toContain(first);
    expect(env).not.toContain('ope_');
    expect(readFileSync(unitPath, 'utf8')).toBe(readFileSync(UNIT, 'utf8'));
    // Without systemd it says how to run the agent by hand.
    expect(r1.output).toContain(
      '/usr/local/bin/outpost agent --server http://127.0.0.1:1 --token-file /etc/outpost/edge-token',
    );

    // Rotation: the same command with a new token, from the environment.
    const second = edgeToken();
    const r2 = await install(['--prefix', prefix, ...BASE], {
      env: { OUTPOST_EDGE_TOKEN: second },
    });
    expect(r2.output).not.toContain(second);
    expect(r2.code, r2.output).toBe(0);
    expect(readFileSync(tokenPath, 'utf8')).toBe(`${second}\n`);
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);

    // And from standard input.
    const third = edgeToken();
    const r3 = await install(['--prefix', prefix, ...BASE, '--token-stdin'], {
      input: `${third}\n`,
    });
    expect(r3.output).not.toContain(third);
    expect(r3.code, r3.output).toBe(0);
    expect(readFileSync(tokenPath, 'utf8')).toBe(`${third}\n`);
    expect(readFileSync(envPath, 'utf8')).not.toContain(third);

    // No token given and none on a terminal: the current one is kept.
    const r4 = await install(['--prefix', prefix, ...BASE]);
    expect(r4.code, r4.output).toBe(0);
    expect(r4.output).toContain('Keeping the current token');
    expect(readFileSync(tokenPath, 'utf8')).toBe(`${third}\n`);
  });

  it('refuses to run without --server', async () => {
    const r = await install(['--prefix', join(dir.path, 'no-server'), '--skip-packages'], {
      env: { OUTPOST_EDGE_TOKEN: edgeToken() },
    });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('--server URL is required');
  });

  it('refuses to run without a token, and a token that is not one, without echoing it', async () => {
    const prefix = join(dir.path, 'no-token');
    const none = await install(['--prefix', prefix, ...BASE]);
    expect(none.code).not.toBe(0);
    expect(none.output).toContain('no edge token');
    expect(none.output).toContain('--token-file');

    const bad = 'ope_short-and-secret';
    const r = await install(['--prefix', prefix, ...BASE], { env: { OUTPOST_EDGE_TOKEN: bad } });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('is not an edge token');
    expect(r.output).not.toContain(bad);

    const onCommandLine = await install(['--prefix', prefix, ...BASE, '--token', edgeToken()]);
    expect(onCommandLine.code).not.toBe(0);
    expect(onCommandLine.output).toContain('not taken on the command line');
  });
});

describe('the control plane serves the installer and the agent package', () => {
  const data = tempDir('install-cp');
  let server: Running;
  let url = '';

  beforeAll(async () => {
    ({ server, url } = await startControlPlane(data.path, { args: ['--nginx-check', 'off'] }));
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('GET /install.sh is deploy/install.sh, without auth', async () => {
    const res = await fetch(`${url}/install.sh`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/x-shellscript/);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(SCRIPT))).toBe(true);
  });

  it('GET /v1/agent/outpost.tgz is the package, with tsx among its runtime dependencies', async () => {
    const res = await fetch(`${url}/v1/agent/outpost.tgz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    const tarball = Buffer.from(await res.arrayBuffer());
    expect(tarball.subarray(0, 2).toString('hex')).toBe('1f8b');
    const tgz = join(data.path, 'outpost.tgz');
    writeFileSync(tgz, tarball);

    const files = (await run('tar', ['tzf', tgz])).stdout.split('\n');
    expect(files).toContain('package/package.json');
    expect(files).toContain('package/bin/outpost.js');
    expect(files).toContain('package/src/cli/main.ts');
    expect(files).toContain('package/deploy/install.sh');
    expect(files).toContain('package/deploy/outpost-agent.service');
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    const manifest = JSON.parse(
      (await run('tar', ['xzOf', tgz, 'package/package.json'])).stdout,
    ) as { version: string; dependencies: Record<string, string> };
    // bin/outpost.js runs src/ through tsx: a global install must bring it.
    expect(manifest.dependencies.tsx).toBeDefined();

    // A second request is served from the per-process cache.
    const again = await fetch(`${url}/v1/agent/outpost.tgz`);
    expect(Buffer.from(await again.arrayBuffer()).equals(tarball)).toBe(true);
  }, 60_000);

  it('an edge joins with the served script, which installs the served package', async () => {
    // `curl URL/install.sh | sudo bash -s -- …` without sudo and systemd: files go under a
    // prefix and npm installs into a temporary global prefix. Dependencies come from the npm
    // cache where they are there (the registry otherwise).
    const script = Buffer.from(await (await fetch(`${url}/install.sh`)).arrayBuffer());
    const prefix = join(data.path, 'edge');
    const token = edgeToken();
    const r = await install(
      [
        '--server',
        url,
        '--name',
        'sg1',
        '--pin',
        'sha256:abc',
        '--prefix',
        prefix,
        '--skip-systemd',
      ],
      {
        piped: script,
        env: { OUTPOST_EDGE_TOKEN: token, npm_config_prefix: join(data.path, 'npm-global') },
      },
    );
    expect(r.output).not.toContain(token);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('Installed outpost');
    const version = await run(join(prefix, 'usr', 'local', 'bin', 'outpost'), ['--version'], {
      env: cleanEnv(),
    });
    const ours = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(version.stdout.trim()).toBe(ours);
    // The unit comes from the installed package.
    expect(
      readFileSync(join(prefix, 'etc', 'systemd', 'system', 'outpost-agent.service'), 'utf8'),
    ).toBe(readFileSync(UNIT, 'utf8'));
    expect(readFileSync(join(prefix, 'etc', 'outpost', 'edge-token'), 'utf8')).toBe(`${token}\n`);
  }, 120_000);

  it('the package answers 503 with a clear error when it cannot be packed', async () => {
    const { default: Fastify } = await import('fastify');
    const { installRoutes } = await import('../../src/edges/install-routes.js');
    const { installErrorHandler } = await import('../../src/http/errors.js');
    const app = Fastify();
    // As in the control plane: every error reaches the client through the one handler.
    installErrorHandler(app);
    await app.register(installRoutes({ npm: join(data.path, 'no-such-npm') }));
    const res = await app.inject({ method: 'GET', url: '/v1/agent/outpost.tgz' });
    await app.close();
    expect(res.statusCode).toBe(503);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('agent_package_unavailable');
    expect(body.error.message).toContain('no-such-npm is not installed');
  });
});
