// `outpost demo`: the whole CDN on one machine, for a first look. In one process: a control
// plane on the embedded SQLite, a sample origin, and one real nginx edge on a loopback address
// driven by an in-process agent. It shows a MISS then a HIT, and stops everything on Ctrl-C.
//
// Data dir layout (a temp dir unless --data-dir):
//   control-plane/   the SQLite store (0700: signing key, token hashes)
//   edge/            the agent's root: releases, nginx prefix, cache (nginx workers read it)
// The data dir itself is 0711 so nginx workers (www-data when running as root) can traverse
// it to edge/ without being able to list it or read control-plane/.
import { accessSync, constants, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Agent, AgentSetupError } from '../../agent/agent.js';
import type { EdgeStatus } from '../../health/edge-status.js';
import { buildControlPlane } from '../../server/app.js';
import { ensureAdminToken, resetAdminToken } from '../../http/admin-auth.js';
import { openStore } from '../../store/index.js';
import { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';

export const DEMO_SITE = 'demo.outpost.test';
export const DEMO_EDGE = 'demo';

export interface DemoOptions {
  /** Keep the demo's state here (reused across runs); default: a temp dir removed on exit. */
  dataDir?: string;
  /** Control-plane port on 127.0.0.1; default: a free one. */
  port?: number;
  /** Loopback address and HTTP port the edge's nginx listens on. */
  edgeAddress: string;
  edgePort: number;
  nginx: string;
  logLevel: string;
  version: string;
  /** Stops the demo like Ctrl-C does (for callers other than the CLI). */
  signal?: AbortSignal;
}

interface Resources {
  add(name: string, close: () => Promise<void>): void;
}

class AbortedError extends Error {}

/** Runs the demo until SIGINT/SIGTERM (or `options.signal`), then stops all it started. */
export async function runDemo(options: DemoOptions, out: Output): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) return;
    out.line('');
    out.line('Stopping the demo: edge (nginx), agent, control plane, origin…');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onSignal, { once: true });

  const closers: { name: string; close: () => Promise<void> }[] = [];
  const resources: Resources = { add: (name, close) => closers.push({ name, close }) };
  let failure: Error | undefined;
  try {
    await startDemo(options, out, resources, stop.signal);
    await new Promise<void>((done) => {
      if (stop.signal.aborted) return done();
      stop.signal.addEventListener('abort', () => done(), { once: true });
    });
  } catch (err) {
    if (!(err instanceof AbortedError))
      failure = err instanceof Error ? err : new Error(String(err));
  } finally {
    // Everything started is stopped, newest first, even when one step fails.
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        out.error(`outpost demo: could not stop the ${name}: ${(err as Error).message}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    options.signal?.removeEventListener('abort', onSignal);
  }
  if (failure !== undefined) throw failure;
  out.line('Demo stopped.');
}

async function startDemo(
  o: DemoOptions,
  out: Output,
  resources: Resources,
  signal: AbortSignal,
): Promise<void> {
  const check = () => {
    if (signal.aborted) throw new AbortedError();
  };
  const asRoot = process.getuid?.() === 0;
  for (const [flag, value] of [
    ['--edge-port', o.edgePort],
    ['--port', o.port],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0 && value < 65536))
      throw new CliError(`${flag} must be a port number between 1 and 65535`);
  }
  checkNginx(o.nginx);
  await checkPortFree(o.edgeAddress, o.edgePort, '--edge-port', '--edge-address');
  let port = o.port;
  if (port !== undefined) await checkPortFree('127.0.0.1', port, '--port', undefined);
  else port = await freePort('127.0.0.1');
  const address = `http://127.0.0.1:${port}`;

  // Data dir.
  let dataDir: string;
  if (o.dataDir !== undefined) {
    dataDir = resolve(o.dataDir);
    await mkdir(dataDir, { recursive: true });
  } else {
    dataDir = await mkdtemp(join(tmpdir(), 'outpost-demo-'));
    resources.add('data dir', () => rm(dataDir, { recursive: true, force: true }));
  }
  await chmod(dataDir, 0o711);
  const nginxUser = asRoot ? 'www-data' : undefined;
  if (nginxUser !== undefined) checkTraversable(dataDir, nginxUser);
  const cpDir = join(dataDir, 'control-plane');
  await mkdir(cpDir, { recursive: true, mode: 0o700 });
  await chmod(cpDir, 0o700);
  const edgeRoot = join(dataDir, 'edge');

  const logger = pino(
    { level: o.logLevel, redact: ['req.headers.authorization', '*.token', '*.token_hash'] },
    pino.destination(2),
  );

  // Sample origin.
  const origin = await startSampleOrigin();
  resources.add('sample origin', () => origin.close());
  check();

  // Control plane.
  const store = await openStore({ url: `sqlite:${join(cpDir, 'outpost.db')}` });
  resources.add('store', () => store.close());
  const adminToken = (await ensureAdminToken(store)) ?? (await resetAdminToken(store));
  const app = await buildControlPlane({
    store,
    logger: logger.child({ component: 'control-plane' }),
    publicUrl: address,
    version: o.version,
    nginx: o.nginx,
  });
  resources.add('control plane', async () => {
    // Its only clients are in this process and already stopped: drop their keep-alive
    // connections too, or close() waits for the keep-alive timeout.
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
  });
  try {
    await app.listen({ host: '127.0.0.1', port });
  } catch (err) {
    throw portError(err, '127.0.0.1', port, '--port', undefined);
  }
  check();
  const api = new ApiClient(address, adminToken);

  // The desired state: one edge, one site on it.
  const applied = await api.request<{
    changed: boolean;
    revision: number;
    edge_tokens: Record<string, string>;
  }>('POST', 'v1/apply', {
    yaml: demoSpec(o.edgeAddress, o.edgePort, origin.port),
  });
  // A reused data dir already has the edge: give it a fresh token (only hashes are stored).
  const edgeToken =
    applied.edge_tokens[DEMO_EDGE] ??
    (await api.request<{ token: string }>('POST', `v1/edges/${DEMO_EDGE}/token`)).token;
  check();

  // The edge: an agent in this process, driving a real nginx.
  const agent = new Agent({
    server: address,
    token: edgeToken,
    root: edgeRoot,
    nginx: o.nginx,
    logger: logger.child({ component: 'agent' }),
    waitSeconds: 30,
    reportIntervalMs: 10_000,
    ...(nginxUser !== undefined ? { nginxUser } : {}),
  });
  resources.add('edge', () => stopEdge(agent, edgeRoot));
  try {
    await agent.start();
  } catch (err) {
    if (err instanceof AgentSetupError) throw new CliError(err.message);
    throw err;
  }
  const release = await waitForEdge(api, applied.changed ? applied.revision : 0, signal);

  // Show it: the same request twice, a MISS and then a HIT.
  const edgeUrl = `http://${o.edgeAddress}:${o.edgePort}`;
  const first = await headersOf(`${edgeUrl}/assets/app.js`, DEMO_SITE);
  const second = await headersOf(`${edgeUrl}/assets/app.js`, DEMO_SITE);
  const curl = `curl -sI -H 'Host: ${DEMO_SITE}' ${edgeUrl}/assets/app.js`;
  const seen = (h: Record<string, string>) =>
    `X-CDN-Node: ${h['x-cdn-node'] ?? '-'}   X-Cache-Status: ${(h['x-cache-status'] ?? '-').padEnd(5)}   X-Outpost-Release: ${h['x-outpost-release'] ?? '-'}`;

  out.line('');
  out.line(
    'Outpost demo: a control plane, a sample origin and one nginx edge, all on this machine.',
  );
  out.line('');
  out.line(`  control plane  ${address}   (admin API ${address}/v1, OpenAPI ${address}/docs)`);
  out.line(`  admin token    ${adminToken}`);
  out.line(`  origin         http://127.0.0.1:${origin.port}   (sample origin)`);
  out.line(`  edge "${DEMO_EDGE}"    ${edgeUrl}   (nginx, release ${release})`);
  out.line(`  site           ${DEMO_SITE}`);
  out.line(
    `  data           ${dataDir}${o.dataDir === undefined ? '   (removed when the demo stops)' : ''}`,
  );
  out.line('');
  out.line('Ask the edge for a static file twice; the second answer comes from its cache:');
  out.line(`  ${curl}`);
  out.line(`  ${curl}`);
  out.line('');
  out.line('What the demo saw doing just that:');
  out.line(`  1st  ${seen(first)}`);
  out.line(`  2nd  ${seen(second)}`);
  out.line(
    `  The origin was asked ${plural(origin.count('/assets/app.js'), 'time')} for /assets/app.js` +
      (first['x-cache-status'] === 'HIT' ? ' (the edge cached it in an earlier run).' : '.'),
  );
  out.line('');
  out.line('The dynamic page is never cached (Cache-Control: no-store):');
  out.line(`  curl -s -H 'Host: ${DEMO_SITE}' ${edgeUrl}/`);
  out.line('');
  out.line('The CLI against this control plane:');
  out.line(`  export OUTPOST_SERVER=${address} OUTPOST_TOKEN=${adminToken}`);
  out.line('  npx outpost status');
  out.line('');
  out.line('Outpost demo is ready. Press Ctrl-C to stop everything it started.');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function demoSpec(edgeAddress: string, edgePort: number, originPort: number): string {
  return [
    '# outpost demo: one edge on a loopback address, one site in front of the sample origin.',
    'edges:',
    `  - name: ${DEMO_EDGE}`,
    `    host: { v4: ${edgeAddress} }`,
    `    listen: { addresses: [${edgeAddress}], http: ${edgePort} }`,
    'sites:',
    `  - domain: ${DEMO_SITE}`,
    '    origins:',
    `      - { host: { v4: 127.0.0.1 }, port: ${originPort}, protocol: http }`,
    `    edges: [${DEMO_EDGE}]`,
    '',
  ].join('\n');
}

function checkNginx(binary: string): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new CliError(
      `nginx is not installed (no ${binary}): apt-get install nginx-light` +
        (binary === '/usr/sbin/nginx' ? '' : ' (or pass --nginx with the path of nginx)'),
    );
  }
}

