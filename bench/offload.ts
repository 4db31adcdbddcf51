// `npm run bench:offload`: origin offload of a real Outpost nginx edge. For each concurrency
// (100 and 1,000 by default), `--rounds` rounds: N clients ask at once for the same object,
// new in each round (cold); the table gives the origin fetches that caused (1 is perfect) and
// the clients' time to first byte (p50/p99, medians over the rounds). The origin (node, on
// loopback) takes --origin-ms to answer 100 KiB with `Cache-Control: max-age=3600`, so the
// requests overlap the fetch. The edge is this tree's rendering (one cache rule for every
// path), laid out as the agent does, one nginx worker. Loopback only, bounded; it never fails
// on a number.
//
//   npm run bench:offload -- --concurrency 100,1000 --rounds 3 --origin-ms 200
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stdio as out, table } from '../src/cli/output.js';
import { compileEdgePlan } from '../src/compile/index.js';
import { renderNginxMain } from '../src/proxy-check/nginx-main.js';
import { renderNginx } from '../src/render/index.js';
import { parseSpec } from '../src/spec/index.js';

const NGINX = '/usr/sbin/nginx';
const HOST = 'offload.example.com';
const ADDRESS = '127.0.0.61';
const PORT = 18_061;

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '100,1000' },
    rounds: { type: 'string', default: '3' },
    'origin-ms': { type: 'string', default: '200' },
  },
});
function whole(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    out.error(`--${name} must be whole numbers from 1 to ${max}`);
    process.exit(2);
  }
  return n;
}
const LEVELS = args.concurrency.split(',').map((v) => whole('concurrency', v, 2000));
const ROUNDS = whole('rounds', args.rounds, 20);
const ORIGIN_MS = whole('origin-ms', args['origin-ms'], 10_000);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

const workerUser = (() => {
  try {
    execFileSync('id', ['-u', 'www-data']);
    return process.getuid?.() === 0 ? 'www-data' : undefined;
  } catch {
    return undefined;
  }
})();

/** One client: resolves with its time to first byte (ms) and the cache status. */
function client(
  agent: Agent,
  path: string,
): Promise<{ ttfb: number; status: number; cache: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: ADDRESS, port: PORT, path, headers: { host: HOST }, agent, timeout: 60_000 },
      (res) => {
        const ttfb = performance.now() - t0;
        res.resume();
        res.on('end', () =>
          resolve({
            ttfb,
            status: res.statusCode ?? 0,
            cache: String(res.headers['x-cache-status'] ?? ''),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'outpost-bench-offload-'));
  const fetches = new Map<string, number>();
  const body = Buffer.alloc(100 * 1024, 'x');
  const origin = createServer((req, res) => {
    fetches.set(req.url ?? '', (fetches.get(req.url ?? '') ?? 0) + 1);
    setTimeout(() => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'cache-control': 'max-age=3600',
        'content-length': body.length,
      });
      res.end(body);
    }, ORIGIN_MS);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const nginx = (...extra: string[]) =>
    execFileSync(NGINX, [
      '-p',
      `${root}/`,
      '-e',
      join(root, 'logs', 'error.log'),
      '-c',
      join(root, 'live', 'nginx.conf'),
      ...extra,
    ]);
  let started = false;
  try {
    const spec = parseSpec({
      edges: [
        {
          name: 'offload',
          host: { v4: ADDRESS },
          listen: { addresses: [ADDRESS], http: PORT, https: PORT + 1 },
        },
      ],
      sites: [
        {
          domain: HOST,
          origins: [{ host: { v4: '127.0.0.1' }, port: originPort, protocol: 'http' }],
          cache: { rules: [{ match: { paths: ['/*'] } }] },
        },
      ],
    });
    for (const f of renderNginx(compileEdgePlan(spec, 'offload'), {
      release: 1,
      certificates: [],
    })) {
      mkdirSync(join(root, 'releases', '1', f.path, '..'), { recursive: true });
      writeFileSync(join(root, 'releases', '1', f.path), f.content);
    }
    for (const d of ['logs', 'tmp', 'cache', 'live']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(
      join(root, 'live', 'nginx.conf'),
      renderNginxMain({
        edgeName: 'offload',
        workerProcesses: 1,
        ...(workerUser ? { user: workerUser } : {}),
      }),
    );
    execFileSync('ln', ['-sfn', '../releases/1', join(root, 'live', 'release')]);
    if (workerUser) execFileSync('chown', ['-R', `${workerUser}:${workerUser}`, root]);
    nginx();
    started = true;
    await new Promise((r) => setTimeout(r, 300));

    const rows = [
      ['concurrent', 'rounds', 'origin fetches', 'TTFB p50', 'TTFB p99', 'statuses', 'cache'],
    ];
    for (const n of LEVELS) {
      const perRound: { fetches: number; p50: number; p99: number }[] = [];
      const statuses = new Map<string, number>();
      const caches = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const path = `/object-${n}-${round}-${Date.now()}`;
        const agent = new Agent({ keepAlive: false, maxSockets: n });
        const results = await Promise.all(
          Array.from({ length: n }, () =>
            client(agent, path).catch(() => ({ ttfb: NaN, status: 0, cache: 'error' })),
          ),
        );
        agent.destroy();
        for (const r of results) {
          statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
          caches.set(r.cache, (caches.get(r.cache) ?? 0) + 1);
        }
        const ttfbs = results.map((r) => r.ttfb).filter((t) => !Number.isNaN(t));
        ttfbs.sort((a, b) => a - b);
        perRound.push({
          fetches: fetches.get(path) ?? 0,
          p50: percentile(ttfbs, 50),
          p99: percentile(ttfbs, 99),
        });
      }
      const count = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}: ${v}`).join(', ');
      rows.push([
        String(n),
        String(ROUNDS),
        perRound.map((r) => r.fetches).join(' / '),
        `${median(perRound.map((r) => r.p50)).toFixed(0)} ms`,
        `${median(perRound.map((r) => r.p99)).toFixed(0)} ms`,
        count(statuses),
        count(caches),
      ]);
    }
    out.line(`origin answers in ${ORIGIN_MS} ms (100 KiB); one nginx worker on ${ADDRESS}`);
    out.line(table(rows));
  } finally {
    if (started) {
      try {
        nginx('-s', 'stop');
      } catch {
        // already gone
      }
    }
    origin.close();
    await new Promise((r) => setTimeout(r, 300));
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
