// `npm run bench:edge`: cache-hit requests/s of an nginx edge, side by side in one run:
//
//   minimal   a hand-written minimal proxy_cache config (no access log, no filters)
//   before    Outpost's rendering at a base commit (`--before`, default: the commit this
//             branch started from), extracted with `git archive` and imported as it was
//   after     Outpost's rendering of this tree
//   after, http_filters: false   the same site without the njs filters (docs/spec.md)
//   after, waf: block             the same site with the WAF (OWASP CRS on ModSecurity,
//             paranoia 1, block mode; docs/waf.md): the "vs after" column is the WAF's cost
//
// Each is a real nginx (one worker) on its own loopback address, in front of one node origin
// answering 1 KiB with `Cache-Control: max-age=3600`; the object is warmed, then `wrk` (Debian's
// package) runs `--rounds` rounds of `--seconds` s per config, interleaved, and the table gives
// the median requests/s and p99 latency, and the nginx worker's CPU time per request (from
// /proc: steadier than requests/s when other work shares the cores). Each round starts one config
// later. Loopback only, bounded, and it never fails on a number.
//
//   --candidates   minimal, after, hand-edited renderings (bench/edge-candidates.ts: the njs
//                  filters split, the same filters in Lua, pcre_jit), http_filters: false.
//                  The Lua ones need Debian's libnginx-mod-http-lua (not a dependency of Outpost).
//   --breakdown    minimal, after, http_filters: false without its access log, its add_header
//                  lines, its rule set/if, and without all three
//   --njs-parts    minimal, after, the njs header filter cut down step by step, http_filters: false
//
//   npm run bench:edge -- --rounds 3 --seconds 5 --connections 64
import { execFile, execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stdio as out, table } from '../src/cli/output.js';
import { httpGet } from '../test/support/http.js';
import {
  breakdown,
  luaFilters,
  luaHeaderFilterOnly,
  njsBodyFilterOnly,
  njsEmptyHeaderFilter,
  njsHeaderFilterOnly,
  njsParts,
  withPcreJit,
} from './edge-candidates.js';

const NGINX = '/usr/sbin/nginx';
const WRK = '/usr/bin/wrk';
const HOST = 'bench.example.com';
const ROOT = join(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    before: { type: 'string', default: 'e2dc38d' },
    // Hand-edited renderings of this tree's default site measured beside it (docs/benchmarks.md).
    candidates: { type: 'boolean', default: false },
    breakdown: { type: 'boolean', default: false },
    'njs-parts': { type: 'boolean', default: false },
  },
});
const LUA_MODULE = '/usr/lib/nginx/modules/ngx_http_lua_module.so';
if (args.candidates && !existsSync(LUA_MODULE)) {
  out.error(
    `--candidates measures Lua filters: ${LUA_MODULE} is missing (apt-get install libnginx-mod-http-lua)`,
  );
  process.exit(2);
}
const ROUNDS = positive('rounds', args.rounds, 20);
const SECONDS = positive('seconds', args.seconds, 60);
const CONNECTIONS = positive('connections', args.connections, 1024);
if (!/^[0-9a-f]{7,40}$/.test(args.before)) {
  out.error('--before must be a commit id (hex)');
  process.exit(2);
}

function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    out.error(`--${name} must be a whole number from 1 to ${max}`);
    process.exit(2);
  }
  return n;
}

interface RenderModules {
  parseSpec: (input: unknown) => unknown;
  compileEdgePlan: (spec: unknown, edge: string) => unknown;
  renderNginx: (
    plan: unknown,
    opts: { release: number; certificates: string[] },
  ) => {
    path: string;
    content: string;
  }[];
  renderNginxMain: (opts: { edgeName: string; workerProcesses?: number; user?: string }) => string;
}

