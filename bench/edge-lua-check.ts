// `npx tsx bench/edge-lua-check.ts`: does the Lua candidate of `bench:edge --candidates`
// (bench/edge-candidates.ts) behave as the njs filters do? A real nginx edge with the candidate
// rendering of two default sites, one in front of an HTTP origin whose Date is 10 s old, one in
// front of a TCP origin answering non-HTTP bytes; prints each check and exits 1 when one fails.
// Needs Debian's libnginx-mod-http-lua. Loopback only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stdio as out, table } from '../src/cli/output.js';
import { compileEdgePlan } from '../src/compile/index.js';
import { renderNginxMain } from '../src/proxy-check/nginx-main.js';
import { renderNginx } from '../src/render/nginx.js';
import { parseSpec } from '../src/spec/index.js';
import { httpGet } from '../test/support/http.js';
import { luaFilters } from './edge-candidates.js';

const ADDRESS = '127.0.0.94';
const HOST = 'bench.example.com';
const GARBAGE_HOST = 'garbage.example.com';

const origin = createServer((req, res) => {
  if (req.method === 'POST') {
    res.end('posted');
    return;
  }
  res.setHeader('cache-control', 'max-age=3600');
  res.setHeader('date', new Date(Date.now() - 10_000).toUTCString());
  if (req.url === '/aged') res.setHeader('age', '500');
  res.end(`object ${Date.now()}`);
});
const garbage = createTcpServer((s) => s.once('data', () => s.end('this is not HTTP at all\n')));
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
const port = 30_000 + (process.pid % 20_000);
const site = (domain: string, originPort: number) => ({
  domain,
  origins: [{ host: { v4: '127.0.0.1' }, port: originPort, protocol: 'http' }],
  cache: { rules: [{ match: { paths: ['/*'] } }] },
});
const spec = {
  edges: [
    {
      name: 'check',
      host: { v4: ADDRESS },
      listen: { addresses: [ADDRESS], http: port, https: port + 1 },
    },
  ],
  sites: [
    site(HOST, (origin.address() as AddressInfo).port),
    site(GARBAGE_HOST, (garbage.address() as AddressInfo).port),
  ],
};
const root = mkdtempSync(join(tmpdir(), 'outpost-lua-check-'));
const files = luaFilters(
  renderNginx(compileEdgePlan(parseSpec(spec), 'check'), { release: 1, certificates: [] }),
);
for (const f of files) {
  mkdirSync(join(root, 'releases', '1', f.path, '..'), { recursive: true });
  writeFileSync(join(root, 'releases', '1', f.path), f.content);
}
for (const d of ['logs', 'tmp', 'cache', 'live']) mkdirSync(join(root, d), { recursive: true });
const root0 = process.getuid?.() === 0 ? { user: 'root' } : {};
writeFileSync(
  join(root, 'live', 'nginx.conf'),
  renderNginxMain({ edgeName: 'check', workerProcesses: 1, ...root0 }),
);
execFileSync('ln', ['-sfn', '../releases/1', join(root, 'live', 'release')]);
const nginx = (extra: string[]) =>
  execFileSync('/usr/sbin/nginx', [
    '-p',
    `${root}/`,
    '-e',
    join(root, 'logs', 'error.log'),
    '-c',
    join(root, 'live', 'nginx.conf'),
    ...extra,
  ]);

/** The raw bytes an HTTP/1.1 client gets for `path` on `host` (read until close, ≤ 5 s). */
function raw(host: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const s = connect(port, ADDRESS, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

const url = (path: string) => `http://${ADDRESS}:${port}${path}`;
const rows: string[][] = [['check', 'expected', 'got', '']];
const check = (what: string, expected: string, got: string) =>
  rows.push([what, expected, got, expected === got ? 'ok' : 'FAILED']);
nginx([]);
try {
  const first = await httpGet(url('/object'), { host: HOST });
  const hit = await httpGet(url('/object'), { host: HOST });
  check(
    'first answer',
    'MISS, no Age',
    `${first.headers['x-cache-status']}, ${first.headers.age === undefined ? 'no Age' : `Age ${first.headers.age}`}`,
  );
  // The Date has whole seconds: 10 s ago is an age of 10 or 11.
  const age = Number(hit.headers.age);
  check(
    'hit of a 10 s old answer',
    'HIT, Age 10-11',
    `${hit.headers['x-cache-status']}, Age ${age === 10 || age === 11 ? '10-11' : String(hit.headers.age)}`,
  );
  await httpGet(url('/aged'), { host: HOST });
  const aged = await httpGet(url('/aged'), { host: HOST });
  check(
    'hit of an answer stored with Age: 500',
    'HIT, Age 500',
    `${aged.headers['x-cache-status']}, Age ${aged.headers.age}`,
  );
  const post = await httpGet(url('/object'), { host: HOST, method: 'POST' });
  const after = await httpGet(url('/object'), { host: HOST });
  check(
    'GET after a successful POST',
    '200, MISS, new body',
    `${post.status}, ${after.headers['x-cache-status']}, ${after.body === first.body ? 'stored body' : 'new body'}`,
  );
  const bad = await httpGet(url('/x'), { host: GARBAGE_HOST }).then(
    (a) => `${a.status} ${a.headers['content-type']}`,
    (e: unknown) => `not HTTP (${e instanceof Error ? e.message : String(e)})`,
  );
  check('non-HTTP origin (Node client)', '502 text/plain', bad);
  const bytes = await raw(GARBAGE_HOST, '/y');
  check(
    'non-HTTP origin (raw HTTP/1.1)',
    'HTTP/1.1 502 Bad Gateway, no origin bytes',
    `${bytes.split('\r\n')[0]}, ${bytes.includes('not HTTP at all') ? 'origin bytes relayed' : 'no origin bytes'}`,
  );
} finally {
  nginx(['-s', 'quit']);
  origin.close();
  garbage.close();
  setTimeout(() => rmSync(root, { recursive: true, force: true }), 500);
}
out.line(table(rows));
if (rows.some((r) => r[3] === 'FAILED')) process.exitCode = 1;
