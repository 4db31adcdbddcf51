// The bundle builder against a real store and a real nginx -t.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveFiles, sha256Hex, verifyBundle } from '../bundle/index.js';
import { testGeoipDatabase } from '../../test/support/geoip.js';
import { compileEdgePlan } from '../compile/index.js';
import { renderNginx } from '../render/index.js';
import { parseSpec, type SpecInput } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import { CHECK_EDGE } from '../proxy-check/check-cache.js';
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
      'nginx/listen/http.conf',
      'nginx/listen/https.conf',
      'nginx/main/modules.conf',
      'nginx/njs/outpost.js',
      'nginx/sites.conf',
    ]);
    expect(manifest.lists).toHaveLength(1);
    const files = await resolveFiles(manifest, (h) => store.releaseFiles(h));
    expect(files.map((f) => f.path)).toContain('nginx/sites/example.com.conf');

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

  const many = (sites: string[], change?: string): SpecInput => ({
    // An edge-level file computed from the sites (nginx/lists.conf) and a per-site limit.
    ip_lists: { office: [change === undefined ? '192.0.2.0/24' : '198.51.100.0/24'] },
    edges: [
      { name: 'a', host: { v4: '192.0.2.1' } },
      { name: 'b', host: { v4: '192.0.2.2' }, listen: { https: 8443 } },
      { name: 'c', host: { v4: '192.0.2.3' } },
    ],
    sites: sites.map((d, i) => ({
      domain: d,
      origins: [
        { host: { v4: '192.0.2.10' }, port: 8000 + i + (d === change ? 100 : 0), protocol: 'http' },
      ],
      edges: d.startsWith('only-c') ? ['c'] : ['a', 'b', 'c'],
      ...(d === 'one.test'
        ? {
            access: { rules: [{ match: { client_ips: ['@office'] }, action: 'deny' as const }] },
            rate_limits: [{ name: 'all', rate: '10r/s', burst: 20 }],
          }
        : {}),
      modifiers: [
        {
          match: { paths: ['/x/*'] },
          action: { type: 'set_header', name: 'X-Site', value: d },
          ...(d.startsWith('per-edge') ? { edges: ['b'] } : {}),
        },
      ],
    })),
  });
  const domains = ['one.test', 'two.test', 'per-edge.test', 'only-c.test'];

  /** Every edge's stored release, resolved from the store, equals the full pure rendering. */
  async function expectSameAsFullRender(s: SpecInput) {
    const parsed = parseSpec(s);
    for (const b of await store.latestBundles()) {
      const manifest = verifyBundle(JSON.parse(b.body), signer.publicKeyPem, b.edge);
      const files = await resolveFiles(manifest, (h) => store.releaseFiles(h));
      const full = renderNginx(compileEdgePlan(parsed, b.edge), {
        release: b.release,
        certificates: [],
        staples: [],
      });
      expect(files.map((f) => [f.path, f.content.toString()])).toEqual(
        full.map((f) => [f.path, f.content]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
      );
    }
  }

  it('renders a changed site once for all its edges, and rebuilds only the edges that serve it', async () => {
    const quiet = new BundleBuilder({ store, signer, logger: pino({ level: 'silent' }) });
    await write(many(domains));
    await quiet.rebuild();
    // 4 sites, the per-edge one twice (b sees another modifier list than a and c); edge b's
    // HTTPS port is not in a site's file unless it redirects, so b shares the others' files.
    expect(quiet.lastBuild()?.sitesRendered).toBe(5);
    await expectSameAsFullRender(many(domains));
    const before = new Map((await store.latestBundles()).map((b) => [b.edge, b.release]));

    await write(many(domains, 'one.test'));
    await quiet.rebuild();
    expect(quiet.lastBuild()?.sitesRendered).toBe(1);
    expect(
      (await store.latestBundles()).map((b) => [b.edge, b.release - before.get(b.edge)!]),
    ).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    await expectSameAsFullRender(many(domains, 'one.test'));

    // A site on edge c only: a and b keep their release.
    await write(
      many(
        domains.map((d) => (d === 'only-c.test' ? 'only-c2.test' : d)),
        'one.test',
      ),
    );
    await quiet.rebuild();
    expect(quiet.lastBuild()?.sitesRendered).toBe(1);
    expect(
      (await store.latestBundles()).map((b) => [b.edge, b.release - before.get(b.edge)!]),
    ).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ]);
    quiet.close();
  });

  it('a one-site change stores only that site’s new contents and re-publishes only the edges serving it', async () => {
    const quiet = new BundleBuilder({ store, signer, logger: pino({ level: 'silent' }) });
    // 400 sites on a, b and c (several file lists), 3 on c only.
    const big = [
      ...Array.from({ length: 400 }, (_, i) => `s${i}.test`),
      ...['only-c1.test', 'only-c2.test', 'only-c3.test'],
    ];
    await write(many(big));
    await quiet.rebuild();
    const storedBefore = await keptHashes();
    const before = await store.latestBundles();

    // A site on c only: a and b are not re-published (same manifest), c is.
    await write(many(big, 'only-c2.test'));
    await quiet.rebuild();
    const after = await store.latestBundles();
    expect(after.map((b) => [b.edge, b.release])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 2],
    ]);
    expect(after.slice(0, 2).map((b) => b.body)).toEqual(before.slice(0, 2).map((b) => b.body));
    expect(quiet.lastBuild()).toMatchObject({ sitesRendered: 1, published: 1 });
    await expectSameAsFullRender(many(big, 'only-c2.test'));

    // What was stored: c's site file, one file list and c's edge.conf (it names the release),
    // each once; nothing else of c's release was written again.
    const storedAfter = await keptHashes();
    const fresh = [...storedAfter.keys()].filter((h) => !storedBefore.has(h));
    const c = await store.latestBundle('c');
    const manifest = verifyBundle(JSON.parse(c!.body), signer.publicKeyPem, 'c');
    const files = await resolveFiles(manifest, (h) => store.releaseFiles(h));
    const pathOf = new Map(files.map((f) => [f.sha256, f.path]));
    const freshLists = fresh.filter((h) => manifest.lists.some((l) => l.sha256 === h));
    expect(
      fresh
        .filter((h) => !freshLists.includes(h))
        .map((h) => pathOf.get(h))
        .sort(),
    ).toEqual(['nginx/edge.conf', 'nginx/sites/only-c2.test.conf']);
    expect(freshLists).toHaveLength(1);
    expect(manifest.lists.length).toBeGreaterThan(1);
    expect(quiet.lastBuild()?.filesStored).toBe(fresh.length);
    // The new list is a small part of the sites' lists.
    const listBytes = manifest.lists.reduce((n, l) => n + l.size, 0);
    expect(storedAfter.get(freshLists[0]!)!).toBeLessThan(listBytes / 2);
    quiet.close();
  });

  it('hands an edge only the contents of its own latest release, and sweeps the rest', async () => {
    const quiet = new BundleBuilder({ store, signer, logger: pino({ level: 'silent' }) });
    await write(many(domains));
    await quiet.rebuild();
    const filesOf = async (edge: string) => {
      const b = await store.latestBundle(edge);
      const m = verifyBundle(JSON.parse(b!.body), signer.publicKeyPem, edge);
      return resolveFiles(m, (h) => store.releaseFiles(h));
    };
    const onlyC = (await filesOf('c')).find((f) => f.path === 'nginx/sites/only-c.test.conf');
    expect(onlyC).toBeDefined();
    expect(await quiet.serves('c', [onlyC!.sha256])).toBe(true);
    expect(await quiet.serves('a', [onlyC!.sha256])).toBe(false);
    expect(await quiet.serves('a', ['0'.repeat(64)])).toBe(false);
    // A fresh builder (a restarted control plane) answers from the store.
    const fresh = new BundleBuilder({ store, signer, logger: pino({ level: 'silent' }) });
    expect(await fresh.serves('c', [onlyC!.sha256])).toBe(true);
    expect(await fresh.serves('a', [onlyC!.sha256])).toBe(false);
    fresh.close();

    // Twelve changes: only the 10 newest releases per edge are kept, and their contents only.
    for (let i = 0; i < 12; i++) {
      await write(many(domains, i % 2 === 0 ? 'one.test' : 'two.test'));
      await quiet.rebuild();
    }
    const kept = new Set<string>();
    for (const b of await store.keptBundles()) {
      const m = verifyBundle(JSON.parse(b.body), signer.publicKeyPem, b.edge);
      for (const f of await resolveFiles(m, (h) => store.releaseFiles(h))) kept.add(f.sha256);
      for (const l of m.lists) kept.add(l.sha256);
    }
    expect(quiet.lastBuild()?.filesSwept).toBeGreaterThanOrEqual(0);
    const stored = await store.releaseFiles([...kept]);
    expect(stored.size).toBe(kept.size);
    // Nothing else is stored: the store's byte count is exactly the kept contents.
    const bytes = [...stored.values()].reduce((n, c) => n + c.length, 0);
    expect(await store.releaseFilesBytes()).toBe(bytes);
    quiet.close();
  });

  /** Every stored content, by hash, with its size. */
  async function keptHashes(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const b of await store.keptBundles()) {
      const m = verifyBundle(JSON.parse(b.body), signer.publicKeyPem, b.edge);
      for (const f of await resolveFiles(m, (h) => store.releaseFiles(h)))
        out.set(f.sha256, f.size);
      for (const l of m.lists) out.set(l.sha256, l.size);
    }
    return out;
  }
});