/** The nginx workers run as `user`: every directory above the edge root must let others in. */
function checkTraversable(dir: string, user: string): void {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new CliError(
        `nginx workers (user ${user}) cannot enter ${d}: chmod o+x ${d}, or choose another --data-dir`,
      );
    if (dirname(d) === d) return;
  }
}

function portError(
  err: unknown,
  host: string,
  port: number,
  portFlag: string,
  addressFlag: string | undefined,
): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE')
    return new CliError(
      `port ${port} on ${host} is already in use: choose another with ${portFlag}`,
    );
  if (code === 'EACCES')
    return new CliError(
      `listening on ${where} needs root (ports below 1024 are privileged): run the demo as root, or choose a port of 1024 or more with ${portFlag}`,
    );
  if (code === 'EADDRNOTAVAIL')
    return new CliError(
      `${host} is not an address of this machine` +
        (addressFlag
          ? `: choose another loopback address with ${addressFlag} (Linux answers on all of 127.0.0.0/8; elsewhere, add an alias such as "ifconfig lo0 alias ${host}")`
          : ''),
    );
  return err instanceof Error ? err : new Error(String(err));
}

/** Binds and releases host:port, turning the reason it cannot into one sentence. */
async function checkPortFree(
  host: string,
  port: number,
  portFlag: string,
  addressFlag: string | undefined,
): Promise<void> {
  await new Promise<void>((done, fail) => {
    const srv = createNetServer();
    srv.once('error', (err) => fail(portError(err, host, port, portFlag, addressFlag)));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => done()));
  });
}

