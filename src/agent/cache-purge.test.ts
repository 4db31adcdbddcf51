import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PurgeJob } from '../spec/index.js';
import { matchesPurge, parseCacheKey, purgeCache, readCacheEntry } from './cache-purge.js';

const HOSTS = ['shop.test', 'www.shop.test'];
const job = (id: number, request: PurgeJob['request']): PurgeJob => ({
  id,
  site: 'shop.test',
  hosts: HOSTS,
  request,
  tag_headers: ['cache-tag', 'surrogate-key'],
  created_at: '',
});

/** A file laid out like nginx's: binary header, KEY line, stored response headers, body. */
function cacheFile(key: string, headers: Record<string, string> = {}): Buffer {
  const head = Buffer.alloc(336, 7); // binary ngx_http_file_cache_header_t, arbitrary bytes
  const lines = ['HTTP/1.1 200 OK', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join(
    '\r\n',
  );
  return Buffer.concat([head, Buffer.from(`\nKEY: ${key}\n${lines}\r\n\r\nbody`, 'latin1')]);
}

describe('cache purge', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses keys even when the host starts with "s" (http + shop.test, not https + hop.test)', () => {
    expect(parseCacheKey('httpshop.test/a.js', HOSTS)).toEqual({ host: 'shop.test', uri: '/a.js' });
    expect(parseCacheKey('httpsshop.test/a.js?v=1', HOSTS)).toEqual({
      host: 'shop.test',
      uri: '/a.js?v=1',
    });
    expect(parseCacheKey('httpother.test/a.js', HOSTS)).toBeUndefined();
  });

  it('matches by URL, prefix, whole site and tag', () => {
    const e = (key: string, headers: Record<string, string> = {}) => ({ key, headers });
    expect(matchesPurge(e('httpsshop.test/a.js'), job(1, { kind: 'urls', paths: ['/a.js'] }))).toBe(
      true,
    );
    expect(
      matchesPurge(e('httpsshop.test/a.js?v=1'), job(1, { kind: 'urls', paths: ['/a.js'] })),
    ).toBe(false);
    expect(
      matchesPurge(
        e('httpwww.shop.test/assets/x.css'),
        job(2, { kind: 'prefix', prefix: '/assets/' }),
      ),
    ).toBe(true);
    expect(
      matchesPurge(
        e('httpsshop.test/static/x.css'),
        job(2, { kind: 'prefix', prefix: '/assets/' }),
      ),
    ).toBe(false);
    expect(matchesPurge(e('httpsother.test/x'), job(3, { kind: 'all' }))).toBe(false);
    expect(
      matchesPurge(
        e('httpsshop.test/x', { 'cache-tag': 'product-1, home' }),
        job(4, { kind: 'tags', tags: ['home'] }),
      ),
    ).toBe(true);
    expect(
      matchesPurge(
        e('httpsshop.test/x', { 'surrogate-key': 'a b' }),
        job(4, { kind: 'tags', tags: ['b'] }),
      ),
    ).toBe(true);
    expect(
      matchesPurge(
        e('httpsshop.test/x', { 'cache-tag': 'homepage' }),
        job(4, { kind: 'tags', tags: ['home'] }),
      ),
    ).toBe(false);
  });

  it('parses keys of rules that filter the query or slice the object', () => {
    expect(parseCacheKey('httpsshop.test/s q:q=shoes&page=', HOSTS)).toEqual({
      host: 'shop.test',
      uri: '/s',
      query: [
        ['q', 'shoes'],
        ['page', ''],
      ],
    });
    expect(parseCacheKey('httpshop.test/img/a.png q:', HOSTS)).toEqual({
      host: 'shop.test',
      uri: '/img/a.png',
      query: [],
    });
    expect(parseCacheKey('httpshop.test/v.mp4?x=1 r:bytes=0-1048575', HOSTS)).toEqual({
      host: 'shop.test',
      uri: '/v.mp4?x=1',
      range: 'bytes=0-1048575',
    });
  });

  it('purges by URL the object a filtered key serves for that URL, and every slice', () => {
    const urls = (...paths: string[]) => job(5, { kind: 'urls', paths });
    const e = (key: string) => ({ key, headers: {} });
    // Only q and page are in the key: other parameters and their order do not matter.
    const search = e('httpsshop.test/s q:q=shoes&page=2');
    expect(matchesPurge(search, urls('/s?page=2&utm=x&q=shoes'))).toBe(true);
    expect(matchesPurge(search, urls('/s?Q=shoes&page=2'))).toBe(true); // $arg_ ignores case
    expect(matchesPurge(search, urls('/s?q=shoes'))).toBe(false);
    expect(matchesPurge(search, urls('/s?q=boots&page=2'))).toBe(false);
    expect(matchesPurge(search, urls('/s2?q=shoes&page=2'))).toBe(false);
    // The query is not in the key: any query names the object.
    const img = e('httpshop.test/img/a.png q:');
    expect(matchesPurge(img, urls('/img/a.png'))).toBe(true);
    expect(matchesPurge(img, urls('/img/a.png?v=3'))).toBe(true);
    expect(matchesPurge(img, urls('/img/a.pngx'))).toBe(false);
    // Every slice of a sliced object goes with its URL, prefix or the whole site.
    for (const range of ['bytes=0-1048575', 'bytes=1048576-2097151']) {
      const slice = e(`httpsshop.test/v/big.mp4 r:${range}`);
      expect(matchesPurge(slice, urls('/v/big.mp4'))).toBe(true);
      expect(matchesPurge(slice, urls('/v/big.mp4?x'))).toBe(false);
      expect(matchesPurge(slice, job(6, { kind: 'prefix', prefix: '/v/' }))).toBe(true);
      expect(matchesPurge(slice, job(7, { kind: 'all' }))).toBe(true);
    }
    // A prefix with a query is compared with the kept parameters.
    expect(matchesPurge(search, job(8, { kind: 'prefix', prefix: '/s?q=sh' }))).toBe(true);
    expect(matchesPurge(search, job(8, { kind: 'prefix', prefix: '/s?page' }))).toBe(false);
    expect(matchesPurge(img, job(9, { kind: 'prefix', prefix: '/img/' }))).toBe(true);
  });

  it('removes exactly the matching files and counts them per job', async () => {
    mkdirSync(join(dir, 'a', 'bc'), { recursive: true });
    const files = {
      app: join(dir, 'a', 'bc', '1'),
      css: join(dir, 'a', 'bc', '2'),
      tagged: join(dir, 'a', '3'),
      other: join(dir, '4'),
      temp: join(dir, '5.0000000001'),
    };
    writeFileSync(files.app, cacheFile('httpsshop.test/assets/app.js'));
    writeFileSync(files.css, cacheFile('httpsshop.test/assets/site.css'));
    writeFileSync(files.tagged, cacheFile('httpsshop.test/p/1', { 'Cache-Tag': 'product-1' }));
    writeFileSync(files.other, cacheFile('httpsother.test/assets/app.js'));
    writeFileSync(files.temp, cacheFile('httpsshop.test/assets/app.js'));
    expect((await readCacheEntry(files.tagged))?.headers).toEqual({ 'cache-tag': 'product-1' });

    const removed = await purgeCache(dir, [
      job(1, { kind: 'urls', paths: ['/assets/app.js'] }),
      job(2, { kind: 'tags', tags: ['product-1'] }),
    ]);
    expect([...removed]).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect([files.app, files.css, files.tagged, files.other, files.temp].map(existsSync)).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
    expect([...(await purgeCache(dir, [job(3, { kind: 'all' })]))]).toEqual([[3, 1]]);
    expect(existsSync(files.other)).toBe(true);
  });
});
