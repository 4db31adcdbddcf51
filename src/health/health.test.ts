import { describe, expect, it } from 'vitest';
import { parseSpec, sitesServedBy } from '../spec/index.js';
import { combine, HealthBook } from './health-book.js';
import { probeTargets } from './prober.js';
import { buildStatus, edgesPerSite, siteStatus } from './status.js';
import { hitRatio, TrafficBook } from './traffic-book.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, s)).toISOString();

describe('HealthBook hysteresis', () => {
  it('goes down after two failures in a row and up after two successes', () => {
    const book = new HealthBook({ downAfter: 2, upAfter: 2 });
    expect(book.record('x', { ok: true, reason: 'status 200', at: at(0) })).toBe(true);
    expect(book.get('x').state).toBe('up');
    expect(book.record('x', { ok: false, reason: 'timeout after 5000 ms', at: at(1) })).toBe(false);
    expect(book.get('x').state).toBe('up'); // one failure is not enough
    expect(book.record('x', { ok: true, reason: 'status 200', at: at(2) })).toBe(false);
    book.record('x', { ok: false, reason: 'connection failed: ECONNREFUSED', at: at(3) });
    expect(
      book.record('x', { ok: false, reason: 'connection failed: ECONNREFUSED', at: at(4) }),
    ).toBe(true);
    expect(book.get('x')).toMatchObject({
      state: 'down',
      reason: 'connection failed: ECONNREFUSED',
      since: at(4),
    });
    book.record('x', { ok: true, reason: 'status 200', at: at(5) });
    expect(book.get('x').state).toBe('down');
    book.record('x', { ok: true, reason: 'status 200', at: at(6) });
    expect(book.get('x')).toMatchObject({ state: 'up', reason: null, since: at(6) });
    expect(book.get('x').history.map((h) => `${h.from}→${h.to}`)).toEqual([
      'unknown→up',
      'up→down',
      'down→up',
    ]);
  });

  it('combines targets into up, degraded, down or unknown', () => {
    const book = new HealthBook({ downAfter: 1, upAfter: 1 });
    book.record('a', { ok: true, reason: 'ok', at: at(0) });
    book.record('b', { ok: false, reason: 'status 502', at: at(0) });
    expect(combine([book.get('a')])).toEqual({ health: 'up', reason: null });
    expect(combine([book.get('a'), book.get('b')])).toEqual({
      health: 'degraded',
      reason: 'status 502',
    });
    expect(combine([book.get('b')])).toEqual({ health: 'down', reason: 'status 502' });
    expect(combine([book.get('never')])).toEqual({ health: 'unknown', reason: null });
  });
});

describe('TrafficBook', () => {
  it('keeps per-minute buckets whose sum is the total, and the hit ratio over cache lookups', () => {
    const book = new TrafficBook(3);
    const t0 = new Date(Date.UTC(2026, 10, 26, 12, 0, 10));
    const site = (requests: number, hits: number, misses: number) => ({
      requests,
      bytes: requests * 10,
      status: { '2xx': requests },
      cache: { HIT: hits, MISS: misses, BYPASS: requests - hits - misses },
    });
    book.record(
      'a',
      { since: '', until: '', sites: { 's.test': site(10, 6, 2), 't.test': site(5, 0, 5) } },
      t0,
    );
    book.record(
      'a',
      { since: '', until: '', sites: { 's.test': site(4, 4, 0) } },
      new Date(t0.getTime() + 60_000),
    );
    const s = book.summary('a', new Date(t0.getTime() + 60_000));
    expect(s.requests).toBe(19);
    expect(s.series.map((p) => p.requests)).toEqual([0, 15, 4]);
    expect(s.series.reduce((n, p) => n + p.requests, 0)).toBe(s.requests);
    expect(s.hit_ratio).toBeCloseTo(10 / 17);
    expect(book.total('a', 's.test')).toMatchObject({ requests: 14, bytes: 140 });
    expect(book.pairs()).toEqual([
      { edge: 'a', site: 's.test' },
      { edge: 'a', site: 't.test' },
    ]);
    expect(hitRatio({ BYPASS: 3 })).toBeNull();
  });
});

