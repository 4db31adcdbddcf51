// The lab's shortened story in CI (root: network namespaces): separate hosts on a bridge of
// their own, a real resolver sending EDNS Client Subnet to Outpost's PowerDNS, ACME through the
// edges, and the user following DNS. Steps 1 (DE gets fra over HTTPS, MISS then HIT, the
// origin saw one request with SNI), 4 (fra's link cut: DE moves to iad and back, through the
// resolver) and 5 (origin down: STALE, a fast error, DNS stays on the edges). The lab is
// removed after a failure too (afterAll), and a test at the end checks nothing is left.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../scripts/lab/lab.js';
import { LabNet, existingNamespaces } from '../../scripts/lab/netns.js';
import { CHECK_INTERVAL_S, DNS_TTL_S, SITE } from '../../scripts/lab/services.js';

describe('the lab network: its own names only', () => {
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

  it('refuses to start when a namespace of its names exists without its lock, and leaves it alone', () => {
    expect(ip('netns', 'add', 'olabq-fra').status).toBe(0);
    try {
      const net = new LabNet({ prefix: 'olabq' });
      expect(() => net.create()).toThrow(/olabq-fra exist and are not this lab's/);
      net.destroy(); // owns nothing: must not touch olabq-fra
      expect(existingNamespaces()).toContain('olabq-fra');
      expect(existingNamespaces()).not.toContain('olabq-net');
    } finally {
      ip('netns', 'del', 'olabq-fra');
    }
  });

  it("removes a dead lab's namespaces at the next start, as its lock file lists them", () => {
    const dead = spawnSync('true').pid;
    const net = new LabNet({ prefix: 'olabr' });
    expect(ip('netns', 'add', 'olabr-net').status).toBe(0);
    mkdirSync(dirname(net.lockFile), { recursive: true });
    writeFileSync(net.lockFile, JSON.stringify({ pid: dead, namespaces: ['olabr-net'] }));
    expect(net.cleanupStale()).toBe(true);
    expect(existingNamespaces()).not.toContain('olabr-net');
    expect(existsSync(net.lockFile)).toBe(false);
  });
});

describe('the lab: the CDN in separate network namespaces (shortened story)', () => {
  const lab = new Lab({ prefix: 'olabt' });

  beforeAll(async () => {
    await lab.start();
  }, 90_000);

  afterAll(async () => {
    await lab.stop();
  }, 60_000);

  it('refuses to start a second lab on the same namespaces', async () => {
    const again = new Lab({ prefix: 'olabt' });
    expect(() => again.net.create()).toThrow(/is running|exist and are not this lab's/);
    await again.stop().catch(() => undefined);
    // the refused start removed nothing of the running lab
    expect(existingNamespaces()).toContain('olabt-fra');
  });

  it('step 1: DE resolves through the resolver, gets fra, HTTPS with an ACME certificate, MISS then HIT, one request at the origin with SNI', async () => {
    const r = await lab.step1();
    expect(r.edge).toBe('fra');
    expect(r.first.status).toBe(200);
    expect(r.first.headers['x-cdn-node']).toBe('fra');
    expect(r.first.headers['x-cache-status']).toBe('MISS');
    expect(r.second.headers['x-cache-status']).toBe('HIT');
    expect(r.originSaw).toEqual([{ path: '/static/app.css', host: SITE, sni: SITE, tls: true }]);
    expect(r.ok).toBe(true);
  }, 150_000);

  it("step 4: fra's link goes down: DE is moved to iad through the resolver, within interval + timeout + TTL; back after", async () => {
    const r = await lab.step4();
    expect(r.movedTo).toBe('iad');
    expect(r.servedBy).toBe('iad');
    // the resolver honours the TTL: never more than one check round + timeout + TTL (+1 s slack)
    expect(r.movedMs).toBeLessThan((CHECK_INTERVAL_S + 1 + DNS_TTL_S + 1) * 1000);
    expect(r.backMs).toBeLessThan(30_000);
    expect(r.ok).toBe(true);
  }, 150_000);

  it('step 5: the origin goes down: cached objects STALE, uncached paths a quick error, DNS answers edges only', async () => {
    const r = await lab.step5();
    expect(r.stale.status).toBe(200);
    expect(r.stale.headers['x-cache-status']).toBe('STALE');
    expect(r.uncached.status).toBeGreaterThanOrEqual(500);
    expect(r.uncached.totalMs).toBeLessThan(5000);
    expect(r.answers).toEqual({ de: 'fra', us: 'iad', jp: 'hk', br: 'gru' });
    expect(r.ok).toBe(true);
  }, 120_000);

  it('removes every namespace, its lock and its processes when stopped', async () => {
    await lab.stop();
    expect(existingNamespaces().filter((n) => n.startsWith('olabt-'))).toEqual([]);
    expect(existsSync(lab.net.lockFile)).toBe(false);
  }, 60_000);
});
