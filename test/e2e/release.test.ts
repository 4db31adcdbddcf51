// The release as a self-hoster installs it: the control plane runs the compiled package
// (dist/, no tsx) and gives its admin token through a 0600 file (no terminal); an edge joins
// with install.sh, which downloads the one-file agent, and the agent runs with no `node` on its
// PATH; the agent is upgraded while nginx serves; it refuses plain http:// to another machine
// and a purge job altered on the way.
import { execFile, spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX, TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { cleanEnv, ROOT, startProcess, type Running } from '../support/processes.js';
import { AGENT_EXECUTABLE, buildReleaseIfStale, COMPILED_CLI } from '../support/release.js';

const run = promisify(execFile);
const HOST = 'release.test';
const EDGE = 'r1';

/** A PATH with every tool of /usr/bin except Node.js and npm: what a stock edge has. */
function pathWithoutNode(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync('/usr/bin')) {
    if (/^(node|nodejs|npm|npx|corepack)$/.test(name)) continue;
    symlinkSync(join('/usr/bin', name), join(dir, name));
  }
  return `${dir}:/usr/sbin:/sbin`;
}

/** install.sh fed on standard input, as with `curl URL/install.sh | bash -s -- ARGS`. */
function installPiped(
  script: Buffer,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-s', '--', ...args], {
      cwd: '/',
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
    child.stdin.end(script);
  });
}

/**
 * A man in the middle on loopback: forwards everything to the control plane and, in long-poll
 * answers, rewrites `from` into `to` (the same length) inside the signed purge jobs.
 */
