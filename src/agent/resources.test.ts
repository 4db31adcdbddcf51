// The resource collector reads the real /proc and statfs of this machine; each figure is checked
// against what the kernel says through another door (sysinfo via node:os, /sys/class/net, df).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_RESOURCE_SAMPLES, NodeResources } from '../spec/index.js';
import {
  countEstablished,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  ResourceSampler,
} from './resources.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'outpost-resources-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sampler(now: () => Date = () => new Date(), proc = '/proc'): ResourceSampler {
  return new ResourceSampler({
    proc,
    cacheDir: dir,
    stateDir: dir,
    proxyVersion: () => Promise.resolve('1.22.1'),
    now,
  });
}

describe('node resources from the real /proc', () => {
  it('memory, load, uptime and CPU count agree with the kernel (sysinfo through node:os)', async () => {
    const s = await sampler().sample();
    expect(NodeResources.parse(s)).toEqual(s);
    // sysinfo's totalram is MemTotal, to the kB.
    expect(Math.abs(s.memory.total_bytes - os.totalmem())).toBeLessThanOrEqual(1024);
    // libuv's free memory is MemAvailable too; it moves a little between the two reads.
    expect(Math.abs(s.memory.available_bytes - os.freemem())).toBeLessThan(0.05 * os.totalmem());
    expect(s.memory.available_bytes).toBeLessThanOrEqual(s.memory.total_bytes);
    const [l1] = os.loadavg();
    expect(Math.abs((s.load[0] ?? -1) - (l1 ?? 0))).toBeLessThan(1.5);
    expect(Math.abs(s.uptime_seconds - os.uptime())).toBeLessThan(3);
    expect(s.cpus).toBe(os.cpus().length);
    expect(s.proxy_version).toBe('1.22.1');
    // The first sample has no interval behind it: no rates yet.
    expect(s.cpu_percent).toBeNull();
    expect(s.network).toBeNull();
  });

  it('the CPU line adds up to the per-CPU times the kernel gives node:os (USER_HZ 100)', () => {
    const cpu = parseProcStat(readFileSync('/proc/stat', 'utf8'));
    expect(cpu).toBeDefined();
    const ms = os
      .cpus()
      .reduce(
        (n, c) => n + c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq,
        0,
      );
    // node's figures leave out iowait, softirq and steal: ours are at least theirs, and close.
    const jiffies = ms / 10;
    expect(cpu!.total).toBeGreaterThanOrEqual(jiffies * 0.98);
    expect(cpu!.total).toBeLessThan(jiffies * 1.2 + 1000);
    expect(cpu!.busy).toBeGreaterThan(0);
  });

  it('CPU use rises with a busy loop and stays within 0-100', async () => {
    const r = sampler();
    await r.sample();
    const until = Date.now() + 600;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const s = await r.sample();
    expect(s.cpu_percent).not.toBeNull();
    // One core of os.cpus().length was busy the whole time.
    expect(s.cpu_percent!).toBeGreaterThanOrEqual((100 / os.cpus().length) * 0.5);
    expect(s.cpu_percent!).toBeLessThanOrEqual(100);
  });

  it('disk figures are those df prints for the directory', async () => {
    const s = await sampler().sample();
    expect(s.disks.map((d) => d.dir)).toEqual(['cache', 'state']);
    const out = execFileSync('df', ['-B1', '--output=size,avail', dir], { encoding: 'utf8' });
    const [size, avail] = (out.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(Number);
    const d = s.disks[0]!;
    expect(d.total_bytes).toBe(size);
    // Other engineers write to this disk: within 64 MiB of df's figure a moment later.
    expect(Math.abs(d.available_bytes - (avail ?? 0))).toBeLessThan(64 * 2 ** 20);
    expect(d.free_bytes).toBeGreaterThanOrEqual(d.available_bytes);
  });

  it('network counters are the interfaces sysfs counts, and rates come from their deltas', async () => {
    const dev = parseNetDev(readFileSync('/proc/net/dev', 'utf8'));
    const names = readdirSync('/sys/class/net');
    expect([...dev.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      const rx = Number(readFileSync(`/sys/class/net/${name}/statistics/rx_bytes`, 'utf8'));
      const got = dev.get(name)!.rx;
      // Read a moment apart: the counter only grows, by little on a quiet interface.
      expect(rx).toBeGreaterThanOrEqual(got);
      expect(rx - got).toBeLessThan(10 * 2 ** 20);
    }
    let t = Date.parse('2026-12-01T12:00:00Z');
    const r = sampler(() => new Date(t));
    await r.sample();
    t += 10_000;
    const s = await r.sample();
    expect(s.network).not.toBeNull();
    expect(s.network!.rx_bytes_per_second).toBeGreaterThanOrEqual(0);
  });

  it('established connections: a loopback connection is counted', async () => {
    const { createServer, connect } = await import('node:net');
    const server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const tcpNow = () =>
      countEstablished(readFileSync('/proc/net/tcp', 'utf8')) +
      countEstablished(readFileSync('/proc/net/tcp6', 'utf8'));
    const before = (await sampler().sample()).tcp_established!;
    const sockets = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const c = connect(port, '127.0.0.1', () => resolve(c));
          }),
      ),
    );
    try {
      const during = (await sampler().sample()).tcp_established!;
      // Each loopback connection is two established sockets (client and server side). Other
      // processes open and close connections meanwhile: at least 8 of the 10 show.
      expect(during - before).toBeGreaterThanOrEqual(8);
      expect(Math.abs(during - tcpNow())).toBeLessThan(20);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('meminfo without MemAvailable (old kernels) estimates it from free, buffers and cache', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 90 kB\n');
    expect(m).toEqual({ total: 1000 * 1024, available: 200 * 1024 });
  });
});

describe('samples through a control-plane outage', () => {
  it('keeps unaccepted samples, forgets accepted ones, and thins a long outage to the bound', async () => {
    // A copy of this machine's /proc files: thousands of samples without thousands of reads.
    const proc = join(dir, 'proc');
    mkdirSync(join(proc, 'net'), { recursive: true });
    for (const f of ['stat', 'meminfo', 'loadavg', 'uptime', 'net/dev'])
      writeFileSync(join(proc, f), readFileSync(`/proc/${f}`));
    let t = Date.parse('2026-12-01T00:00:00Z');
    const r = sampler(() => new Date(t), proc);
    // 3 samples, the control plane accepts them.
    for (let i = 0; i < 3; i++) {
      await r.sample();
      t += 10_000;
    }
    const sent = r.peek();
    expect(sent).toHaveLength(3);
    await r.sample(); // taken while the report was on its way
    r.acknowledge(sent);
    expect(r.peek().map((s) => s.at)).toEqual(['2026-12-01T00:00:30.000Z']);
    // Six hours without the control plane, a sample every 10 s: 2160 samples.
    for (let i = 0; i < 2160; i++) {
      t += 10_000;
      await r.sample();
    }
    const kept = r.peek();
    expect(kept.length).toBeLessThanOrEqual(MAX_RESOURCE_SAMPLES);
    expect(kept.length).toBeGreaterThan(MAX_RESOURCE_SAMPLES / 2 - 1);
    // Oldest first, the outage still covered end to end, the newest is now.
    const times = kept.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[times.length - 1]).toBe(t);
    expect(times[0]).toBeLessThanOrEqual(Date.parse('2026-12-01T00:30:00Z'));
  });
});
