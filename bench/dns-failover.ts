// `npx tsx bench/dns-failover.ts [--interval 5] [--rounds 5]`: how long PowerDNS takes to move
// a client off an edge whose own health endpoint starts failing, and back when it recovers.
//
// Loopback only: a real pdns_server 4.7 (test/support/powerdns.ts) with the converted GeoIP
// database and `lua-health-checks-interval` = --interval, the four-edge scenario of the tests
// (test/support/dns-scenario.ts), Outpost's published LUA record, and dig +subnet from
// Germany (DE → fra; fra failing → iad) at 127.0.0.1. Each round, after a random pause within
// one interval: fra answers 503, time until DE gets iad (failover); fra answers 200, time until
// DE gets fra (recovery). Prints a table (median, min, max). A benchmark measures and prints: it never fails on a time; every wait
// is bounded (60 s).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../src/dns/index.js';
import { buildGeoipDatabase, defaultGeoipSource } from '../src/dns/geoip/build.js';
import { stdio, table } from '../src/cli/output.js';
import { scenarioSpec, startScenario, who } from '../test/support/dns-scenario.js';
import { dig, startPowerDns } from '../test/support/powerdns.js';
import { tempDir } from '../test/support/processes.js';

const { values } = parseArgs({
  options: { interval: { type: 'string', default: '5' }, rounds: { type: 'string', default: '5' } },
});
const interval = Number(values.interval);
const rounds = Math.min(20, Math.max(1, Number(values.rounds)));
const DE = '193.99.144.0/24';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function until(
  edge: string,
  pdns: Awaited<ReturnType<typeof startPowerDns>>,
): Promise<number> {
  const t = Date.now();
  while (Date.now() - t < 60_000) {
    const got = await dig(pdns, 'www.example.com', 'A', DE);
    if (got.length === 1 && who(got[0] ?? '') === edge) return Date.now() - t;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`DE never got ${edge} within 60 s`);
}

const dir = tempDir('bench-dns');
const geo = join(dir.path, 'geoip2.mmdb');
buildGeoipDatabase(defaultGeoipSource(), geo);
const pdns = await startPowerDns({ geoipDatabase: geo, healthCheckInterval: interval });
const sc = await startScenario();
try {
  const spec = scenarioSpec(sc.port, {
    provider: 'powerdns',
    api_url: pdns.apiUrl,
    api_key: 'env:PDNS_KEY',
    dns_servers: [`127.0.0.1:${pdns.dnsPort}`],
  });
  if (spec.dns === undefined) throw new Error('no dns');
  const provider = createDnsProvider(spec.dns, { secretVars: { PDNS_KEY: pdns.apiKey } });
  await applyDnsPlan(provider, await planDnsChanges(provider, spec));
  await until('fra', pdns);
  const failover: number[] = [];
  const recovery: number[] = [];
  // a random pause before each change, so that it lands anywhere in the check cycle (right
  // after the previous flip was seen it would land just after a check: a whole interval)
  const pause = () => new Promise((r) => setTimeout(r, Math.random() * interval * 1000));
  for (let i = 0; i < rounds; i++) {
    await pause();
    sc.health.set('fra', 'failing');
    failover.push(await until('iad', pdns));
    await pause();
    sc.health.set('fra', 'up');
    recovery.push(await until('fra', pdns));
  }
  const row = (what: string, xs: number[]) => [
    what,
    String(median(xs)),
    String(Math.min(...xs)),
    String(Math.max(...xs)),
    String(xs.length),
  ];
  stdio.line(
    `PowerDNS ${interval} s check interval, timeout 1 s: DE client, edge fra answers 503 / 200`,
  );
  stdio.line(
    table([
      ['WHAT', 'MEDIAN MS', 'MIN MS', 'MAX MS', 'ROUNDS'],
      row('failover', failover),
      row('recovery', recovery),
    ]),
  );
} finally {
  await sc.stop();
  await pdns.stop();
  dir.remove();
}
