// The renderer contract: ONE behaviour table, checked on BOTH renderers by running what they
// render. One real nginx and one real Caddy (Debian's builds) serve the same spec on loopback
// in front of tiny origins; each row sends requests and asserts on the answers (status, the
// site that answered, cache decisions, a modifier's effect, the release headers, TLS to the
// origin), never on the rendered text (the golden files do that).
//
// Where the proxies differ by design, a row states the value per proxy, and docs/proxies.md's
// capability tables are the source ("What each proxy supports in Outpost"): Debian's Caddy has
// no cache module, so every request is proxied and `X-Cache-Status` is BYPASS or EDGE.
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, eventually, type Answer } from '../../test/support/http.js';
import { startOrigin, type TestOrigin } from '../../test/support/origin.js';
import { freePort } from '../../test/support/processes.js';
import { makeTestCa } from '../../test/support/tls.js';
import { compileEdgePlan } from '../compile/index.js';
import { caddyEnvironment, caddyError } from '../proxy-check/caddy-check.js';
import { writeReleaseFiles } from '../proxy-check/nginx-check.js';
import { renderNginxMain } from '../proxy-check/nginx-main.js';
import { parseSpec, type Spec } from '../spec/index.js';
import { CADDYFILE } from '../bundle/layout.js';
import { RENDERERS, rendererFor, type ProxyKind } from './renderer.js';

const run = promisify(execFile);
const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';
const RELEASE = 7;
const ADDRESS: Record<ProxyKind, string> = { nginx: '127.0.0.73', caddy: '127.0.0.74' };
const EDGE_NAME: Record<ProxyKind, string> = { nginx: 'contract-nginx', caddy: 'contract-caddy' };
const PROXIES = Object.keys(RENDERERS) as ProxyKind[];

type OriginName = 'www' | 'blog' | 'tls';
type PerProxy<T> = T | { nginx: T; caddy: T };

interface Request {
  host: string;
  /** `{p}` becomes the proxy kind, so each proxy has its own cache objects and origin counts. */
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

interface Row {
  name: string;
  request: Request;
  /** Sent this many times (cache rows: 2); the expectations are about the last answer. */
  times?: number;
  status: PerProxy<number>;
  /** The origin that answered (with the request's Host), or null: the edge answered itself. */
  origin: OriginName | null;
  /** How many requests reached that origin for this path after `times` requests. */
  originRequests?: PerProxy<number>;
  /** The SNI the origin saw. */
  sni?: string;
  body?: string;
  /** X-Cache-Status of each answer, in order. */
  cacheStatus?: PerProxy<string[]>;
  /** Other response headers (lower-case names); `{p}` as in the path. */
  headers?: Record<string, string>;
  /** Why the proxies differ, with the row of docs/proxies.md that says so. */
  differs?: string;
}

function perProxy<T>(v: PerProxy<T> | undefined, p: ProxyKind): T | undefined {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'nginx' in v) return v[p];
  return v;
}

const NO_CACHE_ON_CADDY =
  'docs/proxies.md, "Caching (cache rules, cache_ttl, bypass_cache)": Caddy (Debian 12, 2.6.2): no: every request is proxied';

