// DesiredState's one write path (issue 14): an edit sees the stored state itself, frozen; the
// entries it keeps are not parsed or walked again, while the rules across entries still see
// them; a whole document is parsed once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as spec from '../spec/index.js';
import { SpecError, type Spec } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import { DesiredState } from './service.js';

const site = (i: number) => ({ domain: `s${i}.example.com`, origins: [{ host: 'o.example.net' }] });
const event = { actor: 'test', action: 'site.update', subject: '', detail: {} };

describe('DesiredState', () => {
  let store: Store;
  let state: DesiredState;
  let changed: number;
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    changed = 0;
    state = new DesiredState(store, () => changed++);
    await state.apply(
      { spec: { edges: [{ name: 'e1', host: { v4: '127.0.0.2' } }], sites: [1, 2, 3].map(site) } },
      { dryRun: false, actor: 'test' },
    );
  });
  afterEach(async () => {
    await store.close();
  });

  it('hands an edit the stored state, frozen: a change in place throws, nothing is written', async () => {
    const before = await state.read();
    await expect(
      state.change(
        (current) => {
          (current.sites as unknown[]).push(site(4));
          return current;
        },
        { event },
      ),
    ).rejects.toThrow(TypeError);
    expect(await state.read()).toBe(before);
  });

  it('keeps the entries an edit did not touch: same objects, not parsed again', async () => {
    const before = await state.read();
    const parse = vi.spyOn(spec.Site, 'safeParse');
    const parseAsync = vi.spyOn(spec.Site, '_parse');
    const result = await state.change(
      (current) => ({
        ...current,
        sites: current.sites.map((s, i) => (i === 1 ? { ...s, dns_ttl: 600 } : s)),
      }),
      { event },
    );
    // Only the edited site went through its schema (zod parses array items with _parse).
    expect(parseAsync).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    parseAsync.mockRestore();
    expect(result.changed).toBe(true);
    expect(result.diff.changes.map((c) => `${c.op} ${c.key}`)).toEqual(['update s2.example.com']);
    const after = await state.read();
    expect(after.revision).toBe(before.revision + 1);
    expect(after.spec.sites[0]).toBe(before.spec.sites[0]);
    expect(after.spec.sites[2]).toBe(before.spec.sites[2]);
    expect(after.spec.sites[1]).not.toBe(before.spec.sites[1]);
    expect(after.spec.sites[1]?.dns_ttl).toBe(600);
    expect(changed).toBe(2);
  });

  it('still checks the kept entries against the new ones (a second claim of a domain)', async () => {
    const before = await state.read();
    const err = await state
      .change(
        (current) => ({
          ...current,
          sites: [...current.sites, { ...site(9), aliases: ['s1.example.com'] }],
        }),
        { event },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).problems.map((p) => [p.path, p.code])).toEqual([
      ['sites[3].aliases[0]', 'already_served'],
    ]);
    expect(await state.read()).toBe(before);
  });

  it('names the entry of the document with the problem, not its place among the new ones', async () => {
    const err = await state
      .change(
        (current) => ({
          ...current,
          sites: [
            current.sites[0]!,
            current.sites[1]!,
            { ...site(7), dns_ttl: -1 },
            current.sites[2]!,
          ],
        }),
        { event },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).problems.map((p) => p.path)).toEqual(['sites[2].dns_ttl']);
  });

  it('parses a whole document once, not once more per layer', async () => {
    const parse = vi.spyOn(spec.Spec, 'safeParse');
    const result = await state.apply(
      { spec: { edges: [{ name: 'e1', host: { v4: '127.0.0.2' } }], sites: [1, 2].map(site) } },
      { dryRun: false, actor: 'test' },
    );
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    expect(result.diff.changes.map((c) => `${c.op} ${c.key}`)).toEqual(['delete s3.example.com']);
    expect((await state.read()).spec.sites.map((s) => s.domain)).toEqual([
      's1.example.com',
      's2.example.com',
    ]);
  });

  it('the store still parses a document it is given without DesiredState’s word', async () => {
    const bad = { edges: [], sites: [{ domain: 'x.example.com', origins: [] }] } as unknown as Spec;
    const { revision } = await state.read();
    await expect(
      store.writeState(bad, event, { checked: { diff: { changes: [] } } }),
    ).rejects.toBeInstanceOf(SpecError);
    await expect(
      store.writeState(bad, event, {
        expectRevision: revision + 1,
        checked: { diff: { changes: [] } },
      }),
    ).rejects.toThrow(/revision/);
  });
});
