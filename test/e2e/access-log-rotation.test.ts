// The JSON access log on a real nginx edge stays bounded on disk: at its size limit the agent
// renames it (access.json → .1 → .2, the oldest beyond --access-log-keep deleted) and sends
// SIGUSR1 to the nginx master, which reopens the file without a reload (same master, same
// release). Every request is still counted once in the traffic the control plane shows. The
// WAF log (ModSecurity's messages) is read and rotated by the same reader with the same limits.
// With --access-log-syslog, nginx also sends each line to a syslog collector (a UDP listener
// here): the main nginx.conf with that line passes the agent's nginx -t and is live.
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';

const HOST = 'logs.test';
const WAF_HOST = 'waf.logs.test';
/** A browser's headers: CRS flags a request without them, the attack is what must block. */
const BROWSER = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
};

describe('access log rotation on a real nginx edge', { timeout: 300_000 }, () => {
  const cdn = new TestCdn({
    edges: { lg1: '127.0.0.82' },
    serveArgs: ['--nginx-check', 'off'],
    // 4 KiB: a rotation every dozen requests or so.
    agentArgs: ['--access-log-max-size', '0.004', '--access-log-keep', '2'],
  });
  let origin: TestOrigin;
  const logs = () => join(cdn.root('lg1'), 'logs');
  let collector: Socket;
  const datagrams: string[] = [];

  beforeAll(async () => {
    collector = createSocket('udp4');
    collector.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
    cdn.opts.agentArgs?.push('--access-log-syslog', `127.0.0.1:${collector.address().port}`);
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('lg1')}sites:
  - domain: ${HOST}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    tls: {acme: false}
  - domain: ${WAF_HOST}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    tls: {acme: false}
    waf: {enabled: true, mode: block}
`);
    cdn.startAgent('lg1');
    // Beside other suites on a loaded machine, an agent's start takes a while.
    await eventually(
      'the edge to apply its release',
      async () => ((await cdn.status())[0]?.applied_release ? true : undefined),
      150_000,
      500,
    );
  }, 200_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
    collector?.close();
  });

  it('sends each access-log line to the syslog collector too, tagged outpost', async () => {
    const conf = readFileSync(join(cdn.root('lg1'), 'live', 'nginx.conf'), 'utf8');
    expect(conf).toContain(
      `access_log syslog:server=127.0.0.1:${collector.address().port},tag=outpost outpost_json;`,
    );
    const r = await cdn.get('lg1', '/via-syslog?x=1', HOST);
    expect(r.status).toBeLessThan(500);
    const got = await eventually('the line at the collector', async () => {
      await Promise.resolve();
      return datagrams.find((d) => d.includes('/via-syslog?x=1'));
    });
    // RFC 3164 as nginx writes it: <PRI>TIMESTAMP HOSTNAME TAG: MESSAGE (the JSON line).
    const m = /^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ outpost: (\{.*\})$/.exec(got);
    expect(m, got).not.toBeNull();
    const line = JSON.parse(m?.[2] ?? '{}') as { site: string; uri: string; status: number };
    expect(line).toMatchObject({ site: HOST, uri: '/via-syslog?x=1', status: r.status });
    // The file keeps its lines too.
    await eventually('the line in access.json', async () =>
      readFileSync(join(logs(), 'access.json'), 'utf8').includes('/via-syslog?x=1')
        ? true
        : undefined,
    );
  });

  it('rotates by size and count, nginx reopens without a reload, every request is counted', async () => {
    const pid = readFileSync(join(logs(), 'nginx.pid'), 'utf8').trim();
    const [before] = await cdn.status();
    const sent = 120;
    for (let i = 0; i < sent; i++) {
      const r = await cdn.get('lg1', `/rotate/${i}`, HOST);
      expect(r.status).toBeLessThan(500);
      // Spread over several reports (one a second): several rotations.
      if (i % 10 === 9) await new Promise((res) => setTimeout(res, 1_200));
    }
    const traffic = await eventually(
      'every request counted',
      async () => {
        const row = (await cdn.status())[0] as unknown as { traffic: { requests: number } };
        return row.traffic.requests >= sent ? row.traffic : undefined;
      },
      30_000,
      500,
    );
    // The control plane's probes through the edge add requests of their own; exactness (each
    // line once across a rotation) is src/agent/traffic.test.ts's.
    expect(traffic.requests).toBeGreaterThanOrEqual(sent);
    expect(existsSync(join(logs(), 'access.json.1'))).toBe(true);
    expect(existsSync(join(logs(), 'access.json.2'))).toBe(true);
    expect(existsSync(join(logs(), 'access.json.3'))).toBe(false);
    // Bounded: the live file is below the limit plus one report's worth; the rotated ones too.
    for (const f of ['access.json', 'access.json.1', 'access.json.2'])
      expect(statSync(join(logs(), f)).size).toBeLessThan(16 * 1024);
    // nginx writes to the new file (it reopened it) and was not reloaded or restarted.
    await cdn.get('lg1', '/after-rotation', HOST);
    await eventually('the new line in access.json', async () =>
      readFileSync(join(logs(), 'access.json'), 'utf8').includes('/after-rotation')
        ? true
        : undefined,
    );
    expect(readFileSync(join(logs(), 'nginx.pid'), 'utf8').trim()).toBe(pid);
    const [after] = await cdn.status();
    expect(after?.applied_release).toBe(before?.applied_release);
  });

  it('rotates the WAF log at the same bound under a loop of blocked requests', async () => {
    const pid = readFileSync(join(logs(), 'nginx.pid'), 'utf8').trim();
    const sent = 60; // each blocked request writes about 2 KiB of ModSecurity messages
    for (let i = 0; i < sent; i++) {
      const r = await cdn.get('lg1', `/sqli/${i}?id=1'%20OR%20'1'='1`, WAF_HOST, BROWSER);
      expect(r.status).toBe(403);
      if (i % 10 === 9) await new Promise((res) => setTimeout(res, 1_200));
    }
    const blocked = await eventually(
      'every blocked request counted',
      async () => {
        const row = (await cdn.status())[0] as unknown as { traffic: { waf_blocked?: number } };
        const n = row.traffic.waf_blocked ?? 0;
        return n >= sent ? n : undefined;
      },
      30_000,
      500,
    );
    expect(blocked).toBe(sent);
    expect(existsSync(join(logs(), 'waf.log.1'))).toBe(true);
    expect(existsSync(join(logs(), 'waf.log.2'))).toBe(true);
    expect(existsSync(join(logs(), 'waf.log.3'))).toBe(false);
    // Bounded: below the limit plus what a report interval adds (about ten blocked requests).
    for (const f of ['waf.log', 'waf.log.1', 'waf.log.2'])
      expect(statSync(join(logs(), f)).size).toBeLessThan(64 * 1024);
    // nginx reopened the file (SIGUSR1): a new block lands in the live waf.log, same master.
    await cdn.get('lg1', `/after-waf-rotation?id=1'%20OR%20'1'='1`, WAF_HOST, BROWSER);
    await eventually('the new block in waf.log', async () =>
      readFileSync(join(logs(), 'waf.log'), 'utf8').includes('/after-waf-rotation')
        ? true
        : undefined,
    );
    expect(readFileSync(join(logs(), 'nginx.pid'), 'utf8').trim()).toBe(pid);
  });
});
