// Caching by the origin's headers through a real nginx edge started by a real agent (issue 13):
// a site with `cache.mode: origin` and no rules, and one test per RFC 9111/9213 behaviour, each
// with its own origin path: two or more requests, the cache status and what the client saw.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { httpGet, httpGetRaw, type Answer } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';

const HOST = 'rfc.test';
const RULES_HOST = 'rules.test';
const BR_HOST = 'br.test';
const CSS = `body { color: red; }\n${'.a { margin: 0 auto; padding: 1px 2px; }\n'.repeat(100)}`;

describe('HTTP caching by the origin headers through a real nginx edge', () => {
  const cdn = new TestCdn({ edges: { a: '127.0.0.51' } });
  let origin: TestOrigin;
  /** Per path: how many GETs the origin answered (its version counter). */
  const versions = new Map<string, number>();
  /** Accept-Encoding of each request the origin got for the brotli site. */
  const acceptEncodings: (string | undefined)[] = [];

  /** An answer with the given headers and a body naming the path's version. */
  const answer =
    (headers: Record<string, string> | (() => Record<string, string>)) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.statusCode = path.endsWith('/fails') ? 500 : 204;
        res.end();
        return;
      }
      const v = (versions.get(path) ?? 0) + 1;
      versions.set(path, v);
      const h = typeof headers === 'function' ? headers() : headers;
      for (const [k, value] of Object.entries(h)) res.setHeader(k, value);
      res.setHeader('content-type', 'text/plain');
      res.end(`${path} version ${v}`);
    };
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toUTCString();

  const get = (path: string, opts: { host?: string; method?: string } = {}): Promise<Answer> =>
    httpGet(`http://${cdn.address('a')}:${cdn.edgePort}${path}`, {
      host: opts.host ?? HOST,
      timeoutMs: 20_000,
      ...(opts.method ? { method: opts.method } : {}),
    });
  const statuses = async (path: string, times = 2, host = HOST) => {
    const out: string[] = [];
    for (let i = 0; i < times; i++)
      out.push((await get(path, { host })).headers['x-cache-status'] ?? '?');
    return out;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    const fixedDate = ago(10);
    origin = await startOrigin({
      routes: {
        '/o/max-age': answer({ 'cache-control': 'max-age=300' }),
        '/o/private': answer({ 'cache-control': 'private, max-age=300' }),
        '/o/silent': answer({}),
        '/date/old': answer({ 'cache-control': 'max-age=300', date: fixedDate }),
        '/age/upstream': answer(() => ({
          'cache-control': 'max-age=300',
          date: new Date().toUTCString(),
          age: '100',
        })),
        '/vary/star': answer({ 'cache-control': 'max-age=300', vary: '*' }),
        '/vary/list-star': answer({ 'cache-control': 'max-age=300', vary: 'Accept-Encoding, *' }),
        '/vary/ae': answer({ 'cache-control': 'max-age=300', vary: 'Accept-Encoding' }),
        '/expires/zero': answer({ expires: '0' }),
        '/expires/garbage': answer({ expires: 'next tuesday' }),
        '/expires/equals-date': answer(() => {
          const now = new Date().toUTCString();
          return { date: now, expires: now };
        }),
        '/expires/future': answer(() => ({
          date: new Date().toUTCString(),
          expires: new Date(Date.now() + 300_000).toUTCString(),
        })),
        // Cache-Control first: nginx 1.22 reads these in order, and an invalid or past Expires
        // seen first makes the answer uncacheable whatever max-age follows (docs/proxies.md).
        '/expires/zero-max-age': answer({ 'cache-control': 'max-age=300', expires: '0' }),
        '/cdn/no-store': answer({
          'cache-control': 'max-age=300',
          'cdn-cache-control': 'no-store',
        }),
        '/cdn/private': answer({ 'cache-control': 'max-age=300', 'cdn-cache-control': 'private' }),
        '/cdn/no-cache': answer({
          'cache-control': 'max-age=300',
          'cdn-cache-control': 'no-cache, max-age=60',
        }),
        '/cdn/max-age': answer({
          'cache-control': 'max-age=300',
          'cdn-cache-control': 'max-age=60',
        }),
        '/swr/yes': answer({ 'cache-control': 'max-age=1, stale-while-revalidate=30' }),
        '/swr/no': answer({ 'cache-control': 'max-age=1' }),
        '/unsafe/x': answer({ 'cache-control': 'max-age=300' }),
        '/unsafe/fails': answer({ 'cache-control': 'max-age=300' }),
        '/api/list': answer({ 'cache-control': 'max-age=300' }),
        '/br/site.css': (req, res) => {
          acceptEncodings.push(req.headers['accept-encoding']);
          res.setHeader('cache-control', 'max-age=300');
          res.setHeader('content-type', 'text/css');
          res.end(CSS);
        },
      },
    });
    await cdn.start();
    const originLine = `origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]`;
    await cdn.apply(`
edges:
${cdn.edgeYaml('a')}sites:
  - domain: ${HOST}
    ${originLine}
    cache: {mode: origin, rules: []}
  - domain: ${RULES_HOST}
    ${originLine}
  - domain: ${BR_HOST}
    ${originLine}
    cache: {mode: origin, rules: [], brotli: true}
`);
    await cdn.startAgents();
  }, 60_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('mode origin: any path the origin marks cacheable is cached, private and silent answers are not', async () => {
    expect(await statuses('/o/max-age')).toEqual(['MISS', 'HIT']);
    expect(await statuses('/o/private')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/o/silent')).toEqual(['MISS', 'MISS']);
    expect(origin.count('/o/max-age')).toBe(1);
    // The default rule mode: the same answer on a path no rule lists is proxied uncached.
    expect(await statuses('/api/list', 2, RULES_HOST)).toEqual(['BYPASS', 'BYPASS']);
  });

  it("the origin's Date is passed through on cached answers, with Age counted from it", async () => {
    const first = await get('/date/old');
    const second = await get('/date/old');
    expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual([
      'MISS',
      'HIT',
    ]);
    const originDate = first.headers.date;
    expect(second.headers.date).toBe(originDate);
    // The origin's Date is 10 s old: the cached answer is at least that old.
    const age = Number(second.headers.age);
    expect(age).toBeGreaterThanOrEqual(9);
    expect(age).toBeLessThan(60);
    expect(first.headers.age).toBeUndefined();
  });

  it('Age on a cached answer keeps the stored upstream Age when it is larger (a stacked tier)', async () => {
    expect(await statuses('/age/upstream', 1)).toEqual(['MISS']);
    const hit = await get('/age/upstream');
    expect(hit.headers['x-cache-status']).toBe('HIT');
    expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(100);
    expect(Number(hit.headers.age)).toBeLessThan(160);
  });

  it('Vary with * (alone or in a list) is never stored; Vary: Accept-Encoding is', async () => {
    expect(await statuses('/vary/star')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/vary/list-star')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/vary/ae')).toEqual(['MISS', 'HIT']);
    expect(origin.count('/vary/list-star')).toBe(2);
  });

  it('an invalid Expires, or one equal to Date, is not fresh; a max-age wins over a bad Expires', async () => {
    expect(await statuses('/expires/zero')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/expires/garbage')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/expires/equals-date', 3)).toEqual(['MISS', 'MISS', 'MISS']);
    expect(origin.count('/expires/equals-date')).toBe(3);
    expect(await statuses('/expires/future')).toEqual(['MISS', 'HIT']);
    expect(await statuses('/expires/zero-max-age')).toEqual(['MISS', 'HIT']);
  });

  it('CDN-Cache-Control (RFC 9213): its no-store, private and no-cache win over Cache-Control', async () => {
    expect(await statuses('/cdn/no-store')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/cdn/private')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/cdn/no-cache')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/cdn/max-age')).toEqual(['MISS', 'HIT']);
    expect(origin.count('/cdn/no-store')).toBe(2);
  });

  it('stale-while-revalidate: served STALE at once and refreshed in the background; without it, EXPIRED', async () => {
    expect(await statuses('/swr/yes', 1)).toEqual(['MISS']);
    expect(await statuses('/swr/no', 1)).toEqual(['MISS']);
    // nginx counts lifetimes in whole seconds: max-age=1 has surely passed after 2.2 s.
    await sleep(2200);
    const start = Date.now();
    const stale = await get('/swr/yes');
    expect([stale.headers['x-cache-status'], stale.body]).toEqual(['STALE', '/swr/yes version 1']);
    expect(Date.now() - start).toBeLessThan(1000);
    // The background update fetched version 2, which the next request gets from the cache.
    let next = await get('/swr/yes');
    for (let i = 0; i < 20 && next.body !== '/swr/yes version 2'; i++) {
      await sleep(100);
      next = await get('/swr/yes');
    }
    expect([next.headers['x-cache-status'], next.body]).toEqual(['HIT', '/swr/yes version 2']);
    expect(origin.count('/swr/yes')).toBe(2);
    // No stale-while-revalidate: an expired object is fetched again, never served stale.
    const expired = await get('/swr/no');
    expect([expired.headers['x-cache-status'], expired.body]).toEqual([
      'EXPIRED',
      '/swr/no version 2',
    ]);
  });

  it('a successful POST, PUT or DELETE invalidates the stored answer of its URL; a failed one does not', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const before = versions.get('/unsafe/x') ?? 0;
      expect((await get('/unsafe/x')).headers['x-cache-status']).toMatch(/^(MISS|HIT)$/);
      expect((await get('/unsafe/x')).headers['x-cache-status']).toBe('HIT');
      const unsafe = await get('/unsafe/x', { method });
      expect([unsafe.status, unsafe.headers['x-cache-status']]).toEqual([204, 'BYPASS']);
      const after = await get('/unsafe/x');
      expect(after.headers['x-cache-status']).toBe('MISS');
      expect(versions.get('/unsafe/x')).toBe(before + (before === 0 ? 2 : 1));
    }
    expect(await statuses('/unsafe/fails')).toEqual(['MISS', 'HIT']);
    expect((await get('/unsafe/fails', { method: 'POST' })).status).toBe(500);
    expect(await statuses('/unsafe/fails', 1)).toEqual(['HIT']);
  });

  it('brotli at the edge: br for clients that accept it, identity for the rest, one cached object', async () => {
    const ask = (acceptEncoding?: string) =>
      httpGetRaw(`http://${cdn.address('a')}:${cdn.edgePort}/br/site.css`, {
        host: BR_HOST,
        ...(acceptEncoding ? { headers: { 'accept-encoding': acceptEncoding } } : {}),
      });
    const answers = [await ask('gzip, deflate, br'), await ask(), await ask('br')];
    expect(answers.map((a) => a.headers['x-cache-status'])).toEqual(['MISS', 'HIT', 'HIT']);
    expect(answers.map((a) => a.headers['content-encoding'])).toEqual(['br', undefined, 'br']);
    expect(answers.map((a) => a.headers.vary)).toEqual([
      'Accept-Encoding',
      'Accept-Encoding',
      'Accept-Encoding',
    ]);
    expect(brotliDecompressSync(answers[0]?.body ?? Buffer.alloc(0)).toString()).toBe(CSS);
    expect(answers[1]?.body.toString()).toBe(CSS);
    expect(answers[0]?.body.length).toBeLessThan(CSS.length / 4);
    // The origin was asked once, for identity.
    expect(acceptEncodings).toEqual([undefined]);
  });
});
