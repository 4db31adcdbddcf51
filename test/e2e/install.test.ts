// deploy/install.sh run for real into a temporary prefix, and a real control plane serving it
// and the one-file agent that an edge installs.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT, startControlPlane, tempDir, type Running } from '../support/processes.js';
import { AGENT_EXECUTABLE, buildReleaseIfStale } from '../support/release.js';

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
  opts: {
    env?: Record<string, string>;
    input?: string;
    piped?: Buffer;
    script?: string;
    noAgent?: boolean;
  } = {},
): Promise<Result> {
  // --skip-agent says the agent is installed: a stand-in executable where it would be.
  const prefix = args[args.indexOf('--prefix') + 1];
  if (args.includes('--skip-agent') && args.includes('--prefix') && prefix && !opts.noAgent) {
    mkdirSync(join(prefix, 'usr', 'local', 'bin'), { recursive: true });
    writeFileSync(join(prefix, 'usr', 'local', 'bin', 'outpost-agent'), '#!/bin/sh\n', {
      mode: 0o755,
    });
  }
  return new Promise((resolve, reject) => {
    const argv = opts.piped ? ['-s', '--', ...args] : [opts.script ?? SCRIPT, ...args];
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
  '--skip-agent',
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
      '/usr/local/bin/outpost-agent --server http://127.0.0.1:1 --token-file /etc/outpost/edge-token',
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

  it('--skip-agent finds the agent on PATH (outpost-agent, else `outpost agent`) and names it in the unit', async () => {
    const bin = join(dir.path, 'bin');
    mkdirSync(bin, { recursive: true });
    const env = { OUTPOST_EDGE_TOKEN: edgeToken(), PATH: `${bin}:/usr/bin:/bin` };
    const base = [...BASE.filter((a) => a !== '--skip-agent'), '--skip-agent'];

    // Nothing installed: refused before anything is written.
    const none = join(dir.path, 'agent-none');
    const refused = await install(['--prefix', none, ...base], { env, noAgent: true });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('neither outpost-agent nor outpost on PATH');
    expect(refused.output).toContain('Nothing was written');
    expect(existsSync(join(none, 'etc', 'outpost'))).toBe(false);

    // The npm package's (or the release's) `outpost` on PATH: the unit runs `outpost agent`.
    writeFileSync(join(bin, 'outpost'), '#!/bin/sh\n', { mode: 0o755 });
    const viaOutpost = join(dir.path, 'agent-outpost');
    const r = await install(['--prefix', viaOutpost, ...base], { env, noAgent: true });
    expect(r.code, r.output).toBe(0);
    const unit = readFileSync(
      join(viaOutpost, 'etc', 'systemd', 'system', 'outpost-agent.service'),
      'utf8',
    );
    expect(unit).toContain(`ExecStart=${bin}/outpost agent --server \${OUTPOST_SERVER} `);
    expect(r.output).toContain(`${bin}/outpost agent --server http://127.0.0.1:1`);

    // outpost-agent on PATH wins over outpost.
    writeFileSync(join(bin, 'outpost-agent'), '#!/bin/sh\n', { mode: 0o755 });
    const viaAgent = join(dir.path, 'agent-path');
    const r2 = await install(['--prefix', viaAgent, ...base], { env, noAgent: true });
    expect(r2.code, r2.output).toBe(0);
    expect(
      readFileSync(join(viaAgent, 'etc', 'systemd', 'system', 'outpost-agent.service'), 'utf8'),
    ).toContain(`ExecStart=${bin}/outpost-agent --server`);
  });

  it('saved as a file on its own (no unit beside it), it fetches the unit first and writes nothing when it cannot', async () => {
    const alone = join(dir.path, 'alone');
    mkdirSync(alone, { recursive: true });
    const script = join(alone, 'install.sh');
    copyFileSync(SCRIPT, script);
    const prefix = join(dir.path, 'alone-edge');
    // http://127.0.0.1:1 answers nothing: the unit cannot be fetched.
    const r = await install(['--prefix', prefix, ...BASE, '--token-stdin'], {
      script,
      input: `${edgeToken()}\n`,
    });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain(
      'cannot download http://127.0.0.1:1/v1/install/outpost-agent.service',
    );
    expect(existsSync(join(prefix, 'etc', 'outpost', 'edge-token'))).toBe(false);
    expect(existsSync(join(prefix, 'etc', 'outpost', 'agent.env'))).toBe(false);
  });

  it('refuses plain http:// to another machine unless --insecure-http', async () => {
    const prefix = join(dir.path, 'insecure');
    const args = ['--prefix', prefix, '--skip-packages', '--skip-agent', '--skip-systemd'];
    const env = { OUTPOST_EDGE_TOKEN: edgeToken() };
    // 192.0.2.1 is documentation data: the script refuses before any connection.
    const refused = await install([...args, '--server', 'http://192.0.2.1:8080'], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('is plain http:// to another machine');
    const allowed = await install(
      [...args, '--server', 'http://192.0.2.1:8080', '--insecure-http'],
      { env },
    );
    expect(allowed.code, allowed.output).toBe(0);
    expect(readFileSync(join(prefix, 'etc', 'outpost', 'agent.env'), 'utf8')).toContain(
      'OUTPOST_AGENT_ARGS="--insecure-http"',
    );
  });

  it('takes several control planes as a comma list, each URL checked, and hands the list on', async () => {
    const prefix = join(dir.path, 'several');
    const args = ['--prefix', prefix, '--skip-packages', '--skip-agent', '--skip-systemd'];
    const env = { OUTPOST_EDGE_TOKEN: edgeToken() };
    const list = 'http://127.0.0.1:1/,http://127.0.0.2:1';
    const r = await install([...args, '--server', list], { env });
    expect(r.code, r.output).toBe(0);
    expect(readFileSync(join(prefix, 'etc', 'outpost', 'agent.env'), 'utf8')).toContain(
      'OUTPOST_SERVER="http://127.0.0.1:1,http://127.0.0.2:1"',
    );
    expect(r.output).toContain('--server http://127.0.0.1:1,http://127.0.0.2:1 --token-file');
    // 192.0.2.1 is documentation data: refused before any connection, naming the bad one.
    const bad = await install([...args, '--server', 'http://127.0.0.1:1,http://192.0.2.1:8080'], {
      env,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('--server "http://192.0.2.1:8080" is plain http://');
    const empty = await install([...args, '--server', 'http://127.0.0.1:1,,http://127.0.0.2:1'], {
      env,
    });
    expect(empty.code).not.toBe(0);
    expect(empty.output).toContain('has an empty URL in its list');
  });
});

describe('the control plane serves the installer, the agent executable and its unit', () => {
  const data = tempDir('install-cp');
  let server: Running;
  let url = '';

  beforeAll(async () => {
    await buildReleaseIfStale();
    ({ server, url } = await startControlPlane(data.path, { args: ['--nginx-check', 'off'] }));
  }, 600_000);

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

  it('GET /v1/install/agent is the executable, with the checksum of /v1/install/agent.sha256', async () => {
    const sums = await fetch(`${url}/v1/install/agent.sha256`);
    expect(sums.status).toBe(200);
    const [hex, name] = (await sums.text()).trim().split(/\s+/);
    expect(name).toBe(`outpost-agent-linux-${process.arch}`);
    const res = await fetch(`${url}/v1/install/agent`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(AGENT_EXECUTABLE))).toBe(true);
    expect(createHash('sha256').update(body).digest('hex')).toBe(hex);
    expect(res.headers.get('x-outpost-agent-sha256')).toBe(hex);
    // An ELF executable (the Node.js runtime with the agent inside), not a script.
    expect(body.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const unit = await fetch(`${url}/v1/install/outpost-agent.service`);
    expect(await unit.text()).toBe(readFileSync(UNIT, 'utf8'));
  }, 60_000);

  it('an edge joins with the served script, which installs the served executable', async () => {
    // `curl URL/install.sh | sudo bash -s -- …` without sudo and systemd: files go under a
    // prefix, and the script comes from standard input, so the unit comes from the server.
    const script = Buffer.from(await (await fetch(`${url}/install.sh`)).arrayBuffer());
    const prefix = join(data.path, 'edge');
    const token = edgeToken();
    const args = ['--server', url, '--name', 'sg1', '--pin', 'sha256:abc'];
    const r = await install([...args, '--prefix', prefix, '--skip-systemd'], {
      piped: script,
      env: { OUTPOST_EDGE_TOKEN: token },
    });
    expect(r.output).not.toContain(token);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('Installed the outpost agent');
    const bin = join(prefix, 'usr', 'local', 'bin', 'outpost-agent');
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    const version = await run(bin, ['--version'], { env: { PATH: '/nonexistent' } });
    const ours = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(version.stdout.trim()).toBe(ours);
    expect(
      readFileSync(join(prefix, 'etc', 'systemd', 'system', 'outpost-agent.service'), 'utf8'),
    ).toBe(readFileSync(UNIT, 'utf8'));
    expect(readFileSync(join(prefix, 'etc', 'outpost', 'edge-token'), 'utf8')).toBe(`${token}\n`);

    // Again: the same executable is not downloaded twice.
    const again = await install([...args, '--prefix', prefix, '--skip-systemd'], {
      piped: script,
      env: { OUTPOST_EDGE_TOKEN: token },
    });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain("is already the control plane's");
  }, 120_000);

  it('refuses an executable whose checksum does not match, and keeps the installed one', async () => {
    // A control plane whose published checksum is not its file's (a corrupted download).
    const { default: Fastify } = await import('fastify');
    const { installRoutes } = await import('../../src/edges/install-routes.js');
    const fake = join(data.path, 'outpost-agent-linux-x64');
    writeFileSync(fake, '#!/bin/sh\necho 9.9.9\n', { mode: 0o755 });
    const app = Fastify();
    await app.register(installRoutes({ agentExecutable: fake }));
    app.addHook('onSend', async (req, _reply, payload) =>
      req.url === '/v1/install/agent.sha256'
        ? `${'0'.repeat(64)}  outpost-agent-linux-${process.arch}\n`
        : payload,
    );
    const fakeUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const prefix = join(data.path, 'edge');
      const before = readFileSync(join(prefix, 'usr', 'local', 'bin', 'outpost-agent'));
      const r = await install(
        ['--server', fakeUrl, '--prefix', prefix, '--skip-systemd', '--skip-packages'],
        { env: { OUTPOST_EDGE_TOKEN: edgeToken() } },
      );
      expect(r.code).not.toBe(0);
      expect(r.output).toContain(`not the published ${'0'.repeat(64)}: not installed`);
      expect(
        readFileSync(join(prefix, 'usr', 'local', 'bin', 'outpost-agent')).equals(before),
      ).toBe(true);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('answers 503 with a clear error when it has no agent executable', async () => {
    const { default: Fastify } = await import('fastify');
    const { installRoutes } = await import('../../src/edges/install-routes.js');
    const { installErrorHandler } = await import('../../src/http/errors.js');
    const app = Fastify();
    installErrorHandler(app);
    await app.register(installRoutes({ agentExecutable: join(data.path, 'no-such-agent') }));
    const res = await app.inject({ method: 'GET', url: '/v1/install/agent' });
    await app.close();
    expect(res.statusCode).toBe(503);
    const body = res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe('agent_executable_unavailable');
    expect(body.error.message).toContain('no-such-agent');
    expect(body.error.message).toContain('npm run release');
  });
});
