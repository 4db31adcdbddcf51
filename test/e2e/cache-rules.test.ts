// Cache rules through real nginx edges (issue 8): one test per rule kind (status and content
// type matches, TTL only when the origin is silent vs forced, bypass, cache keys without the
// query or with listed parameters, ignored cookies on static objects, browser TTL,
// Authorization, private/no-store), ranges of a 20 MB object (whole and sliced), and
// Vary/Accept-Encoding with gzip at the edge.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { httpGetRaw, type RawAnswer } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';

const HOST = 'rules.test';
const GZ_HOST = 'gz.test';
type EdgeName = 'a' | 'b';

/** What the origin saw of interest: Range, Accept-Encoding and Cookie of each request. */
interface OriginHit {
  path: string;
  range: string | undefined;
  acceptEncoding: string | undefined;
  cookie: string | undefined;
  bytes: number;
}

const BIG = randomBytes(20 * 1024 * 1024);
const MIB = 1024 * 1024;
const JSON_BODY = JSON.stringify({
  items: Array.from({ length: 300 }, (_, i) => ({ i, name: `item ${i}` })),
});
const JS_BODY = `// app\n${'function f(x) { return x * 2; }\n'.repeat(200)}`;

describe('cache rules through a real edge', () => {
  const cdn = new TestCdn<EdgeName>({ edges: { a: '127.0.0.8', b: '127.0.0.9' } });
  let origin: TestOrigin;
  const hits: OriginHit[] = [];

  const note = (req: IncomingMessage, bytes: number) =>
    hits.push({
      path: req.url ?? '',
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'],
      cookie: req.headers.cookie,
      bytes,
    });
  /** A plain answer with the given headers (none: the origin says nothing about caching). */
  const answer =
    (headers: Record<string, string>, status = 200, body = 'x'.repeat(64)) =>
    (req: IncomingMessage, res: ServerResponse) => {
      res.statusCode = status;
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      if (!('content-type' in headers)) res.setHeader('content-type', 'text/plain');
      note(req, body.length);
      res.end(body);
    };
  /** The 20 MB object, with Range support (the slice module needs 206 answers). */
  const big = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('cache-control', 'max-age=300');
    res.setHeader('content-type', 'application/octet-stream');
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    let body = BIG;
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), BIG.length - 1);
      body = BIG.subarray(start, end + 1);
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${BIG.length}`);
    }
    note(req, body.length);
    res.end(body);
  };

  const get = (
    edge: EdgeName,
    path: string,
    opts: { host?: string; headers?: Record<string, string> } = {},
  ): Promise<RawAnswer> =>
    httpGetRaw(`http://${cdn.address(edge)}:${cdn.edgePort}${path}`, {
      host: opts.host ?? HOST,
      ...(opts.headers ? { headers: opts.headers } : {}),
      timeoutMs: 20_000,
    });
  /** X-Cache-Status of each request, in order, on edge a. */
  const statuses = async (path: string, times = 2, headers: Record<string, string> = {}) => {
    const out: string[] = [];
    for (let i = 0; i < times; i++)
      out.push((await get('a', path, { headers })).headers['x-cache-status'] ?? '?');
    return out;
  };
  const originCount = (path: string) => hits.filter((h) => h.path === path).length;

  beforeAll(async () => {
    origin = await startOrigin({
      routes: {
        '/status/missing': answer({}, 404),
        '/status/ok': answer({ 'cache-control': 'max-age=300' }),
        '/ct/page': answer({
          'cache-control': 'max-age=300',
          'content-type': 'text/html; charset=utf-8',
        }),
        '/ct/data': answer({ 'cache-control': 'max-age=300', 'content-type': 'application/json' }),
        '/ttl/silent': answer({}),
        '/ttl/nocache': answer({ 'cache-control': 'no-cache' }),
        '/ttl/private': answer({ 'cache-control': 'private, max-age=300' }),
        '/ttl/nostore': answer({ 'cache-control': 'no-store' }),
        '/forced/nocache': answer({ 'cache-control': 'no-cache, max-age=0' }),
        '/forced/private': answer({ 'cache-control': 'max-age=300, Private' }),
        '/forced/nostore': answer({ 'cache-control': 'no-store' }),
        '/forced/cookie': answer({ 'set-cookie': 'sid=1; Path=/' }),
        '/bypass/x': answer({ 'cache-control': 'max-age=300' }),
        '/noq/a': answer({ 'cache-control': 'max-age=300' }),
        '/keep/a': answer({ 'cache-control': 'max-age=300' }),
        '/static/a.css': answer({ 'set-cookie': 'sid=1; Path=/', 'content-type': 'text/css' }),
        '/cookie/a.css': answer({ 'set-cookie': 'sid=1; Path=/', 'content-type': 'text/css' }),
        '/browser/a': answer({ 'cache-control': 'public, max-age=300' }),
        '/browser/private': answer({ 'cache-control': 'private, max-age=300' }),
        '/auth/x': answer({ 'cache-control': 'max-age=300' }),
        '/files/big.bin': big,
        '/video/big.bin': big,
        '/g/big.bin': big,
        '/v/data.json': (req, res) => {
          res.setHeader('cache-control', 'max-age=300');
          res.setHeader('vary', 'Accept-Encoding');
          res.setHeader('content-type', 'application/json');
          const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
          const body = gzip ? gzipSync(JSON_BODY) : Buffer.from(JSON_BODY);
          if (gzip) res.setHeader('content-encoding', 'gzip');
          note(req, body.length);
          res.end(body);
        },
        '/g/app.js': answer(
          { 'cache-control': 'max-age=300', 'content-type': 'application/javascript' },
          200,
          JS_BODY,
        ),
      },
    });
    await cdn.start();
    const originLine = `origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]`;
    await cdn.apply(`
edges:
${cdn.edgeYaml('a')}${cdn.edgeYaml('b')}sites:
  - domain: ${HOST}
    ${originLine}
    cache:
      rules:
        - {match: {paths: ['/status/*'], statuses: [404]}, ttl: 300}
        - {match: {paths: ['/ct/*'], content_types: [text/html]}, action: bypass}
        - {match: {paths: ['/ct/*']}}
        - {match: {paths: ['/ttl/*']}, ttl: 300}
        - {match: {paths: ['/forced/*']}, ttl: 300, force: true}
        - {match: {paths: ['/bypass/*']}, action: bypass}
        - {match: {paths: ['/noq/*']}, key: {query: ignore}}
        - {match: {paths: ['/keep/*']}, key: {query: [v]}}
        - {match: {paths: ['/static/*']}, ttl: 300, ignore_cookies: true}
        - {match: {paths: ['/cookie/*']}, ttl: 300}
        - {match: {paths: ['/browser/*']}, browser_ttl: 60}
        - {match: {paths: ['/files/*', '/v/*', '/auth/*']}}
        - {match: {paths: ['/video/*']}, slice: true}
  - domain: ${GZ_HOST}
    ${originLine}
    cache:
      gzip: true
      rules:
        - {match: {paths: ['/g/*']}}
`);
    await cdn.startAgents();
  }, 60_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('status match: a 404 is kept for the rule TTL, a 200 under the same rule is not stored', async () => {
    expect(await statuses('/status/missing')).toEqual(['MISS', 'HIT']);
    expect((await get('a', '/status/missing')).status).toBe(404);
    expect(originCount('/status/missing')).toBe(1);
    // Cacheable by its headers, but the rule stores only 404s (and does not fall through).
    expect(await statuses('/status/ok')).toEqual(['MISS', 'MISS']);
    expect(originCount('/status/ok')).toBe(2);
  });

  it('content-type match: a bypass rule keeps text/html out, the next rule caches JSON', async () => {
    expect(await statuses('/ct/page')).toEqual(['MISS', 'MISS']);
    expect(originCount('/ct/page')).toBe(2);
    expect(await statuses('/ct/data')).toEqual(['MISS', 'HIT']);
    expect(originCount('/ct/data')).toBe(1);
  });

  it('ttl applies only when the origin is silent; private and no-store are honoured', async () => {
    expect(await statuses('/ttl/silent')).toEqual(['MISS', 'HIT']);
    expect(await statuses('/ttl/nocache')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/ttl/private')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/ttl/nostore')).toEqual(['MISS', 'MISS']);
    expect(originCount('/ttl/silent')).toBe(1);
    expect(originCount('/ttl/private')).toBe(2);
  });

  it('a forced ttl overrides no-cache/max-age=0, never private, no-store or Set-Cookie', async () => {
    expect(await statuses('/forced/nocache')).toEqual(['MISS', 'HIT']);
    expect(originCount('/forced/nocache')).toBe(1);
    expect(await statuses('/forced/private')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/forced/nostore')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/forced/cookie')).toEqual(['MISS', 'MISS']);
    expect((await get('a', '/forced/cookie')).headers['set-cookie']).toBe('sid=1; Path=/');
    expect(originCount('/forced/cookie')).toBe(3);
  });

  it('bypass: proxied without the cache although the origin allows caching', async () => {
    expect(await statuses('/bypass/x')).toEqual(['BYPASS', 'BYPASS']);
    expect(originCount('/bypass/x')).toBe(2);
  });

  it('ignore the query string: one object for every query', async () => {
    expect(await statuses('/noq/a?x=1', 1)).toEqual(['MISS']);
    expect(await statuses('/noq/a?x=2&y=3', 1)).toEqual(['HIT']);
    expect(await statuses('/noq/a', 1)).toEqual(['HIT']);
    expect(hits.filter((h) => h.path.startsWith('/noq/a'))).toHaveLength(1);
  });

  it('keep listed parameters: other parameters share the object; purge finds it by URL', async () => {
    expect(await statuses('/keep/a?v=1&utm=a', 1)).toEqual(['MISS']);
    expect(await statuses('/keep/a?utm=b&v=1', 1)).toEqual(['HIT']);
    expect(await statuses('/keep/a?v=2', 2)).toEqual(['MISS', 'HIT']);
    expect(hits.filter((h) => h.path.startsWith('/keep/a'))).toHaveLength(2);

    const r = await cdn.cli(['purge', HOST, '/keep/a?utm=c&v=1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('  a: done (1 object removed)');
    expect(await statuses('/keep/a?v=1', 1)).toEqual(['MISS']);
    expect(await statuses('/keep/a?v=2', 1)).toEqual(['HIT']);
  });

  it('ignore cookies on a static rule: cached, Set-Cookie stripped, no Cookie to the origin', async () => {
    const cookie = { cookie: 'sid=secret' };
    const first = await get('a', '/static/a.css', { headers: cookie });
    const second = await get('a', '/static/a.css', { headers: cookie });
    expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual([
      'MISS',
      'HIT',
    ]);
    expect([first.headers['set-cookie'], second.headers['set-cookie']]).toEqual([
      undefined,
      undefined,
    ]);
    const seen = hits.filter((h) => h.path === '/static/a.css');
    expect(seen.map((h) => h.cookie)).toEqual([undefined]);
    // The same origin answer under a rule without ignore_cookies: not cached, cookie passed.
    const plain = await get('a', '/cookie/a.css', { headers: cookie });
    expect(plain.headers['set-cookie']).toBe('sid=1; Path=/');
    expect(await statuses('/cookie/a.css', 1, cookie)).toEqual(['MISS']);
    expect(hits.filter((h) => h.path === '/cookie/a.css').map((h) => h.cookie)).toEqual([
      'sid=secret',
      'sid=secret',
    ]);
  });

  it('browser TTL: clients get max-age=60 while the edge keeps the origin TTL', async () => {
    const first = await get('a', '/browser/a');
    const second = await get('a', '/browser/a');
    expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual([
      'MISS',
      'HIT',
    ]);
    expect([first.headers['cache-control'], second.headers['cache-control']]).toEqual([
      'max-age=60',
      'max-age=60',
    ]);
    expect(second.headers.expires).toBeDefined();
    // A private answer keeps its own Cache-Control (and stays out of the edge cache).
    const priv = await get('a', '/browser/private');
    expect(priv.headers['cache-control']).toBe('private, max-age=300');
    expect(priv.headers.expires).toBeUndefined();
  });

  it('Authorization: never served from nor stored in the cache', async () => {
    const auth = { authorization: 'Bearer t' };
    expect(await statuses('/auth/x', 2, auth)).toEqual(['BYPASS', 'BYPASS']);
    expect(await statuses('/auth/x', 2)).toEqual(['MISS', 'HIT']);
    expect(await statuses('/auth/x', 1, auth)).toEqual(['BYPASS']);
    expect(originCount('/auth/x')).toBe(4);
  });

  /** Requests `range` on edge b and checks the 206 against the origin's bytes. */
  const range = async (path: string, start: number, end: number, host = HOST) => {
    const r = await get('b', path, { host, headers: { range: `bytes=${start}-${end}` } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${BIG.length}`);
    expect(r.body.length).toBe(end - start + 1);
    expect(r.body.equals(BIG.subarray(start, end + 1))).toBe(true);
    return r.headers['x-cache-status'];
  };

  it('ranges of a 20 MB object cached whole: the origin sends it once', async () => {
    const path = '/files/big.bin';
    expect(await range(path, 100, 199)).toBe('MISS');
    expect(await range(path, 15_000_000, 15_999_999)).toBe('HIT');
    expect(await range(path, BIG.length - 10, BIG.length - 1)).toBe('HIT');
    const seen = hits.filter((h) => h.path === path);
    expect(seen.map((h) => [h.range, h.bytes])).toEqual([[undefined, BIG.length]]);
    const whole = await get('b', path);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(BIG)).toBe(true);
    expect(hits.filter((h) => h.path === path)).toHaveLength(1);
  });

  it('ranges of a sliced 20 MB object: each 1 MiB slice fetched once, purge drops them all', async () => {
    const path = '/video/big.bin';
    const slices = () =>
      hits.filter((h) => h.path === path).map((h) => [h.range, h.bytes] as const);
    expect(await range(path, 100, 199)).toBe('MISS');
    expect(slices()).toEqual([[`bytes=0-${MIB - 1}`, MIB]]);
    expect(await range(path, 15 * MIB + 5, 15 * MIB + 104)).toBe('MISS');
    expect(await range(path, 1000, 2000)).toBe('HIT');
    // Across slices 0 and 1: only slice 1 is new.
    expect(await range(path, MIB - 50, MIB + 49)).toBe('HIT');
    expect(slices()).toEqual([
      [`bytes=0-${MIB - 1}`, MIB],
      [`bytes=${15 * MIB}-${16 * MIB - 1}`, MIB],
      [`bytes=${MIB}-${2 * MIB - 1}`, MIB],
    ]);
    // The whole object: the 17 missing slices, then nothing more; every byte sent once.
    const whole = await get('b', path);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(BIG)).toBe(true);
    expect((await get('b', path)).headers['x-cache-status']).toBe('HIT');
    expect(slices()).toHaveLength(20);
    expect(slices().reduce((sum, [, bytes]) => sum + bytes, 0)).toBe(BIG.length);

    const r = await cdn.cli(['purge', HOST, path]);
    expect(r.stdout).toContain('  b: done (20 objects removed)');
    expect(await range(path, 100, 199)).toBe('MISS');
  });

  it('Vary: Accept-Encoding from the origin: one variant per encoding, each from cache', async () => {
    const gz = { 'accept-encoding': 'gzip' };
    const answers = [];
    for (const headers of [gz, {}, gz, {}])
      answers.push(await get('b', '/v/data.json', { headers }));
    expect(answers.map((a) => a.headers['x-cache-status'])).toEqual(['MISS', 'MISS', 'HIT', 'HIT']);
    expect(answers.map((a) => a.headers['content-encoding'])).toEqual([
      'gzip',
      undefined,
      'gzip',
      undefined,
    ]);
    for (const a of answers) {
      const text = a.headers['content-encoding'] === 'gzip' ? gunzipSync(a.body) : a.body;
      expect(text.toString()).toBe(JSON_BODY);
    }
    expect(originCount('/v/data.json')).toBe(2);
  });

  it('gzip at the edge: one cached identity object, gzip or identity per client', async () => {
    const gz = { 'accept-encoding': 'gzip, deflate, br' };
    const answers = [];
    for (const headers of [gz, {}, gz])
      answers.push(await get('b', '/g/app.js', { host: GZ_HOST, headers }));
    expect(answers.map((a) => a.headers['x-cache-status'])).toEqual(['MISS', 'HIT', 'HIT']);
    expect(answers.map((a) => a.headers['content-encoding'])).toEqual(['gzip', undefined, 'gzip']);
    expect(answers.map((a) => a.headers.vary)).toEqual([
      'Accept-Encoding',
      'Accept-Encoding',
      'Accept-Encoding',
    ]);
    expect(gunzipSync(answers[0]?.body ?? Buffer.alloc(0)).toString()).toBe(JS_BODY);
    expect(answers[1]?.body.toString()).toBe(JS_BODY);
    expect(answers[0]?.body.length).toBeLessThan(JS_BODY.length / 4);
    // The origin was asked once, for identity.
    expect(hits.filter((h) => h.path === '/g/app.js').map((h) => h.acceptEncoding)).toEqual([
      undefined,
    ]);
    // Ranges still work: a binary is not compressed, a text range is served whole in gzip.
    expect(await range('/g/big.bin', 10, 20, GZ_HOST)).toBe('MISS');
    const binary = await get('b', '/g/big.bin', {
      host: GZ_HOST,
      headers: { ...gz, range: 'bytes=30-39' },
    });
    expect([binary.status, binary.headers['content-encoding']]).toEqual([206, undefined]);
    expect(binary.body.equals(BIG.subarray(30, 40))).toBe(true);
    const plainRange = await get('b', '/g/app.js', {
      host: GZ_HOST,
      headers: { range: 'bytes=3-8' },
    });
    expect([plainRange.status, plainRange.body.toString()]).toEqual([206, JS_BODY.slice(3, 9)]);
    const gzRange = await get('b', '/g/app.js', {
      host: GZ_HOST,
      headers: { ...gz, range: 'bytes=3-8' },
    });
    expect([gzRange.status, gzRange.headers['content-encoding']]).toEqual([200, 'gzip']);
    expect(gunzipSync(gzRange.body).toString()).toBe(JS_BODY);
  });
});