/** The render modules of `src` (this tree's or an extracted one's). */
async function renderModules(src: string): Promise<RenderModules> {
  const spec = (await import(join(src, 'spec', 'index.ts'))) as Pick<RenderModules, 'parseSpec'>;
  const compile = (await import(join(src, 'compile', 'index.ts'))) as Pick<
    RenderModules,
    'compileEdgePlan'
  >;
  const render = (await import(join(src, 'render', 'nginx.ts'))) as Pick<
    RenderModules,
    'renderNginx' | 'renderNginxMain'
  >;
  // The main nginx.conf moved from render/ to proxy-check/ (issue 11).
  const main = existsSync(join(src, 'proxy-check', 'nginx-main.ts'))
    ? ((await import(join(src, 'proxy-check', 'nginx-main.ts'))) as Pick<
        RenderModules,
        'renderNginxMain'
      >)
    : render;
  return { ...spec, ...compile, ...render, renderNginxMain: main.renderNginxMain };
}

/** `src/` of `commit`, extracted under node_modules/.cache so its imports resolve. */
function extractSource(commit: string): string {
  const dir = join(ROOT, 'node_modules', '.cache', 'outpost-bench-edge', commit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', ROOT, 'archive', commit, 'src'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return join(dir, 'src');
}

const workerUser = (() => {
  try {
    return {
      name: 'www-data',
      uid: Number(execFileSync('id', ['-u', 'www-data']).toString()),
      gid: Number(execFileSync('id', ['-g', 'www-data']).toString()),
    };
  } catch {
    return undefined;
  }
})();

interface Edge {
  name: string;
  address: string;
  port: number;
  root: string;
}

function writeTree(root: string, files: { path: string; content: string }[]): void {
  for (const f of files) {
    mkdirSync(join(root, f.path, '..'), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
}

function prepareRoot(root: string): void {
  for (const d of ['logs', 'tmp', 'cache', 'live']) mkdirSync(join(root, d), { recursive: true });
  if (process.getuid?.() === 0 && workerUser)
    execFileSync('chown', ['-R', `${workerUser.uid}:${workerUser.gid}`, root]);
  else if (workerUser) chownSync(root, workerUser.uid, workerUser.gid);
}

interface SiteOptions {
  httpFilters?: boolean;
  waf?: boolean;
}

function specFor(edge: Edge, originPort: number, o: SiteOptions = {}): unknown {
  return {
    edges: [
      {
        name: 'bench',
        host: { v4: edge.address },
        listen: { addresses: [edge.address], http: edge.port, https: edge.port + 1 },
      },
    ],
    sites: [
      {
        domain: HOST,
        origins: [{ host: { v4: '127.0.0.1' }, port: originPort, protocol: 'http' }],
        cache: {
          rules: [{ match: { paths: ['/*'] } }],
          ...(o.httpFilters === undefined ? {} : { http_filters: o.httpFilters }),
        },
        ...(o.waf === true ? { waf: { enabled: true, mode: 'block', paranoia: 1 } } : {}),
      },
    ],
  };
}

type Files = { path: string; content: string }[];

/** An Outpost edge laid out as the agent does: releases/1, live/nginx.conf, live/release. */
function outpostEdge(
  edge: Edge,
  m: RenderModules,
  originPort: number,
  o: SiteOptions = {},
  edit: (files: Files) => Files = (f) => f,
): void {
  const plan = m.compileEdgePlan(m.parseSpec(specFor(edge, originPort, o)), 'bench');
  writeTree(
    join(edge.root, 'releases', '1'),
    edit(m.renderNginx(plan, { release: 1, certificates: [] })),
  );
  mkdirSync(join(edge.root, 'live'), { recursive: true });
  writeFileSync(
    join(edge.root, 'live', 'nginx.conf'),
    m.renderNginxMain({
      edgeName: 'bench',
      workerProcesses: 1,
      ...(workerUser && process.getuid?.() === 0 ? { user: workerUser.name } : {}),
    }),
  );
  execFileSync('ln', ['-sfn', '../releases/1', join(edge.root, 'live', 'release')]);
}

function minimalEdge(edge: Edge, originPort: number): void {
  const user = workerUser && process.getuid?.() === 0 ? `user ${workerUser.name};\n` : '';
  mkdirSync(join(edge.root, 'live'), { recursive: true });
  writeFileSync(
    join(edge.root, 'live', 'nginx.conf'),
    `${user}worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    proxy_temp_path tmp/proxy;
    client_body_temp_path tmp/client_body;
    proxy_cache_path cache/min levels=1:2 keys_zone=min:16m inactive=7d use_temp_path=off;
    upstream origin { server 127.0.0.1:${originPort}; keepalive 32; }
    server {
        listen ${edge.address}:${edge.port};
        server_name ${HOST};
        location / {
            proxy_cache min;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://origin;
        }
    }
}
`,
  );
}

function nginx(edge: Edge, extra: string[]): void {
  execFileSync(NGINX, [
    '-p',
    `${edge.root}/`,
    '-e',
    join(edge.root, 'logs', 'error.log'),
    '-c',
    join(edge.root, 'live', 'nginx.conf'),
    ...extra,
  ]);
}

async function warm(edge: Edge): Promise<string> {
  let status = '';
  for (let i = 0; i < 3; i++) {
    const r = await httpGet(`http://${edge.address}:${edge.port}/object`, { host: HOST });
    const age = r.headers.age === undefined ? '' : ` Age ${String(r.headers.age)}`;
    status = `${r.status} ${r.headers['x-cache-status'] ?? ''}${age}`.trim();
  }
  return status;
}

interface Round {
  rps: number;
  p99: string;
  /** CPU time (user + system) of the nginx worker per request, in microseconds. */
  cpuUs: number;
}

/** The CPU time (user + system, clock ticks) of the nginx worker of `edge` (one worker). */
function workerTicks(edge: Edge): number {
  const master = readFileSync(join(edge.root, 'logs', 'nginx.pid'), 'utf8').trim();
  const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim();
  const worker = children.split(/\s+/)[0];
  if (worker === undefined || worker === '') throw new Error(`${edge.name}: no nginx worker`);
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${worker}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function wrk(edge: Edge): Promise<Round> {
  const ticks = workerTicks(edge);
  return new Promise((resolve, reject) => {
    execFile(
      WRK,
      [
        '-t1',
        `-c${CONNECTIONS}`,
        `-d${SECONDS}s`,
        '--latency',
        '-H',
        `Host: ${HOST}`,
        `http://${edge.address}:${edge.port}/object`,
      ],
      { timeout: (SECONDS + 30) * 1000 },
      (error, stdout) => {
        if (error) {
          reject(new Error(`wrk failed: ${error.message}`));
          return;
        }
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
        const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
        const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
        const cpuUs = ((workerTicks(edge) - ticks) * TICK_US) / requests;
        resolve({ rps, p99, cpuUs });
      },
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const body = Buffer.alloc(1024, 'x');
  let originRequests = 0;
  const origin = createServer((_req, res) => {
    originRequests++;
    res.setHeader('cache-control', 'max-age=3600');
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-bench-edge-'));
  execFileSync('chmod', ['755', tmp]);
  const port = 20_000 + (process.pid % 20_000);
  type Setup = (edge: Edge, current: RenderModules) => Promise<void> | void;
  const configs: [string, Setup][] = [
    ['minimal', (e) => minimalEdge(e, originPort)],
    ['after', (e, m) => outpostEdge(e, m, originPort)],
    ...(args.candidates || args.breakdown || args['njs-parts']
      ? []
      : ([
          [
            'before',
            async (e) =>
              outpostEdge(e, await renderModules(extractSource(args.before)), originPort),
          ],
        ] satisfies [string, Setup][])),
    ...(args.candidates
      ? ([
          [
            'njs: empty header filter',
            (e, m) => outpostEdge(e, m, originPort, {}, njsEmptyHeaderFilter),
          ],
          [
            'njs: header filter only',
            (e, m) => outpostEdge(e, m, originPort, {}, njsHeaderFilterOnly),
          ],
          ['njs: body filter only', (e, m) => outpostEdge(e, m, originPort, {}, njsBodyFilterOnly)],
          [
            'lua: Age + 502 + invalidation',
            (e, m) => outpostEdge(e, m, originPort, {}, luaFilters),
          ],
          [
            'lua: header filter only',
            (e, m) => outpostEdge(e, m, originPort, {}, luaHeaderFilterOnly),
          ],
          ['after, pcre_jit', (e, m) => outpostEdge(e, m, originPort, {}, withPcreJit())],
          [
            'lua: Age + 502 + invalidation, pcre_jit',
            (e, m) => outpostEdge(e, m, originPort, {}, withPcreJit(luaFilters)),
          ],
          [
            'http_filters: false, pcre_jit',
            (e, m) => outpostEdge(e, m, originPort, { httpFilters: false }, withPcreJit()),
          ],
        ] satisfies [string, Setup][])
      : []),
    ['after, http_filters: false', (e, m) => outpostEdge(e, m, originPort, { httpFilters: false })],
    ...Object.entries(args['njs-parts'] ? njsParts : {}).map(([name, f]): [string, Setup] => [
      `njs header filter: ${name}`,
      (e, m) => outpostEdge(e, m, originPort, {}, f),
    ]),
    ...Object.entries(args.breakdown ? breakdown : {}).map(([name, f]): [string, Setup] => [
      `http_filters: false, ${name}`,
      (e, m) => outpostEdge(e, m, originPort, { httpFilters: false }, f),
    ]),
    ...(args.candidates || args.breakdown || args['njs-parts']
      ? []
      : ([['after, waf: block', (e, m) => outpostEdge(e, m, originPort, { waf: true })]] satisfies [
          string,
          Setup,
        ][])),
  ];
  const edges: Edge[] = configs.map(([name], i) => ({
    name,
    address: `127.0.0.${71 + i}`,
    port,
    root: join(tmp, `e${i}`),
  }));
  const [minimal, after] = edges as [Edge, Edge];
  const started: Edge[] = [];
  try {
    const current = await renderModules(join(ROOT, 'src'));
    for (const [i, [, setup]] of configs.entries()) await setup(edges[i] as Edge, current);
    for (const e of edges) {
      prepareRoot(e.root);
      nginx(e, ['-t', '-q']);
      nginx(e, []);
      started.push(e);
    }
    const warmed = await Promise.all(edges.map(warm));
    out.line(
      `1 KiB cache hits, wrk -t1 -c${CONNECTIONS}, ${ROUNDS} rounds of ${SECONDS} s per config (interleaved), nginx 1 worker:`,
    );
    const results = new Map<string, Round[]>();
    const fetchesBefore = originRequests;
    // Each round starts one config later, so no config always runs first (or after the same one).
    for (let round = 0; round < ROUNDS; round++)
      for (let k = 0; k < edges.length; k++) {
        const e = edges[(round + k) % edges.length] as Edge;
        const r = await wrk(e);
        results.set(e.name, [...(results.get(e.name) ?? []), r]);
      }
    const rows = [
      [
        'config',
        'warm answer',
        'median req/s',
        'vs minimal',
        'vs after',
        'rounds req/s',
        'p99 (median round)',
        'worker CPU/request',
        'vs minimal (CPU)',
      ],
    ];
    const minimalRps = median((results.get(minimal.name) ?? []).map((r) => r.rps));
    const afterRps = median((results.get(after.name) ?? []).map((r) => r.rps));
    const minimalCpu = median((results.get(minimal.name) ?? []).map((r) => r.cpuUs));
    edges.forEach((e, i) => {
      const rs = results.get(e.name) ?? [];
      const m = median(rs.map((r) => r.rps));
      const ratio = afterRps > 0 ? `${(m / afterRps).toFixed(2)}x` : '?';
      const mid = rs.find((r) => r.rps === m);
      rows.push([
        e.name === 'before' ? `before (${args.before})` : e.name,
        warmed[i] ?? '',
        m.toFixed(0),
        minimalRps > 0 ? `${(m / minimalRps).toFixed(2)}x` : '?',
        ratio,
        rs.map((r) => r.rps.toFixed(0)).join(' '),
        mid?.p99 ?? '?',
        `${median(rs.map((r) => r.cpuUs)).toFixed(1)} µs`,
        `${(minimalCpu / median(rs.map((r) => r.cpuUs))).toFixed(2)}x`,
      ]);
    });
    out.line(table(rows));
    // Every config serves hits: the origin sees no request while wrk runs (1 KiB, max-age=3600).
    out.line(`origin requests during the rounds: ${originRequests - fetchesBefore}`);
  } finally {
    for (const e of started) {
      try {
        nginx(e, ['-s', 'quit']);
      } catch {
        /* already gone */
      }
    }
    origin.close();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
