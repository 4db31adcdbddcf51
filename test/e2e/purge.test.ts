// Purge on a real two-edge CDN: by URL, prefix, tag and whole site, confirmed per edge by
// `outpost purge`; an edge that was down purges when it comes back, before serving again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';

const HOST = 'shop.test';

describe('purge through the edges of a site', () => {
  const cdn = new TestCdn({ edges: { a: '127.0.0.6', b: '127.0.0.7' } });
  let origin: TestOrigin;

  const cacheStatus = async (edge: 'a' | 'b', path: string) =>
    (await cdn.get(edge, path, HOST)).headers['x-cache-status'];
  /** Requests each path on both edges until it is a HIT there. */
  const warm = async (...paths: string[]) => {
    for (const edge of ['a', 'b'] as const)
      for (const p of paths) {
        await cdn.get(edge, p, HOST);
        expect(await cacheStatus(edge, p)).toBe('HIT');
      }
  };
  const statuses = async (path: string) => [
    await cacheStatus('a', path),
    await cacheStatus('b', path),
  ];

  beforeAll(async () => {
    origin = await startOrigin({
      routes: {
        '/assets/tagged.js': (_req, res) => {
          res.setHeader('cache-control', 'max-age=300');
          res.setHeader('cache-tag', 'product-1, home');
          res.end('tagged');
        },
      },
    });
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('a')}${cdn.edgeYaml('b')}sites:
  - domain: ${HOST}
    aliases: [www.${HOST}]
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
`);
    await cdn.startAgents();
  }, 60_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('by URL: both edges miss on it next and confirm; other URLs still hit', async () => {
    await warm('/assets/a.js', '/assets/b.js');
    const r = await cdn.cli(['purge', HOST, `https://${HOST}/assets/a.js`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Purge \d+ of shop\.test sent to 2 edges\./);
    expect(r.stdout).toContain('  a: done (1 object removed)');
    expect(r.stdout).toContain('  b: done (1 object removed)');
    expect(r.stdout).toMatch(/Purge \d+ done on every edge\./);
    expect(await statuses('/assets/a.js')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/assets/b.js')).toEqual(['HIT', 'HIT']);
  });

  it('by prefix, by tag, and the whole site', async () => {
    await warm('/assets/a.js', '/static/c.css', '/assets/tagged.js');
    expect((await cdn.cli(['purge', HOST, '--prefix', '/static/'])).code).toBe(0);
    expect(await statuses('/static/c.css')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/assets/a.js')).toEqual(['HIT', 'HIT']);

    expect((await cdn.cli(['purge', HOST, '--tag', 'product-1'])).code).toBe(0);
    expect(await statuses('/assets/tagged.js')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/assets/a.js')).toEqual(['HIT', 'HIT']);

    // An object cached under an alias belongs to the site too.
    await cdn.get('a', '/assets/alias.js', `www.${HOST}`);
    expect((await cdn.get('a', '/assets/alias.js', `www.${HOST}`)).headers['x-cache-status']).toBe(
      'HIT',
    );
    const all = await cdn.cli(['purge', HOST, '--all']);
    expect(all.code).toBe(0);
    expect(await statuses('/assets/a.js')).toEqual(['MISS', 'MISS']);
    expect(await statuses('/static/c.css')).toEqual(['MISS', 'MISS']);
    expect((await cdn.get('a', '/assets/alias.js', `www.${HOST}`)).headers['x-cache-status']).toBe(
      'MISS',
    );
  });

  it('refuses an ambiguous or unknown purge with a clear message', async () => {
    const both = await cdn.cli(['purge', HOST, '/x', '--all']);
    expect(both.code).toBe(1);
    expect(both.stderr.trim()).toBe(
      'outpost: give exactly one of: URLs, --prefix PATH, --all, --tag TAG',
    );
    const unknown = await cdn.cli(['purge', 'nope.test', '--all']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no site "nope.test"');
  });

  it('an edge that was down purges when it comes back, before serving from its cache', async () => {
    await warm('/assets/a.js');
    await cdn.agents.b?.stop('SIGKILL');
    cdn.stopProxy('b');
    await eventually('edge b to stop serving', () =>
      cdn.get('b', '/assets/a.js', HOST).then(
        () => undefined,
        () => true,
      ),
    );
    const r = await cdn.cli(['purge', HOST, '/assets/a.js', '--timeout', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  a: done (1 object removed)');
    expect(r.stdout).toContain('  b: pending');
    expect(r.stderr).toMatch(/purge (\d+): b did not confirm within 2 s/);
    const id = /purge (\d+):/.exec(r.stderr)?.[1];

    cdn.startAgent('b');
    const back = await eventually('edge b to serve again', async () => {
      const res = await cdn.get('b', '/assets/a.js', HOST).catch(() => undefined);
      return res?.status === 200 ? res : undefined;
    });
    // The first answer after the restart is a MISS: the purge ran before nginx started.
    expect(back.headers['x-cache-status']).toBe('MISS');
    const purge = (await (
      await fetch(`${cdn.cpUrl}/v1/purges/${id}`, {
        headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
      })
    ).json()) as { edges: { edge: string; state: string; removed: number }[] };
    expect(purge.edges.map((e) => [e.edge, e.state, e.removed])).toEqual([
      ['a', 'done', 1],
      ['b', 'done', 1],
    ]);
  });
});
