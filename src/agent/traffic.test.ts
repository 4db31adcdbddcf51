import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLogCounter, countLine, READ_CHUNK_BYTES } from './traffic.js';

const line = (site: string, status: number, bytes: number, cache: string) =>
  JSON.stringify({
    time: '2026-11-26T12:00:00+00:00',
    site,
    host: site,
    status,
    bytes,
    cache,
    uri: '/x',
  }) + '\n';

/** A known log: 6 requests to a.test, 3 to b.test, 1 to an unknown host, one garbage line. */
const KNOWN =
  line('a.test', 200, 100, 'MISS') +
  line('a.test', 200, 100, 'HIT') +
  line('a.test', 200, 100, 'HIT') +
  line('a.test', 304, 0, 'REVALIDATED') +
  line('a.test', 502, 150, 'BYPASS') +
  line('a.test', 302, 0, 'EDGE') +
  line('b.test', 200, 1000, 'STALE') +
  line('b.test', 404, 20, 'BYPASS') +
  line('b.test', 200, 1000, 'HIT') +
  line('', 421, 0, 'EDGE') +
  'not json at all\n';

describe('access-log traffic counts', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-traffic-'));
    file = join(dir, 'access.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('add up exactly against a known log', async () => {
    writeFileSync(file, KNOWN);
    const counter = new AccessLogCounter(file);
    await counter.read();
    expect(counter.peek().sites).toEqual({
      'a.test': {
        requests: 6,
        bytes: 450,
        status: { '2xx': 3, '3xx': 2, '5xx': 1 },
        cache: { MISS: 1, HIT: 2, REVALIDATED: 1, BYPASS: 1, EDGE: 1 },
      },
      'b.test': {
        requests: 3,
        bytes: 2020,
        status: { '2xx': 2, '4xx': 1 },
        cache: { STALE: 1, BYPASS: 1, HIT: 1 },
      },
      '(unknown host)': { requests: 1, bytes: 0, status: { '4xx': 1 }, cache: { EDGE: 1 } },
    });
    expect(countLine({}, 'not json')).toBe(false);
  });

  it('reads only what was appended, waits for a partial line, and survives rotation', async () => {
    writeFileSync(file, line('a.test', 200, 10, 'HIT'));
    const counter = new AccessLogCounter(file);
    await counter.read();
    const half = line('a.test', 200, 5, 'MISS');
    appendFileSync(file, half.slice(0, 20));
    await counter.read();
    expect(counter.peek().sites['a.test']?.requests).toBe(1);
    appendFileSync(file, half.slice(20));
    await counter.read();
    expect(counter.peek().sites['a.test']).toMatchObject({ requests: 2, bytes: 15 });
    writeFileSync(file, line('a.test', 200, 1, 'HIT')); // rotated: a new, shorter file
    await counter.read();
    expect(counter.peek().sites['a.test']).toMatchObject({ requests: 3, bytes: 16 });
  });

  it('keeps counting until a report is accepted, then forgets exactly what it held', async () => {
    writeFileSync(file, KNOWN);
    const counter = new AccessLogCounter(file);
    await counter.read();
    const unsent = counter.peek(); // the control plane is away: this report failed
    appendFileSync(file, line('a.test', 200, 7, 'HIT'));
    await counter.read();
    const report = counter.peek();
    expect(report.sites['a.test']?.requests).toBe(7);
    expect(unsent.sites['a.test']?.requests).toBe(6);
    appendFileSync(file, line('b.test', 200, 3, 'MISS')); // arrives while the report is in flight
    await counter.read();
    counter.acknowledge(report);
    expect(counter.peek().sites).toEqual({
      'b.test': {
        requests: 1,
        bytes: 3,
        status: { '2xx': 1 },
        cache: { MISS: 1 },
      },
    });
  });

  it('can start at the end of an existing log', async () => {
    writeFileSync(file, KNOWN);
    const counter = new AccessLogCounter(file);
    await counter.skipExisting();
    await counter.read();
    expect(counter.peek().sites).toEqual({});
  });

  it('reads a large backlog in bounded chunks, lines across chunk edges included', async () => {
    const one = line('a.test', 200, 3, 'HIT');
    const count = Math.ceil((3.5 * READ_CHUNK_BYTES) / one.length);
    writeFileSync(file, one.repeat(count));
    const counter = new AccessLogCounter(file);
    await counter.read();
    expect(counter.peek().sites['a.test']).toMatchObject({ requests: count, bytes: 3 * count });
  });

  it('rotates at the size limit, keeps the newest N, and counts what the proxy wrote late', async () => {
    const counter = new AccessLogCounter(file);
    let reopened = 0;
    const rotation = {
      maxBytes: 1000,
      keep: 2,
      reopen: () => {
        reopened++;
        // The proxy reopens its log: a new access.json.
        writeFileSync(file, '');
        return Promise.resolve();
      },
    };
    let written = 0;
    for (let round = 0; round < 4; round++) {
      const lines = line('a.test', 200, 1, 'HIT').repeat(10); // > 1000 bytes
      appendFileSync(file, lines);
      written += 10;
      await counter.read();
      // Below the limit nothing moves.
      expect(await counter.rotate({ ...rotation, maxBytes: 1_000_000 })).toBe(false);
      expect(await counter.rotate(rotation)).toBe(true);
      // Written to the renamed file before the proxy reopened: counted at the next read.
      appendFileSync(`${file}.1`, line('a.test', 200, 1, 'MISS'));
      written += 1;
    }
    await counter.read();
    expect(reopened).toBe(4);
    expect(counter.peek().sites['a.test']?.requests).toBe(written);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(statSync(file).size).toBe(0);
    expect(readFileSync(`${file}.2`, 'utf8').split('\n').filter(Boolean)).toHaveLength(11);
  });

  it('counts requests an access rule or a rate limit refused (issue 16)', async () => {
    const refused = (block: string, limit: string, status: number) =>
      JSON.stringify({ site: 'a.test', status, bytes: 0, cache: 'EDGE', block, limit }) + '\n';
    writeFileSync(
      file,
      refused('denied', '-', 403) +
        refused('denied', '-', 403) +
        refused('', 'REJECTED', 429) +
        refused('', 'PASSED', 200) +
        refused('', 'DELAYED', 200),
    );
    const counter = new AccessLogCounter(file);
    await counter.read();
    const report = counter.peek();
    expect(report.sites['a.test']).toMatchObject({ requests: 5, denied: 2, rate_limited: 1 });
    appendFileSync(file, refused('denied', '-', 403));
    await counter.read();
    counter.acknowledge(report);
    expect(counter.peek().sites['a.test']).toEqual({
      requests: 1,
      bytes: 0,
      status: { '4xx': 1 },
      cache: { EDGE: 1 },
      denied: 1,
    });
  });
});
