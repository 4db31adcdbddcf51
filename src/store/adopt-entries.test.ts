// StateQueries.adoptWrittenEntries (w7-apply): entries another connection of this process wrote
// (the apply worker's) are taken by the next load of the state without a schema parse. Two
// connections on one SQLite file; the schema parses are counted through parse.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSpec, type SpecInput } from '../spec/index.js';
import { openStore, openWorkerStore } from './index.js';
import * as parse from './parse.js';
import type { Store, WrittenEntry } from './types.js';

vi.mock('./parse.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./parse.js')>();
  return { ...actual, parseStored: vi.fn(actual.parseStored) };
});

const spec = (sites: number, port: number): SpecInput => ({
  edges: [{ name: 'a', host: { v4: '127.0.0.1' } }],
  sites: Array.from({ length: sites }, (_, i) => ({
    domain: `s${i}.example.com`,
    origins: [{ host: { v4: '127.0.0.1' }, port: port + i }],
    edges: ['a'],
  })),
});
const event = { actor: 'test', action: 'spec.apply', subject: '', detail: {} };

describe('entries adopted from another connection', () => {
  let dir: string;
  let main: Store;
  let worker: Store;
  const parses = () => vi.mocked(parse.parseStored).mock.calls.length;
  const sitesOf = async (store: Store): Promise<WrittenEntry[]> =>
    (await store.readSharedState()).spec.sites.map((s) => ({
      kind: 'site',
      text: JSON.stringify(s),
    }));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-adopt-'));
    const url = `sqlite:${join(dir, 'outpost.db')}`;
    main = await openStore({ url });
    worker = await openWorkerStore({ url });
    await worker.writeState(parseSpec(spec(3, 8000)), event);
    await main.readSharedState();
  });
  afterEach(async () => {
    await worker.close();
    await main.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are read without a parse, equal to what the other connection wrote, frozen', async () => {
    await worker.writeState(parseSpec(spec(3, 9000)), event);
    main.adoptWrittenEntries(await sitesOf(worker));
    const before = parses();
    const read = await main.readSharedState();
    expect(parses()).toBe(before);
    expect(read.revision).toBe(2);
    expect(read.spec).toEqual((await worker.readSharedState()).spec);
    expect(Object.isFrozen(read.spec.sites[0]?.origins[0])).toBe(true);
    // Adopted once: a later change of every site by the other connection is parsed again.
    await worker.writeState(parseSpec(spec(3, 9500)), event);
    const again = parses();
    expect((await main.readSharedState()).spec.sites[2]?.origins[0]?.port).toBe(9502);
    expect(parses()).toBe(again + 3);
  });

  it('without them, every changed row is parsed; a text no row holds is never used', async () => {
    await worker.writeState(parseSpec(spec(3, 9000)), event);
    const wrong = (await sitesOf(worker)).map((e) => ({
      ...e,
      text: e.text.replace('"port":9000', '"port":1'),
    }));
    main.adoptWrittenEntries(wrong.slice(0, 1));
    const before = parses();
    const read = await main.readSharedState();
    expect(parses()).toBe(before + 3);
    expect(read.spec.sites.map((s) => s.origins[0]?.port)).toEqual([9000, 9001, 9002]);
  });
});
