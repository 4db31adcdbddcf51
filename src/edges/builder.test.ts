// The bundle builder against a real store and a real nginx -t.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundle } from '../bundle/index.js';
import { parseSpec, type SpecInput } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import { BundleBuilder, checkTimeoutFor } from './builder.js';
import { ensureSigningKey, type BundleSigner } from './signing-key.js';

const spec = (raw?: string): SpecInput => ({
  edges: [
    { name: 'a', host: { v4: '192.0.2.1' }, ...(raw ? { raw_nginx: raw } : {}) },
    { name: 'b', host: { v4: '192.0.2.2' } },
  ],
  sites: [
    {
      domain: 'example.com',
      origins: [{ host: { v4: '192.0.2.10' }, protocol: 'http' }],
      edges: ['a', 'b'],
    },
  ],
});

describe('BundleBuilder', () => {
  let store: Store;
  let signer: BundleSigner;
  let builder: BundleBuilder;
  const write = (s: SpecInput) =>
    store.writeState(parseSpec(s), {
      actor: 'test',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });

  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    signer = await ensureSigningKey(store);
    builder = new BundleBuilder({
      store,
      signer,
      logger: pino({ level: 'silent' }),
      nginx: '/usr/sbin/nginx',
    });
  });
  afterEach(async () => {
    builder.close();
    await store.close();
  });

  it('publishes a signed release per edge, and a new one only when the edge’s config changes', async () => {
    await write(spec());
    await builder.rebuild();
    const first = await store.latestBundles();
    expect(first.map((b) => [b.edge, b.release, b.revision])).toEqual([
      ['a', 1, 1],
      ['b', 1, 1],
    ]);
    const manifest = verifyBundle(JSON.parse(first[0]?.body ?? ''), signer.publicKeyPem, 'a');
    expect(manifest.files.map((f) => f.path)).toEqual([
      'nginx/edge.conf',
      'nginx/main/modules.conf',
      'nginx/njs/outpost.js',
      'nginx/sites.conf',
    ]);

    // A change that no edge renders differently (the DNS TTL) makes no release.
    const ttl = spec();
    (ttl.sites as { dns_ttl?: number }[])[0]!.dns_ttl = 300;
    await write(ttl);
    await builder.rebuild();
    expect((await store.latestBundles()).map((b) => b.release)).toEqual([1, 1]);

    // Pausing b changes b only.
    const paused = spec();
    (paused.edges as { paused?: boolean }[])[1]!.paused = true;
    await write(paused);
    await builder.rebuild();
    expect((await store.latestBundles()).map((b) => [b.edge, b.release])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('does not publish what nginx -t rejects, and says why', async () => {
    await write(spec());
    await builder.rebuild();
    await write(spec('this_is_not_a_directive on;'));
    await builder.rebuild();
    expect((await store.latestBundle('a'))?.release).toBe(1);
    const errors = builder.buildErrors();
    expect(errors.map((e) => e.edge)).toEqual(['a']);
    expect(errors[0]?.message).toContain('unknown directive "this_is_not_a_directive"');
    const events = await store.listEvents({ limit: 5 });
    expect(events.some((e) => e.action === 'bundle.rejected' && e.subject === 'a')).toBe(true);
    await write(spec());
    await builder.rebuild();
    expect(builder.buildErrors()).toEqual([]);
  });

  it('wakes a long-poll the moment the edge’s bundle changes', async () => {
    await write(spec());
    await builder.rebuild();
    const current = await store.latestBundle('a');
    const waiting = builder.waitForChange('a', current?.hash, 10_000);
    const paused = spec();
    (paused.edges as { paused?: boolean }[])[0]!.paused = true;
    const started = Date.now();
    await write(paused);
    await builder.rebuild();
    const next = await waiting;
    expect(next?.release).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await builder.waitForChange('a', next?.hash, 50)).toBeUndefined();
  });
  it('an nginx -t that outlives its timeout is reported as a timeout, not as a refusal', async () => {
    const patient = new BundleBuilder({
      store,
      signer,
      logger: pino({ level: 'silent' }),
      nginx: '/usr/sbin/nginx',
      nginxCheckTimeoutMs: 1,
    });
    await write(spec());
    await patient.rebuild();
    patient.close();
    expect(await store.latestBundles()).toEqual([]);
    const messages = patient.buildErrors().map((e) => e.message);
    expect(messages).toHaveLength(2);
    for (const m of messages) {
      expect(m).toContain('nginx -t did not finish within 0.001 s');
      expect(m).not.toContain('rejected');
    }
  });

  it('the default check timeout grows with the size of the rendering', () => {
    expect(checkTimeoutFor([{ content: 'x' }])).toBe(20_001);
    expect(checkTimeoutFor([{ content: Buffer.alloc(50 * 1024 * 1024) }])).toBe(520_000);
  });
});