// ---- issue 16: the country database in the releases of the edges that need it ----
describe('BundleBuilder: client-geography databases', () => {
  let store: Store;
  let signer: BundleSigner;
  const builders: BundleBuilder[] = [];
  const geoSpec = (raw?: string, asns = false): SpecInput => ({
    edges: [
      { name: 'a', host: { v4: '192.0.2.1' }, ...(raw ? { raw_nginx: raw } : {}) },
      { name: 'b', host: { v4: '192.0.2.2' } },
    ],
    sites: [
      {
        domain: 'geo.example.com',
        origins: [{ host: { v4: '192.0.2.10' }, protocol: 'http' }],
        edges: ['a'],
        access: {
          rules: [{ match: asns ? { asns: [64500] } : { countries: ['CN'] }, action: 'deny' }],
        },
      },
      {
        domain: 'plain.example.com',
        origins: [{ host: { v4: '192.0.2.10' }, protocol: 'http' }],
      },
    ],
  });
  const write = (s: SpecInput) =>
    store.writeState(parseSpec(s), {
      actor: 'test',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });
  const builderWith = (geoip?: ConstructorParameters<typeof BundleBuilder>[0]['geoip']) => {
    const b = new BundleBuilder({
      store,
      signer,
      logger: pino({ level: 'silent' }),
      nginx: '/usr/sbin/nginx',
      ...(geoip !== undefined ? { geoip } : {}),
    });
    builders.push(b);
    return b;
  };
  const database = (country: string, asn?: number) => {
    const content = testGeoipDatabase([
      { network: '127.0.0.0/8', country, ...(asn !== undefined ? { asn } : {}) },
    ]);
    return { content, sha256: sha256Hex(content), hasAsn: asn !== undefined };
  };
  const manifestOf = async (edge: string) => {
    const b = await store.latestBundle(edge);
    return verifyBundle(JSON.parse(b?.body ?? ''), signer.publicKeyPem, edge);
  };

  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    signer = await ensureSigningKey(store);
  });
  afterEach(async () => {
    for (const b of builders.splice(0)) b.close();
    await store.close();
  });

  it('refuses the release of an edge whose sites need it when no database is set, naming the setting; other edges publish', async () => {
    const builder = builderWith();
    await write(geoSpec());
    await builder.rebuild();
    expect(await store.latestBundle('a')).toBeUndefined();
    expect((await store.latestBundle('b'))?.release).toBe(1);
    const [error] = builder.buildErrors();
    expect(error?.edge).toBe('a');
    expect(error?.message).toContain('geo.example.com');
    expect(error?.message).toContain('--geoip-database PATH');
    expect(error?.message).toContain('outpost geoip build');
    const events = await store.listEvents({ limit: 5 });
    expect(events.some((e) => e.action === 'bundle.rejected' && e.subject === 'a')).toBe(true);
  });

  it('ships the database as one content-addressed file to the edges that need it, stored once for every release', async () => {
    let reads = 0;
    let db = database('DE');
    const builder = builderWith({
      country: () => {
        reads++;
        return Promise.resolve(db);
      },
    });
    const puts: string[] = [];
    const put = store.putReleaseFiles.bind(store);
    store.putReleaseFiles = (files) => {
      puts.push(...files.map((f) => f.sha256));
      return put(files);
    };
    await write(geoSpec());
    await builder.rebuild();
    expect(builder.buildErrors()).toEqual([]);
    const a = await manifestOf('a');
    const entry = a.files.find((f) => f.path === 'geoip/country.mmdb');
    expect(entry).toEqual({
      path: 'geoip/country.mmdb',
      mode: 0o644,
      sha256: db.sha256,
      size: db.content.length,
    });
    expect((await store.releaseFiles([db.sha256])).get(db.sha256)?.equals(db.content)).toBe(true);
    const modules = await resolveFiles(a, (h) => store.releaseFiles(h));
    expect(modules.find((f) => f.path === 'nginx/main/modules.conf')?.content.toString()).toContain(
      'ngx_http_geoip2_module.so',
    );
    expect(modules.find((f) => f.path === 'nginx/edge.conf')?.content.toString()).toContain(
      'geoip2 "releases/1/geoip/country.mmdb"',
    );
    // b serves no site that needs it: no database, no module.
    const b = await manifestOf('b');
    expect(b.files.map((f) => f.path)).not.toContain('geoip/country.mmdb');
    const bFiles = await resolveFiles(b, (h) => store.releaseFiles(h));
    expect(
      bFiles.find((f) => f.path === 'nginx/main/modules.conf')?.content.toString(),
    ).not.toContain('geoip2');

    // A second release of a names the same content and does not store it again.
    await write(geoSpec('# a change of a only'));
    await builder.rebuild();
    expect((await manifestOf('a')).release).toBe(2);
    expect((await manifestOf('a')).files.find((f) => f.path === 'geoip/country.mmdb')?.sha256).toBe(
      db.sha256,
    );
    expect(puts.filter((h) => h === db.sha256)).toHaveLength(1);
    expect(reads).toBe(2); // once per build

    // A new database is a new release of the edges that carry it, and only theirs.
    db = database('FR');
    await builder.rebuild();
    const third = await manifestOf('a');
    expect(third.release).toBe(3);
    expect(third.files.find((f) => f.path === 'geoip/country.mmdb')?.sha256).toBe(db.sha256);
    expect((await manifestOf('b')).release).toBe(1);
  });

  it('ASN matchers need a database with ASNs: the ASN setting, or a country database that has them', async () => {
    const noAsn = builderWith({ country: () => Promise.resolve(database('DE')) });
    await write(geoSpec(undefined, true));
    await noAsn.rebuild();
    expect(await store.latestBundle('a')).toBeUndefined();
    expect(noAsn.buildErrors()[0]?.message).toContain('--geoip-asn-database PATH');
    expect(noAsn.buildErrors()[0]?.message).toContain('has no autonomous_system_number');

    const inCountry = builderWith({ country: () => Promise.resolve(database('DE', 64500)) });
    await inCountry.rebuild();
    expect(inCountry.buildErrors()).toEqual([]);
    expect((await manifestOf('a')).files.map((f) => f.path)).toContain('geoip/country.mmdb');

    const own = database('DE', 64501);
    const separate = builderWith({
      country: () => Promise.resolve(database('DE')),
      asn: () => Promise.resolve(own),
    });
    await write(geoSpec('# asn database', true));
    await separate.rebuild();
    expect(separate.buildErrors()).toEqual([]);
    const paths = (await manifestOf('a')).files.map((f) => f.path);
    expect(paths).toContain('geoip/asn.mmdb');
    expect(paths).not.toContain('geoip/country.mmdb');
  });

  it('a database that cannot be read refuses the release with the reader’s words', async () => {
    const builder = builderWith({
      country: () => Promise.reject(new Error('--geoip-database /nowhere cannot be read (ENOENT)')),
    });
    await write(geoSpec());
    await builder.rebuild();
    expect(await store.latestBundle('a')).toBeUndefined();
    expect(builder.buildErrors()[0]?.message).toBe(
      '--geoip-database /nowhere cannot be read (ENOENT)',
    );
  });
});