/** A port that was free a moment ago on host. */
function freePort(host: string): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createNetServer();
    srv.once('error', fail);
    srv.listen(0, host, () => {
      const a = srv.address();
      srv.close(() => done(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface SampleOrigin {
  port: number;
  count: (path: string) => number;
  close: () => Promise<void>;
}

/** A small origin: a cacheable script and a dynamic page, counting the requests it answers. */
async function startSampleOrigin(): Promise<SampleOrigin> {
  const counts = new Map<string, number>();
  const server: Server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (path === '/assets/app.js') {
      res.writeHead(200, {
        'content-type': 'application/javascript; charset=utf-8',
        'cache-control': 'max-age=60',
      });
      res.end(
        "// Served by the outpost demo's sample origin.\nconsole.log('hello from the origin');\n",
      );
    } else if (path === '/') {
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(
        `Hello from the sample origin: request #${counts.get(path) ?? 0} for /, at ${new Date().toISOString()}.\n`,
      );
    } else {
      res.writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end('not found\n');
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    count: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Waits until the edge's newest release comes from `revision` (or a later one) and the edge
 * reports it serves it; returns that release. (The bundles are rebuilt just after an apply,
 * and a reused data dir holds the edge's report of an older release.)
 */
async function waitForEdge(api: ApiClient, revision: number, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + 30_000;
  let last: EdgeStatus | undefined;
  while (Date.now() < deadline) {
    if (signal.aborted) throw new AbortedError();
    const status = await api.request<{ edges: EdgeStatus[] }>('GET', 'v1/status');
    last = status.edges.find((e) => e.name === DEMO_EDGE);
    if (
      last?.applied_release != null &&
      (last.desired_revision ?? 0) >= revision &&
      last.applied_release === last.desired_release &&
      last.state === 'ok'
    )
      return last.applied_release;
    await sleep(100);
  }
  throw new CliError(
    `the edge did not start serving within 30 s${last?.error ? `: ${last.error}` : ` (state: ${last?.state ?? 'unknown'})`}`,
  );
}

/** Stops the agent and its nginx, and waits until nginx has really exited. */
async function stopEdge(agent: Agent, root: string): Promise<void> {
  const pid = await readFile(join(root, 'logs', 'nginx.pid'), 'utf8')
    .then((s) => Number(s.trim()))
    .catch(() => undefined);
  await agent.stop({ stopProxy: true });
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return;
  // `nginx -s quit` is graceful: wait for the master to go, then insist.
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  }
  if (alive(pid)) throw new Error(`nginx (pid ${pid}) did not exit`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One request through the edge, on a connection of its own; returns the response headers. */
function headersOf(url: string, host: string): Promise<Record<string, string>> {
  return new Promise((done, fail) => {
    const req = request(url, { headers: { host }, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        done(h);
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.once('error', (err) =>
      fail(new CliError(`the edge did not answer ${url}: ${err.message}`)),
    );
    req.end();
  });
}