const TABLE: Row[] = [
  // Which site answers for a Host, and the catch-all.
  {
    name: 'a site answers for its domain',
    request: { host: 'www.example.com', path: '/{p}/index' },
    status: 200,
    origin: 'www',
    body: 'origin says /{p}/index',
  },
  {
    name: 'an alias reaches the same site',
    request: { host: 'example.com', path: '/{p}/alias' },
    status: 200,
    origin: 'www',
  },
  {
    name: 'another domain reaches its own site',
    request: { host: 'blog.example.com', path: '/{p}/post' },
    status: 200,
    origin: 'blog',
  },
  {
    name: 'a wildcard domain answers for a name under it',
    request: { host: 'a.wild.example.com', path: '/{p}/wild' },
    status: 200,
    origin: 'blog',
  },
  {
    name: 'an unknown host gets 421 from the catch-all',
    request: { host: 'unknown.example', path: '/{p}/' },
    status: 421,
    origin: null,
    cacheStatus: ['EDGE'],
  },
  {
    name: 'the edge answers its own DNS health check',
    request: { host: 'health.outpost.invalid', path: '/.well-known/outpost/health' },
    status: 200,
    origin: null,
    body: `outpost edge ok release ${RELEASE}`,
  },
  // Cache decision per path.
  {
    name: 'a cache rule: stored, then served from the cache',
    request: { host: 'www.example.com', path: '/assets/{p}/logo.png' },
    times: 2,
    status: 200,
    origin: 'www',
    originRequests: { nginx: 1, caddy: 2 },
    cacheStatus: { nginx: ['MISS', 'HIT'], caddy: ['BYPASS', 'BYPASS'] },
    differs: NO_CACHE_ON_CADDY,
  },
  {
    name: 'a bypass rule: never cached',
    request: { host: 'www.example.com', path: '/api/{p}/x.png' },
    times: 2,
    status: 200,
    origin: 'www',
    originRequests: 2,
    cacheStatus: ['BYPASS', 'BYPASS'],
  },
  {
    name: 'a path no rule matches: never cached',
    request: { host: 'www.example.com', path: '/{p}/page' },
    times: 2,
    status: 200,
    origin: 'www',
    originRequests: 2,
    cacheStatus: ['BYPASS', 'BYPASS'],
  },
  {
    name: 'a request with Authorization: never cached',
    request: {
      host: 'www.example.com',
      path: '/assets/{p}/auth.png',
      headers: { authorization: 'Bearer x' },
    },
    times: 2,
    status: 200,
    origin: 'www',
    originRequests: 2,
    cacheStatus: ['BYPASS', 'BYPASS'],
  },
  {
    name: 'a cache_ttl modifier caches a path no rule matches',
    request: { host: 'www.example.com', path: '/t/{p}/z' },
    times: 2,
    status: 200,
    origin: 'www',
    originRequests: { nginx: 1, caddy: 2 },
    cacheStatus: { nginx: ['MISS', 'HIT'], caddy: ['BYPASS', 'BYPASS'] },
    differs: NO_CACHE_ON_CADDY,
  },
  // Modifiers.
  {
    name: 'a redirect modifier: its code and target, answered by the edge',
    request: { host: 'www.example.com', path: '/downloads/{p}/big.zip?v=2' },
    status: 301,
    origin: null,
    cacheStatus: ['EDGE'],
    headers: { location: 'https://static.example.com/downloads/{p}/big.zip?v=2' },
  },
  {
    name: 'a redirect modifier does not apply where its match does not',
    request: { host: 'www.example.com', path: '/downloads/{p}/notes.txt' },
    status: 200,
    origin: 'www',
  },
  {
    name: 'a deny modifier on a method',
    request: { host: 'www.example.com', path: '/{p}/thing', method: 'DELETE' },
    status: 403,
    origin: null,
    cacheStatus: ['EDGE'],
  },
  {
    name: 'a set_header modifier sets the response header',
    request: { host: 'www.example.com', path: '/x/{p}/y' },
    status: 200,
    origin: 'www',
    headers: { 'x-test': "it's here" },
  },
  {
    name: 'a modifier of one site does not reach another',
    request: { host: 'blog.example.com', path: '/x/{p}/y' },
    status: 200,
    origin: 'blog',
    headers: { 'x-test': '' },
  },
  // TLS to the origin.
  {
    name: 'an HTTPS origin verified against its tls_ca with the configured SNI',
    request: { host: 'tls.example.com', path: '/{p}/secure' },
    status: 200,
    origin: 'tls',
    sni: 'origin.test',
  },
  {
    name: 'an HTTPS origin whose certificate does not match the name: 502, fail closed',
    request: { host: 'wrong.example.com', path: '/{p}/secure' },
    status: 502,
    origin: null,
  },
  {
    name: 'an HTTPS origin not in the system trust store: 502, fail closed',
    request: { host: 'untrusted.example.com', path: '/{p}/secure' },
    status: 502,
    origin: null,
  },
  {
    name: 'verify_tls: false reaches the origin whatever its certificate',
    request: { host: 'noverify.example.com', path: '/{p}/secure' },
    status: 200,
    origin: 'tls',
    sni: 'origin.test',
  },
];