describe('probes and status', () => {
  const spec = parseSpec({
    edges: [
      { name: 'a', host: { v4: '127.0.0.2' }, listen: { http: 8080 } },
      { name: 'p', host: { v4: '127.0.0.9' }, paused: true },
    ],
    sites: [
      {
        domain: 's.test',
        origins: [{ host: { v4: '127.0.0.1' }, port: 9443, tls_server_name: 'origin.test' }],
        health_check: { uri: 'https://s.test/healthz' },
      },
    ],
  });

  it('probes each edge, each site through each edge, and each origin with its TLS name', () => {
    const targets = probeTargets(spec);
    expect(targets.map((t) => [t.id, t.url, t.host])).toEqual([
      ['edge:a', 'http://127.0.0.2:8080/', 'outpost-probe.invalid'],
      ['edge:a:site:s.test', 'http://127.0.0.2:8080/healthz', 's.test'],
      ['origin:s.test:0', 'https://127.0.0.1:9443/healthz', 's.test'],
    ]);
    expect(targets[2]?.tls).toEqual({ servername: 'origin.test', verify: true });
  });

  it('a site whose origins are down is down (a site_down alert), and its edge stays up; alerts name what is wrong', () => {
    const book = new HealthBook({ downAfter: 1, upAfter: 1 });
    book.record('edge:a', { ok: true, reason: 'status 421', at: at(0) });
    book.record('edge:a:site:s.test', { ok: false, reason: 'status 502', at: at(0) });
    book.record('origin:s.test:0', {
      ok: false,
      reason: 'connection failed: ECONNREFUSED',
      at: at(0),
    });
    const input = {
      spec,
      revision: 3,
      bundles: [{ edge: 'a', release: 2, revision: 3 }],
      reports: [{ edge: 'a', report: {}, last_seen: at(0) }],
      buildErrors: [],
      now: new Date(at(100)),
      offlineAfterSeconds: 30,
      health: (id: string) => book.get(id),
      traffic: new TrafficBook(),
    };
    const snapshot = buildStatus(input);
    // The status service passes the edges of each site, compiled once per revision.
    expect(buildStatus({ ...input, edgesOf: edgesPerSite(spec) })).toEqual(snapshot);
    // A paused edge serves nothing.
    expect(edgesPerSite(spec).get('s.test')).toEqual(['a']);
    expect(snapshot.sites[0]?.edges.map((e) => e.name)).toEqual(['a']);
    expect(snapshot.edges.map((e) => [e.name, e.health, e.state])).toEqual([
      ['a', 'up', 'offline'],
      ['p', 'unknown', 'never-seen'],
    ]);
    expect(snapshot.sites).toEqual([
      expect.objectContaining({
        domain: 's.test',
        health: 'down',
        reason: 'origins: connection failed: ECONNREFUSED',
      }),
    ]);
    expect(snapshot.alerts.map((a) => [a.kind, a.subject])).toEqual([
      ['edge_down', 'a'],
      ['site_down', 's.test'],
    ]);
    expect(snapshot.alerts[0]?.message).toBe('edge a has not reported for 100 s');
    expect(snapshot.alerts[1]?.message).toBe(
      'site s.test is down: origins: connection failed: ECONNREFUSED',
    );
    // Each sentence carries its code and values beside it (spec/messages.ts), for the UI.
    const refused = { code: 'probe_connection_failed', params: { error: 'ECONNREFUSED' } };
    expect(snapshot.sites[0]?.reason_code).toEqual({
      code: 'site_origins_down',
      params: { reason: refused },
    });
    expect(snapshot.sites[0]?.origins[0]?.reason_code).toEqual(refused);
    expect(snapshot.sites[0]?.edges[0]?.reason_code).toEqual({
      code: 'probe_status',
      params: { status: '502' },
    });
    expect(snapshot.alerts.map((a) => [a.code, a.params])).toEqual([
      ['alert_edge_offline', { edge: 'a', seconds: '100' }],
      [
        'alert_site_down',
        { site: 's.test', reason: { code: 'site_origins_down', params: { reason: refused } } },
      ],
    ]);
  });

  it('codes an edge’s health reason, its build error and its note; an agent’s own words keep none', () => {
    const book = new HealthBook({ downAfter: 1, upAfter: 1 });
    book.record('edge:a', { ok: false, reason: 'timeout after 5000 ms', at: at(0) });
    const report = (extra: Record<string, unknown>) => ({
      agent_version: '1',
      applied_release: 2,
      applied_hash: null,
      failed_release: null,
      last_error: null,
      proxy: 'nginx',
      proxy_running: true,
      started_at: at(0),
      ...extra,
    });
    const base = {
      spec,
      revision: 3,
      bundles: [{ edge: 'a', release: 2, revision: 3 }],
      now: new Date(at(5)),
      offlineAfterSeconds: 30,
      health: (id: string) => book.get(id),
      traffic: new TrafficBook(),
    };
    const built = buildStatus({
      ...base,
      reports: [
        { edge: 'a', report: report({ capabilities: { cache: false } }), last_seen: at(0) },
      ],
      buildErrors: [{ edge: 'a', message: 'nginx rejected the rendered configuration: bad' }],
    });
    const a = built.edges[0];
    expect(a?.health_reason).toBe('timeout after 5000 ms');
    expect(a?.health_reason_code).toEqual({ code: 'probe_timeout', params: { ms: '5000' } });
    expect(a?.error).toBe('control plane: nginx rejected the rendered configuration: bad');
    expect(a?.error_code).toEqual({
      code: 'edge_control_plane_error',
      params: { error: { code: 'build_nginx_rejected', params: { output: 'bad' } } },
    });
    expect(a?.note).toBe('this edge proxies every request without caching');
    expect(a?.note_code).toEqual({ code: 'edge_note_no_cache', params: {} });
    expect(built.alerts.find((x) => x.kind === 'edge_down')).toMatchObject({
      message: 'edge a is down: timeout after 5000 ms',
      code: 'alert_edge_down',
      params: { edge: 'a', reason: { code: 'probe_timeout', params: { ms: '5000' } } },
    });
    const own = buildStatus({
      ...base,
      reports: [{ edge: 'a', report: report({ last_error: 'disk full' }), last_seen: at(0) }],
      buildErrors: [],
    });
    expect(own.edges[0]?.error).toBe('disk full');
    expect(own.edges[0]?.error_code).toBeUndefined();
    expect(own.alerts.find((x) => x.kind === 'config_error')).toMatchObject({
      message: 'edge a: disk full',
      code: 'alert_config_error',
      params: { edge: 'a', error: 'disk full' },
    });
  });

  describe('a site’s edges in the snapshot: counted, and listed only where it is down', () => {
    const three = parseSpec({
      edges: ['x', 'y', 'z'].map((name, i) => ({
        name,
        host: { v4: `127.0.0.${i + 2}` },
      })),
      sites: [
        { domain: 's.test', origins: [{ host: { v4: '127.0.0.1' } }] },
        { domain: 't.test', origins: [{ host: { v4: '127.0.0.1' } }], edges: ['y'] },
      ],
    });
    const input = (book: HealthBook) => ({
      spec: three,
      revision: 1,
      bundles: [],
      reports: [],
      buildErrors: [],
      now: new Date(at(10)),
      offlineAfterSeconds: 30,
      health: (id: string) => book.peek(id),
      traffic: new TrafficBook(),
    });

    it('a site down on 1 edge of 3 lists that edge only, with the counts of all three', () => {
      const book = new HealthBook({ downAfter: 1, upAfter: 1 });
      book.record('edge:x:site:s.test', { ok: true, reason: 'status 200', at: at(0) });
      book.record('edge:y:site:s.test', { ok: false, reason: 'status 502', at: at(0) });
      book.record('edge:z:site:s.test', { ok: true, reason: 'status 200', at: at(0) });
      book.record('edge:y:site:t.test', { ok: true, reason: 'status 200', at: at(0) });
      const snapshot = buildStatus(input(book));
      const [s, t] = snapshot.sites;
      expect(s).toMatchObject({
        domain: 's.test',
        health: 'degraded',
        reason: 'status 502',
        edges_by_health: { up: 2, down: 1, unknown: 0 },
        edges: [
          {
            name: 'y',
            health: 'down',
            reason: 'status 502',
            reason_code: { code: 'probe_status', params: { status: '502' } },
          },
        ],
      });
      expect(s?.edges).toHaveLength(1);
      // A site served by one edge only counts that one.
      expect(t).toMatchObject({
        domain: 't.test',
        health: 'up',
        edges_by_health: { up: 1, down: 0, unknown: 0 },
        edges: [],
      });
      // The full list of one site (GET /v1/status/sites/:domain): every edge, the same verdict.
      const of = edgesPerSite(three);
      expect(of.get('s.test')).toEqual(['x', 'y', 'z']);
      expect(of.get('t.test')).toEqual(['y']);
      // The same answer as the edges' own plans give (the sites each edge serves, inverted).
      const planned = new Map(three.sites.map((site) => [site.domain, [] as string[]]));
      for (const edge of three.edges)
        for (const site of sitesServedBy(three, edge)) planned.get(site.domain)?.push(edge.name);
      expect(of).toEqual(planned);
      const full = siteStatus(three.sites[0]!, of.get('s.test')!, (id) => book.peek(id), 'all');
      expect(full.edges.map((e) => [e.name, e.health])).toEqual([
        ['x', 'up'],
        ['y', 'down'],
        ['z', 'up'],
      ]);
      expect({ ...full, edges: [] }).toEqual({ ...s, edges: [] });
    });

    it('without probes (all unknown) the counts say so and no edge is listed', () => {
      const snapshot = buildStatus(input(new HealthBook()));
      expect(snapshot.sites.map((s) => [s.domain, s.health, s.edges_by_health, s.edges])).toEqual([
        ['s.test', 'unknown', { up: 0, down: 0, unknown: 3 }, []],
        ['t.test', 'unknown', { up: 0, down: 0, unknown: 1 }, []],
      ]);
    });

    it('down on every edge: the site is down, each edge listed with its reason', () => {
      const book = new HealthBook({ downAfter: 1, upAfter: 1 });
      for (const e of ['x', 'y', 'z'])
        book.record(`edge:${e}:site:s.test`, { ok: false, reason: 'status 503', at: at(0) });
      const s = buildStatus(input(book)).sites[0];
      expect(s?.health).toBe('down');
      expect(s?.reason).toBe('edges: status 503');
      expect(s?.edges_by_health).toEqual({ up: 0, down: 3, unknown: 0 });
      expect(s?.edges.map((e) => e.name)).toEqual(['x', 'y', 'z']);
    });
  });
});
