// Regenerates docs/screenshots/*.png: a real control plane with a few edges around the world,
// two of them real (nginx on 127.0.0.9 and 127.0.0.10, each driven by `outpost agent`), some
// traffic through them, and the admin UI in headless Chromium. `npm run screenshots` (as
// root, like the tests: nginx workers run as www-data).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/support/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs', 'screenshots');
const NGINX = '/usr/sbin/nginx';
const REAL_EDGES = { fra1: '127.0.0.9', sgp1: '127.0.0.10' } as const;

const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function start(args: string[]): { child: ChildProcess; output: () => string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('OUTPOST_') && v !== undefined) env[k] = v;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'outpost.js'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function get(address: string, port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-screenshots-'));
  chmodSync(tmp, 0o755);
  const children: ChildProcess[] = [];
  const agents: { output: () => string }[] = [];
  const origin = createServer((req, res) => {
    res.setHeader('cache-control', 'max-age=300');
    res.end(`origin says ${req.url ?? '/'}`);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const edgePort = await freePort(REAL_EDGES.fra1);
  const cpPort = await freePort('127.0.0.1');
  const cpUrl = `http://127.0.0.1:${cpPort}`;
  try {
    const cp = start([
      'serve',
      '--data-dir',
      join(tmp, 'cp'),
      '--listen',
      `127.0.0.1:${cpPort}`,
      '--log-level',
      'warn',
      '--nginx-check',
      'off',
    ]);
    children.push(cp.child);
    const token = await until(
      'the admin token',
      async () => /OUTPOST_TOKEN=(opa_\S+)/.exec(cp.output())?.[1],
    );
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${cpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    await until('the control plane', async () => ((await fetch(cpUrl)).ok ? true : undefined));

    const realEdge = (
      name: keyof typeof REAL_EDGES,
      latlong: [number, number],
      tags: string[],
    ) => ({
      name,
      host: { v4: REAL_EDGES[name] },
      listen: { addresses: [REAL_EDGES[name]], http: edgePort, https: edgePort + 1 },
      tags,
      meta: { latlong },
    });
    const origins = [{ host: { v4: '127.0.0.1' }, port: originPort, protocol: 'http' }];
    const applied = await admin('POST', '/v1/apply', {
      dry_run: false,
      spec: {
        edges: [
          realEdge('fra1', [50.11, 8.68], ['eu']),
          realEdge('sgp1', [1.35, 103.82], ['asia', 'slow']),
          {
            name: 'nyc1',
            host: { v4: '127.0.0.61' },
            tags: ['us'],
            meta: { latlong: [40.71, -74.0] },
          },
          { name: 'syd1', host: { v4: '127.0.0.62' }, meta: { latlong: [-33.87, 151.21] } },
          {
            name: 'gru1',
            host: { v4: '127.0.0.63' },
            paused: true,
            meta: { latlong: [-23.55, -46.63] },
          },
        ],
        sites: [
          {
            domain: 'www.example.test',
            aliases: ['example.test'],
            origins,
            edges: ['fra1', 'sgp1'],
            health_check: { uri: 'http://www.example.test/healthz', frequency: 30 },
            modifiers: [
              {
                name: 'large-files',
                edges: ['tag:slow'],
                match: { paths: ['/downloads/*'], extensions: ['zip', 'iso'] },
                action: {
                  type: 'redirect',
                  status: 302,
                  target: 'https://static.example.test{uri}',
                },
              },
            ],
          },
          { domain: 'shop.example.test', origins, edges: ['tag:eu', 'tag:asia'] },
          {
            domain: 'blog.example.test',
            // Loopback addresses where nothing listens: the control plane's probes find them down
            // without sending anything off this machine.
            origins: [{ host: { v4: '127.0.0.64' }, tls_server_name: 'origin.blog.example.test' }],
            edges: ['*'],
            https: { redirect_http: true, hsts: { max_age: 31536000 } },
          },
        ],
      },
    });
    const tokens = applied.edge_tokens as Record<string, string>;

    for (const name of Object.keys(REAL_EDGES) as (keyof typeof REAL_EDGES)[]) {
      const file = join(tmp, `token-${name}`);
      writeFileSync(file, `${tokens[name]}\n`, { mode: 0o600 });
      const agent = start([
        'agent',
        '--server',
        cpUrl,
        '--token-file',
        file,
        '--root',
        join(tmp, `edge-${name}`),
        '--report-interval',
        '1',
        '--log-level',
        'warn',
      ]);
      children.push(agent.child);
    }
    for (const [name, address] of Object.entries(REAL_EDGES))
      await until(`edge ${name} to serve`, async () =>
        (await get(address, edgePort, '/', 'www.example.test')) === 200 ? true : undefined,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${agents.map((a) => a.output()).join('\n')}`);
      });
    say('edges serve; sending some traffic…');
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 20 + round * 3; i++) {
        await get(REAL_EDGES.fra1, edgePort, `/assets/${i % 7}.css`, 'www.example.test');
        if (i % 3 === 0)
          await get(REAL_EDGES.sgp1, edgePort, `/static/${i % 4}.js`, 'shop.example.test');
      }
      await sleep(500);
    }
    await sleep(3000);

    mkdirSync(OUT, { recursive: true });
    const context = await launchChromium(join(tmp, 'chromium-profile'), {
      viewport: { width: 1280, height: 860 },
      deviceScaleFactor: 1,
    });
    await context.addInitScript(
      `sessionStorage.setItem('outpost.admin-token', ${JSON.stringify(token)});`,
    );
    const page = context.pages()[0] ?? (await context.newPage());
    const shoot = async (path: string, name: string, ready: string) => {
      await page.goto(`${cpUrl}${path}`);
      await page.getByTestId(ready).first().waitFor({ timeout: 15_000 });
      await sleep(800);
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
      say(`docs/screenshots/${name}.png`);
    };
    await shoot('/', 'dashboard', 'edge-row-fra1');
    await shoot('/sites', 'sites', 'site-table');
    // Opened from the list: a client-side route, as a user gets there.
    await page.goto(`${cpUrl}/sites`);
    await page.getByRole('link', { name: 'www.example.test', exact: true }).click();
    await page.getByTestId('review-site').waitFor();
    await sleep(500);
    await page.screenshot({ path: join(OUT, 'site-edit.png'), fullPage: true });
    say('docs/screenshots/site-edit.png');
    await shoot('/edges', 'edges', 'edges-table');
    await shoot('/status', 'status', 'public-edge-fra1');
    await context.close();
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await sleep(500);
    for (const name of Object.keys(REAL_EDGES)) {
      const root = join(tmp, `edge-${name}`);
      if (existsSync(join(root, 'logs', 'nginx.pid')))
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
    }
    origin.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