function specFor(
  ports: Record<ProxyKind, { http: number; https: number }>,
  o: {
    www: number;
    blog: number;
    tls: number;
    ca: string;
  },
): Spec {
  const tls = (domain: string, extra: Record<string, unknown>) => ({
    domain,
    origins: [{ host: { v4: '127.0.0.1' }, port: o.tls, tls_server_name: 'origin.test', ...extra }],
  });
  return parseSpec({
    edges: PROXIES.map((p) => ({
      name: EDGE_NAME[p],
      host: { v4: ADDRESS[p] },
      proxy: p,
      listen: { addresses: [ADDRESS[p]], http: ports[p].http, https: ports[p].https },
    })),
    sites: [
      {
        domain: 'www.example.com',
        aliases: ['example.com'],
        origins: [{ host: { v4: '127.0.0.1' }, port: o.www, protocol: 'http' }],
        cache: {
          rules: [
            { match: { paths: ['/api/*'] }, action: 'bypass' },
            { match: { paths: ['/assets/*'] }, ttl: 600 },
          ],
        },
        modifiers: [
          {
            match: { paths: ['/downloads/*'], extensions: ['zip'] },
            action: { type: 'redirect', status: 301, target: 'https://static.example.com{uri}' },
          },
          { match: { methods: ['DELETE'] }, action: { type: 'deny' } },
          {
            match: { paths: ['/x/*'] },
            action: { type: 'set_header', name: 'X-Test', value: "it's here" },
          },
          { match: { paths: ['/t/*'] }, action: { type: 'cache_ttl', ttl: 60 } },
        ],
      },
      {
        domain: 'blog.example.com',
        origins: [{ host: { v4: '127.0.0.1' }, port: o.blog, protocol: 'http' }],
      },
      {
        domain: '*.wild.example.com',
        origins: [{ host: { v4: '127.0.0.1' }, port: o.blog, protocol: 'http' }],
      },
      tls('tls.example.com', { tls_ca: o.ca }),
      tls('wrong.example.com', { tls_server_name: 'not-origin.test', tls_ca: o.ca }),
      tls('untrusted.example.com', {}),
      tls('noverify.example.com', { verify_tls: false }),
    ],
  });
}

/** A running proxy serving the release of its edge; stop() ends only what it started. */
interface LiveEdge {
  stop: () => Promise<void>;
}

async function startNginx(root: string, spec: Spec, p: ProxyKind): Promise<LiveEdge> {
  const files = rendererFor(p).render(compileEdgePlan(spec, EDGE_NAME[p]), {
    release: RELEASE,
    certificates: [],
  });
  await writeReleaseFiles(join(root, 'releases', String(RELEASE)), files);
  for (const d of ['live', 'logs', 'tmp', 'cache']) await mkdir(join(root, d));
  await writeFile(
    join(root, 'live', 'nginx.conf'),
    renderNginxMain({ edgeName: EDGE_NAME[p], workerProcesses: 1 }),
  );
  await symlink(join('..', 'releases', String(RELEASE)), join(root, 'live', 'release'));
  const args = ['-p', `${root}/`, '-c', join(root, 'live', 'nginx.conf')];
  await run(NGINX, args); // fails the test loudly with nginx's words if it cannot start
  return {
    stop: async () => {
      if (existsSync(join(root, 'logs', 'nginx.pid'))) await run(NGINX, [...args, '-s', 'stop']);
    },
  };
}