function tamperingProxy(target: number, from: string, to: string): Promise<Server> {
  const server = createServer((req, res) => {
    const up = request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          if (req.url?.startsWith('/v1/edge/poll'))
            body = Buffer.from(body.toString().split(from).join(to));
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    up.once('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the release: compiled control plane, one-file agent without Node.js', () => {
  const cdn = new TestCdn({
    edges: { [EDGE]: '127.0.0.41' },
    outpostBin: COMPILED_CLI,
    serveArgs: ['--nginx-check', 'off'],
  });
  let origin: TestOrigin;
  let prefix = '';
  let edgePath = '';
  let agentBin = '';
  let agent: Running | undefined;

  const startAgent = (server = cdn.cpUrl): Running =>
    startProcess(
      agentBin,
      [
        '--server',
        server,
        '--token-file',
        join(prefix, 'etc', 'outpost', 'edge-token'),
        '--root',
        cdn.root(EDGE),
        '--nginx',
        NGINX,
        '--report-interval',
        '1',
        '--wait',
        '5',
      ],
      { ...cleanEnv(), PATH: edgePath },
    );
  const get = (path: string) => cdn.get(EDGE, path, HOST);

  beforeAll(async () => {
    await buildReleaseIfStale();
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml(EDGE)}sites:
  - domain: ${HOST}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
`);
    prefix = join(cdn.tmp.path, 'edge-install');
    edgePath = pathWithoutNode(join(cdn.tmp.path, 'bin-without-node'));
  }, 600_000);

  afterAll(async () => {
    await agent?.stop();
    await cdn.close();
    await origin?.close();
  });

  it('the control plane runs from dist/ and left its admin token in a 0600 file', () => {
    expect(cdn.cp.output()).not.toMatch(/opa_/);
    const file = join(cdn.tmp.path, 'cp', 'admin-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(cdn.adminEnv.OUTPOST_TOKEN);
    expect(cdn.cp.output()).toContain(`the admin token is in ${file} (mode 0600)`);
  });

  it('an edge joins with install.sh and the downloaded agent, with no node on its PATH', async () => {
    await expect(
      run('bash', ['-c', 'command -v node'], { env: { PATH: edgePath } }),
    ).rejects.toThrow();
    const script = Buffer.from(await (await fetch(`${cdn.cpUrl}/install.sh`)).arrayBuffer());
    const r = await installPiped(
      script,
      ['--server', cdn.cpUrl, '--name', EDGE, '--prefix', prefix, '--skip-systemd'],
      { ...cleanEnv(), PATH: edgePath, OUTPOST_EDGE_TOKEN: cdn.tokens[EDGE] ?? '' },
    );
    expect(r.code, r.output).toBe(0);
    agentBin = join(prefix, 'usr', 'local', 'bin', 'outpost-agent');
    expect(readFileSync(agentBin).equals(readFileSync(AGENT_EXECUTABLE))).toBe(true);

    agent = startAgent();
    await cdn.allApplied();
    const res = await get('/hello');
    expect(res.status).toBe(200);
    expect(res.body).toBe('origin says /hello');
  }, 120_000);

  it('upgrades the agent in place while nginx serves: every request succeeds', async () => {
    // A new build: the same executable with bytes appended (an ELF runs with trailing data),
    // served by the same install routes the control plane uses.
    const next = join(cdn.tmp.path, `outpost-agent-linux-${process.arch}`);
    copyFileSync(AGENT_EXECUTABLE, next);
    appendFileSync(next, Buffer.alloc(4096, 1));
    const { default: Fastify } = await import('fastify');
    const { installRoutes } = await import('../../src/edges/install-routes.js');
    const upgraded = Fastify();
    await upgraded.register(installRoutes({ agentExecutable: next, packageRoot: ROOT }));
    const upgradeUrl = await upgraded.listen({ host: '127.0.0.1', port: 0 });

    let stop = false;
    const answers: number[] = [];
    const failures: string[] = [];
    const traffic = (async () => {
      // Bounded: at most 5,000 requests, whatever happens.
      for (let i = 0; i < 5000 && !stop; i++) {
        try {
          const a = await get(`/during-upgrade/${i % 20}`);
          answers.push(a.status);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    try {
      await eventually('traffic to start', async () => (answers.length > 20 ? true : undefined));
      const script = Buffer.from(await (await fetch(`${cdn.cpUrl}/install.sh`)).arrayBuffer());
      const r = await installPiped(
        script,
        ['--server', upgradeUrl, '--prefix', prefix, '--skip-systemd', '--skip-packages'],
        { ...cleanEnv(), PATH: edgePath },
      );
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('Installed the outpost agent');
      expect(readFileSync(agentBin).equals(readFileSync(next))).toBe(true);
      // What systemctl restart does (KillMode=process): the agent stops, nginx keeps serving.
      await agent?.stop();
      const during = answers.length;
      agent = startAgent();
      await agent.waitFor(/agent started/);
      await eventually('the new agent to report', async () => {
        const [row] = await cdn.status();
        return row?.state === 'ok' ? row : undefined;
      });
      await eventually('more traffic after the restart', async () =>
        answers.length > during + 20 ? true : undefined,
      );
    } finally {
      stop = true;
      await traffic;
      await upgraded.close();
    }
    expect(failures).toEqual([]);
    expect(answers.length).toBeGreaterThan(40);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
  }, 180_000);

  it('refuses plain http:// to another machine before any connection', async () => {
    const root = join(cdn.tmp.path, 'refused-root');
    // 192.0.2.1 is documentation data: the agent must refuse before opening anything.
    const r = await run(
      agentBin,
      ['--server', 'http://192.0.2.1:8080', '--token-file', '/nonexistent', '--root', root],
      { env: { PATH: edgePath } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is plain http:// to 192.0.2.1, which is not this machine');
    expect(r.stderr).toContain('--insecure-http');
    // Refused before reading the token or creating its state directory.
    expect(existsSync(root)).toBe(false);
  });

  it('refuses a purge job altered on the way, and reports it', async () => {
    for (const p of ['/assets/a.js', '/assets/b.js']) {
      await get(p);
      expect((await get(p)).headers['x-cache-status']).toBe('HIT');
    }
    // The agent now talks through a proxy that turns a purge of a.js into one of b.js.
    const proxy = await tamperingProxy(cdn.cpPort, '/assets/a.js', '/assets/b.js');
    const port = (proxy.address() as { port: number }).port;
    await agent?.stop();
    agent = startAgent(`http://127.0.0.1:${port}`);
    try {
      await agent.waitFor(/agent started/);
      const r = await cdn.cli(['purge', HOST, '/assets/a.js', '--timeout', '20']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/r1: failed/);
      expect(r.stdout + r.stderr).toContain('signature does not verify');
      await agent.waitFor(/refused a purge job/);
      // Neither the altered job nor the original ran.
      expect((await get('/assets/a.js')).headers['x-cache-status']).toBe('HIT');
      expect((await get('/assets/b.js')).headers['x-cache-status']).toBe('HIT');
    } finally {
      await agent.stop();
      agent = undefined;
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);
});