// ---- issue 14: one nginx -t per distinct checked rendering (proxy-check/check-cache.ts) ----
describe('BundleBuilder: one nginx -t per distinct rendering', () => {
  let store: Store;
  let signer: BundleSigner;
  let dir: string;
  let counter: string;
  let builder: BundleBuilder;
  const write = (s: SpecInput) =>
    store.writeState(parseSpec(s), {
      actor: 'test',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });
  /** How often the real nginx was started through the counting wrapper. */
  const invocations = async () =>
    (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
  const edgeNames = Array.from({ length: 10 }, (_, i) => `e${i}`);
  const tenEdges = (o: { port?: number; raw?: string; otherHttps?: number } = {}): SpecInput => ({
    edges: edgeNames.map((name, i) => ({
      name,
      host: { v4: `192.0.2.${i + 1}` },
      // e9 listens for HTTPS elsewhere when asked: a different rendering of its own files.
      ...(i === 9 && o.otherHttps !== undefined ? { listen: { https: o.otherHttps } } : {}),
    })),
    sites: [
      {
        domain: 'one.test',
        origins: [{ host: { v4: '192.0.2.10' }, port: o.port ?? 8080, protocol: 'http' }],
      },
      { domain: 'two.test', origins: [{ host: { v4: '192.0.2.11' }, protocol: 'http' }] },
      ...(o.raw !== undefined
        ? [
            {
              domain: 'bad.test',
              origins: [{ host: { v4: '192.0.2.12' }, protocol: 'http' as const }],
              edges: ['e0', 'e1', 'e2', 'e3', 'e4'],
              raw_nginx: o.raw,
            },
          ]
        : []),
    ],
  });

  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    signer = await ensureSigningKey(store);
    dir = await mkdtemp(join(tmpdir(), 'outpost-check-count-'));
    counter = join(dir, 'count');
    // The check module's seam is the nginx binary it runs: a wrapper that counts, then execs
    // the real nginx (its verdict is the real one).
    const wrapper = join(dir, 'nginx');
    await writeFile(wrapper, `#!/bin/sh\necho run >> '${counter}'\nexec /usr/sbin/nginx "$@"\n`);
    await chmod(wrapper, 0o755);
    builder = new BundleBuilder({
      store,
      signer,
      logger: pino({ level: 'silent' }),
      nginx: wrapper,
    });
  });
  afterEach(async () => {
    builder.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('checks ten edges that serve the same sites with one nginx -t, and publishes each its own release', async () => {
    await write(tenEdges());
    await builder.rebuild();
    expect(await invocations()).toBe(1);
    expect(builder.lastBuild()).toMatchObject({ published: 10, checksRun: 1, checksReused: 9 });
    expect(builder.buildErrors()).toEqual([]);
    // The published releases are the edges' own renderings, not the checked one.
    for (const b of await store.latestBundles()) {
      const m = verifyBundle(JSON.parse(b.body), signer.publicKeyPem, b.edge);
      const files = await resolveFiles(m, (h) => store.releaseFiles(h));
      const edgeConf = files.find((f) => f.path === 'nginx/edge.conf')?.content.toString() ?? '';
      expect(edgeConf).toContain(`# Outpost edge "${b.edge}", release 1.`);
      expect(edgeConf).not.toContain(`"${CHECK_EDGE}"`);
    }
  });

  it('checks a changed rendering again, once, and reuses a verdict kept from an earlier build', async () => {
    await write(tenEdges());
    await builder.rebuild();
    expect(await invocations()).toBe(1);
    // One site changed: a new rendering for every edge, checked once.
    await write(tenEdges({ port: 8081 }));
    await builder.rebuild();
    expect(await invocations()).toBe(2);
    expect(builder.lastBuild()).toMatchObject({ published: 10, checksRun: 1, checksReused: 9 });
    // Back to the first rendering: its verdict is kept, nginx is not run, all ten publish.
    await write(tenEdges());
    await builder.rebuild();
    expect(await invocations()).toBe(2);
    expect(builder.lastBuild()).toMatchObject({ published: 10, checksRun: 0, checksReused: 10 });
    // e9's own listen lines differ: a distinct rendering, checked on its own.
    await write(tenEdges({ otherHttps: 8443 }));
    await builder.rebuild();
    expect(await invocations()).toBe(3);
    expect(builder.lastBuild()).toMatchObject({ published: 1, checksRun: 1, checksReused: 0 });
    expect((await store.latestBundles()).map((b) => b.release)).toEqual([
      3, 3, 3, 3, 3, 3, 3, 3, 3, 4,
    ]);
  });

  it('refuses a failing rendering on every edge that has it, with one nginx -t, and keeps the others', async () => {
    await write(tenEdges());
    await builder.rebuild();
    await write(tenEdges({ raw: 'this_is_not_a_directive on;' }));
    await builder.rebuild();
    expect(await invocations()).toBe(2);
    const errors = builder.buildErrors();
    expect(errors.map((e) => e.edge).sort()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    for (const e of errors)
      expect(e.message).toContain('unknown directive "this_is_not_a_directive"');
    // Refused edges keep release 1; the others had nothing new.
    expect((await store.latestBundles()).map((b) => b.release)).toEqual([
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ]);
    // The same refusal in the next build is a kept verdict: still refused, nginx not run.
    await write(tenEdges({ raw: 'this_is_not_a_directive on;', port: 8080 }));
    await builder.rebuild();
    expect(await invocations()).toBe(2);
    expect(builder.lastBuild()).toMatchObject({ published: 0, checksRun: 0, checksReused: 5 });
    expect(
      builder
        .buildErrors()
        .map((e) => e.edge)
        .sort(),
    ).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });
});