async function startCaddy(root: string, spec: Spec, p: ProxyKind): Promise<LiveEdge> {
  const files = rendererFor(p).render(compileEdgePlan(spec, EDGE_NAME[p]), {
    release: RELEASE,
    certificates: [],
  });
  const release = join(root, 'releases', String(RELEASE));
  await writeReleaseFiles(release, files);
  const env = caddyEnvironment(release, join(root, 'home'));
  // As the agent does (agent/caddy.ts): adapt, then an admin socket of our own, no persistence.
  const adapted = await run(
    CADDY,
    ['adapt', '--config', join(release, CADDYFILE), '--adapter', 'caddyfile'],
    { env },
  ).catch((e: Error & { stderr?: string }) => {
    throw new Error(`caddy adapt: ${caddyError(e.stderr ?? e.message)}`);
  });
  const config = JSON.parse(adapted.stdout) as Record<string, unknown>;
  config.admin = { listen: `unix/${join(root, 'admin.sock')}`, config: { persist: false } };
  config.storage = { module: 'file_system', root: join(root, 'home', 'data') };
  const json = join(root, 'caddy.json');
  await writeFile(json, JSON.stringify(config));
  let output = '';
  const child: ChildProcess = spawn(CADDY, ['run', '--config', json], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  await eventually(`caddy serving on ${ADDRESS[p]}`, async () => {
    if (exited) throw new Error(`caddy exited: ${caddyError(output)}`);
    return (await get(p, { host: 'unknown.example', path: '/' }).catch(() => undefined))?.status;
  });
  return {
    stop: async () => {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const START: Record<ProxyKind, typeof startNginx> = { nginx: startNginx, caddy: startCaddy };
let ports: Record<ProxyKind, { http: number; https: number }>;

function get(p: ProxyKind, r: Request): Promise<Answer> {
  return httpGet(`http://${ADDRESS[p]}:${ports[p].http}${r.path.replaceAll('{p}', p)}`, {
    host: r.host,
    ...(r.method !== undefined ? { method: r.method } : {}),
    ...(r.headers !== undefined ? { headers: r.headers } : {}),
  });
}

describe('renderer contract: one behaviour table on a real nginx and a real Caddy', () => {
  let root = '';
  const origins = {} as Record<OriginName, TestOrigin>;
  const edges: LiveEdge[] = [];

  beforeAll(async () => {
    expect(existsSync(NGINX) && existsSync(CADDY)).toBe(true); // scripts/prepare-test.sh
    root = await mkdtemp(join(tmpdir(), 'outpost-contract-'));
    await chmod(root, 0o755); // nginx workers run as nobody when the test runs as root
    const pki = join(root, 'pki');
    await mkdir(pki);
    const ca = makeTestCa(pki);
    origins.www = await startOrigin({});
    origins.blog = await startOrigin({});
    origins.tls = await startOrigin({ tls: ca.issue('origin', ['origin.test']) });
    ports = {} as typeof ports;
    for (const p of PROXIES)
      ports[p] = { http: await freePort(ADDRESS[p]), https: await freePort(ADDRESS[p]) };
    const spec = specFor(ports, {
      www: origins.www.port,
      blog: origins.blog.port,
      tls: origins.tls.port,
      ca: ca.caCert,
    });
    for (const p of PROXIES) {
      const dir = join(root, p);
      await mkdir(dir);
      await chmod(dir, 0o755);
      edges.push(await START[p](dir, spec, p));
    }
  }, 60_000);

  afterAll(async () => {
    for (const e of edges) await e.stop();
    for (const o of Object.values(origins)) await o.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('every proxy kind has a renderer, and the table covers each kind', () => {
    expect(PROXIES.sort()).toEqual(['caddy', 'nginx']);
    for (const p of PROXIES) expect(rendererFor(p).proxy).toBe(p);
    // A row that differs between the proxies says why.
    for (const row of TABLE) {
      const split = [row.status, row.originRequests, row.cacheStatus].some(
        (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
      );
      expect(split ? row.differs : 'same').toBeTruthy();
    }
  });

  for (const p of PROXIES)
    describe(p, () => {
      for (const row of TABLE)
        it(row.name, async () => {
          const sub = (s: string) => s.replaceAll('{p}', p);
          const path = sub(row.request.path).split('?')[0] ?? '';
          const before = Object.fromEntries(
            (Object.keys(origins) as OriginName[]).map((o) => [o, origins[o].count(path)]),
          );
          const answers: Answer[] = [];
          for (let i = 0; i < (row.times ?? 1); i++) answers.push(await get(p, row.request));
          const last = answers.at(-1) as Answer;

          expect(last.status).toBe(perProxy(row.status, p));
          // The release headers are on every answer, the edge's own ones included.
          expect(last.headers['x-cdn-node']).toBe(EDGE_NAME[p]);
          expect(last.headers['x-outpost-release']).toBe(String(RELEASE));
          if (row.body !== undefined) expect(last.body).toBe(sub(row.body));
          const cache = perProxy(row.cacheStatus, p);
          if (cache !== undefined)
            expect(answers.map((a) => a.headers['x-cache-status'])).toEqual(cache);
          for (const [name, value] of Object.entries(row.headers ?? {}))
            expect(last.headers[name] ?? '').toBe(sub(value));

          // Which origin answered: the expected one saw the request with the request's Host
          // (and SNI), the others saw nothing of this path.
          for (const o of Object.keys(origins) as OriginName[]) {
            const reached = origins[o].count(path) - (before[o] ?? 0);
            if (o !== row.origin) {
              expect(reached, `origin ${o}`).toBe(0);
              continue;
            }
            expect(reached).toBe(perProxy(row.originRequests, p) ?? row.times ?? 1);
            const seen = origins[o].seen.filter((s) => s.path === path).at(-1);
            expect(seen?.host).toBe(row.request.host);
            if (row.sni !== undefined) expect(seen?.sni).toBe(row.sni);
          }
        });
    });
});
