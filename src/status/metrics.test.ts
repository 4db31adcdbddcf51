import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HealthBook } from '../health/health-book.js';
import { buildStatus } from '../health/status.js';
import { TrafficBook } from '../health/traffic-book.js';
import { parseSpec } from '../spec/index.js';
import { Metrics } from './metrics.js';

const spec = parseSpec({
  edges: [{ name: 'a', host: { v4: '127.0.0.2' } }],
  sites: [{ domain: 's.test', origins: [{ host: { v4: '127.0.0.1' } }] }],
});

function metrics(): Metrics {
  const book = new HealthBook({ downAfter: 1, upAfter: 1 });
  book.record('edge:a', { ok: true, reason: 'status 421', at: new Date().toISOString() });
  book.record('origin:s.test:0', { ok: false, reason: 'status 503', at: new Date().toISOString() });
  return new Metrics(async () =>
    buildStatus({
      spec,
      revision: 4,
      bundles: [{ edge: 'a', release: 3, revision: 4 }],
      reports: [
        {
          edge: 'a',
          report: {
            agent_version: 't',
            applied_release: 2,
            applied_hash: 'h',
            failed_release: null,
            last_error: null,
            proxy: 'nginx',
            proxy_running: true,
            started_at: new Date().toISOString(),
          },
          last_seen: new Date().toISOString(),
        },
      ],
      buildErrors: [],
      now: new Date(),
      offlineAfterSeconds: 30,
      health: (id) => book.get(id),
      traffic: new TrafficBook(),
    }),
  );
}

describe('Prometheus metrics', () => {
  it('counts reported traffic exactly and exposes the gauges from one snapshot', async () => {
    const m = metrics();
    const site = {
      requests: 3,
      bytes: 300,
      status: { '2xx': 2, '5xx': 1 },
      cache: { HIT: 2, MISS: 1 },
      denied: 1,
      rate_limited: 2,
    };
    m.recordTraffic('a', { since: '', until: '', sites: { 's.test': site } });
    m.recordTraffic('a', { since: '', until: '', sites: { 's.test': site } });
    const text = await m.render();
    expect(text).toContain('outpost_requests_total{edge="a",site="s.test",status_class="2xx"} 4');
    expect(text).toContain('outpost_requests_total{edge="a",site="s.test",status_class="5xx"} 2');
    expect(text).toContain('outpost_bytes_sent_total{edge="a",site="s.test"} 600');
    expect(text).toContain('outpost_cache_total{edge="a",site="s.test",cache_status="HIT"} 4');
    expect(text).toContain('outpost_requests_denied_total{edge="a",site="s.test"} 2');
    expect(text).toContain('outpost_requests_rate_limited_total{edge="a",site="s.test"} 4');
    expect(text).toContain('outpost_edge_up{edge="a"} 1');
    expect(text).toContain('outpost_edge_config_lag_releases{edge="a"} 1');
    expect(text).toContain('outpost_origin_up{site="s.test",origin="0"} 0');
    expect(text).toContain('outpost_site_up{site="s.test"} 0');
    expect(text).toContain('outpost_desired_revision 4');
  });

  it('every metric the docs and the Grafana dashboard use exists', async () => {
    const text = await metrics().render();
    const exposed = new Set([...text.matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]));
    const used = new Set(
      [
        readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
        readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8'),
      ].flatMap((t) => [...t.matchAll(/\boutpost_[a-z_]+\b/g)].map((m) => m[0])),
    );
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(exposed, name).toContain(name);
  });
});
