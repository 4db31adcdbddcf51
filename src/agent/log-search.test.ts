import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogRequest } from '../spec/index.js';
import { searchLog, type LogSearchBounds } from './log-search.js';

const line = (i: number, site: string, status: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    time: `2026-12-01T12:00:${String(i % 60).padStart(2, '0')}+00:00`,
    site,
    host: site,
    remote: i % 2 === 0 ? '127.0.0.1' : '::1',
    method: 'GET',
    uri: `/p/${i}`,
    status,
    bytes: 10,
    cache: status === 200 ? 'HIT' : 'MISS',
    request_time: 0.001,
    upstream_time: '',
    upstream: '',
    block: '',
    limit: '',
    ...extra,
  }) + '\n';

const ask = (more: Partial<LogRequest> = {}): LogRequest => ({
  id: 'req-00000001',
  site: 'a.test',
  filter: {},
  limit: 100,
  ...more,
});

describe('log requests answered from the rotated JSON log', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-log-search-'));
    file = join(dir, 'access.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** 30 lines: a.test 200s, a.test 404s every third, b.test lines, and garbage. */
  const write = (from: number, to: number, path = file) => {
    let text = '';
    for (let i = from; i < to; i++) {
      text += line(i, i % 5 === 4 ? 'b.test' : 'a.test', i % 3 === 0 ? 404 : 200);
      if (i % 7 === 0) text += 'not json\n';
    }
    appendFileSync(path, text);
  };

  it('filters on the edge: site, status class or code, path prefix, client, cache', async () => {
    write(0, 30);
    const all = await searchLog(file, 2, ask());
    expect(all.lines.map((l) => l.uri)).toEqual(
      [...Array(30).keys()].filter((i) => i % 5 !== 4).map((i) => `/p/${i}`),
    );
    expect(all.truncated).toBe(false);
    const notFound = await searchLog(file, 2, ask({ filter: { status: '404' } }));
    expect(notFound.lines.every((l) => l.status === 404)).toBe(true);
    expect(notFound.lines).toHaveLength(8); // 0, 3, 6 … 27 without 9, 24 (b.test)
    const classes = await searchLog(file, 2, ask({ filter: { status: '4xx,5xx' } }));
    expect(classes.lines).toEqual(notFound.lines);
    const two = await searchLog(file, 2, ask({ filter: { status: '2xx', cache: 'HIT' } }));
    expect(two.lines.every((l) => l.status === 200 && l.cache === 'HIT')).toBe(true);
    expect(two.lines).toHaveLength(24 - 8);
    const path = await searchLog(file, 2, ask({ filter: { path: '/p/2' } }));
    expect(path.lines.map((l) => l.uri)).toEqual([
      '/p/2',
      '/p/20',
      '/p/21',
      '/p/22',
      '/p/23',
      '/p/25',
      '/p/26',
      '/p/27',
      '/p/28',
    ]);
    const client = await searchLog(file, 2, ask({ filter: { client: '::1' } }));
    expect(client.lines.every((l) => l.remote === '::1')).toBe(true);
    expect(client.lines.length).toBeGreaterThan(0);
  });

  it('the newest lines first up to the limit, through the rotated files', async () => {
    write(0, 10, `${file}.2`);
    write(10, 20, `${file}.1`);
    write(20, 30);
    const r = await searchLog(file, 2, ask({ limit: 5 }));
    expect(r.lines.map((l) => l.uri)).toEqual(['/p/23', '/p/25', '/p/26', '/p/27', '/p/28']);
    expect(r.truncated).toBe(true);
    const deep = await searchLog(file, 2, ask({ filter: { path: '/p/1' } }));
    expect(deep.lines.map((l) => l.uri)).toEqual([
      '/p/1',
      ...[10, 11, 12, 13, 15, 16, 17, 18].map((i) => `/p/${i}`),
    ]);
    // keep=1: .2 is not read.
    const shallow = await searchLog(file, 1, ask({ filter: { path: '/p/1' } }));
    expect(shallow.lines.map((l) => l.uri)).not.toContain('/p/1');
    expect(r.cursor).toEqual({ file: statSync(file).ino, offset: statSync(file).size });
  });

  it('follows from a cursor, across a rotation, and waits for a line not yet finished', async () => {
    write(0, 10);
    const first = await searchLog(file, 2, ask({ limit: 3 }));
    write(10, 14);
    const next = await searchLog(file, 2, ask({ after: first.cursor }));
    expect(next.lines.map((l) => l.uri)).toEqual(['/p/10', '/p/11', '/p/12', '/p/13']);
    // Rotated in between: the rest of .1, then the new live file.
    write(14, 16);
    renameSync(file, `${file}.1`);
    write(16, 18);
    appendFileSync(file, line(18, 'a.test', 200).slice(0, 30)); // nginx mid-write
    const across = await searchLog(file, 2, ask({ after: next.cursor }));
    expect(across.lines.map((l) => l.uri)).toEqual(['/p/15', '/p/16', '/p/17']);
    appendFileSync(file, line(18, 'a.test', 200).slice(30));
    const rest = await searchLog(file, 2, ask({ after: across.cursor }));
    expect(rest.lines.map((l) => l.uri)).toEqual(['/p/18']);
    const none = await searchLog(file, 2, ask({ after: rest.cursor }));
    expect(none.lines).toEqual([]);
    expect(none.cursor).toEqual(rest.cursor);
  });

  it('stays within its bounds: bytes sent, bytes read (and says it was cut)', async () => {
    write(0, 400);
    const small: LogSearchBounds = { answerBytes: 2000, scanBytes: 1 << 20, chunkBytes: 97 };
    const r = await searchLog(file, 2, ask(), small);
    const sent = r.lines.reduce((n, l) => n + JSON.stringify(l).length, 0);
    expect(sent).toBeLessThanOrEqual(2000);
    expect(r.lines.length).toBeGreaterThan(3);
    expect(r.lines.at(-1)?.uri).toBe('/p/398');
    expect(r.truncated).toBe(true);
    const scan: LogSearchBounds = { answerBytes: 1 << 20, scanBytes: 3000, chunkBytes: 1000 };
    const s = await searchLog(file, 2, ask(), scan);
    expect(s.truncated).toBe(true);
    expect(s.lines.length).toBeLessThan(15);
    expect(s.lines.at(-1)?.uri).toBe('/p/398');
    // Following far behind: the oldest part is skipped, the newest lines come, no torn line.
    writeFileSync(file, '');
    const start = await searchLog(file, 2, ask());
    write(0, 400);
    const behind = await searchLog(file, 2, ask({ after: start.cursor }), scan);
    expect(behind.truncated).toBe(true);
    expect(behind.lines.at(-1)?.uri).toBe('/p/398');
    expect(behind.lines.length).toBeGreaterThan(3);
  });

  it('a missing log answers no lines', async () => {
    const r = await searchLog(file, 2, ask());
    expect(r).toEqual({
      id: 'req-00000001',
      lines: [],
      cursor: { file: 0, offset: 0 },
      truncated: false,
      error: null,
    });
  });
});
