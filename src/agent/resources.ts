// The machine's resources, as the edge's agent reports them with each report: CPU use and
// load, memory, the filesystems of its cache and state directories (statfs), network bytes
// per second (the kernel's interface counters), established TCP connections, uptime and the
// proxy's version. Everything comes from /proc and statfs: a handful of small reads per report,
// nothing per request. Samples the control plane has not accepted are kept (as traffic counts
// are, see traffic.ts) and thinned to at most MAX_RESOURCE_SAMPLES, so an outage of any length
// costs a bounded amount of memory and the history still covers it.
import { readFile, statfs } from 'node:fs/promises';
import { MAX_RESOURCE_SAMPLES, type DiskUse, type NodeResources } from '../spec/index.js';

/** Jiffies from the first line of /proc/stat: busy and total. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat (user nice system idle iowait irq softirq steal …). */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // guest and guest_nice (fields 9, 10) are already inside user and nice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

/** MemTotal and MemAvailable of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  if (total === undefined) return undefined;
  // Kernels before 3.14 have no MemAvailable: free + buffers + cached is the old estimate.
  const available =
    kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { total, available };
}

/** Received and sent bytes per interface from /proc/net/dev. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes …
    const rx = f[0];
    const tx = f[8];
    if (rx === undefined || tx === undefined || Number.isNaN(rx) || Number.isNaN(tx)) continue;
    out.set(name, { rx, tx });
  }
  return out;
}

/** Sockets in state 01 (ESTABLISHED) in a /proc/net/tcp or tcp6 table. */
export function countEstablished(text: string): number {
  let n = 0;
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st …
    const st = line.trim().split(/\s+/)[3];
    if (st === '01') n += 1;
  }
  return n;
}

export function parseLoadavg(text: string): [number, number, number] | undefined {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (a === undefined || b === undefined || c === undefined) return undefined;
  if ([a, b, c].some((x) => Number.isNaN(x))) return undefined;
  return [a, b, c];
}

export function parseUptime(text: string): number | undefined {
  const n = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** statfs of the filesystem holding `path`, as `df` counts it. */
export async function diskUse(dir: DiskUse['dir'], path: string): Promise<DiskUse | undefined> {
  try {
    const s = await statfs(path);
    return {
      dir,
      total_bytes: s.blocks * s.bsize,
      free_bytes: s.bfree * s.bsize,
      available_bytes: s.bavail * s.bsize,
    };
  } catch {
    return undefined; // not created yet
  }
}

export interface ResourceSources {
  /** Where /proc is (a test may point it at a copy). */
  proc: string;
  cacheDir: string;
  stateDir: string;
  /** The proxy's version (asked of the binary; cached by the caller). */
  proxyVersion: () => Promise<string | undefined>;
  now: () => Date;
}

const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/** Takes samples and keeps those the control plane has not accepted yet. */
export class ResourceSampler {
  private last: { at: number; cpu: CpuTimes | undefined; rx: number; tx: number } | undefined;
  private pending: NodeResources[] = [];

  constructor(private readonly src: ResourceSources) {}

  /** Reads the machine now, adds the sample to the pending ones and returns it. */
  async sample(): Promise<NodeResources> {
    const p = this.src.proc;
    const [stat, meminfo, loadavg, uptime, netdev, tcp, tcp6, cache, state, version] =
      await Promise.all([
        read(`${p}/stat`),
        read(`${p}/meminfo`),
        read(`${p}/loadavg`),
        read(`${p}/uptime`),
        read(`${p}/net/dev`),
        read(`${p}/net/tcp`),
        read(`${p}/net/tcp6`),
        diskUse('cache', this.src.cacheDir),
        diskUse('state', this.src.stateDir),
        this.src.proxyVersion().catch(() => undefined),
      ]);
    const now = this.src.now();
    const cpu = stat === undefined ? undefined : parseProcStat(stat);
    const mem = meminfo === undefined ? undefined : parseMeminfo(meminfo);
    let rx = 0;
    let tx = 0;
    const ifaces = netdev === undefined ? undefined : parseNetDev(netdev);
    for (const [name, c] of ifaces ?? []) {
      if (name === 'lo') continue;
      rx += c.rx;
      tx += c.tx;
    }
    let cpuPercent: number | null = null;
    let network: NodeResources['network'] = null;
    const prev = this.last;
    if (prev) {
      const seconds = (now.getTime() - prev.at) / 1000;
      if (cpu && prev.cpu && cpu.total > prev.cpu.total) {
        const share = (cpu.busy - prev.cpu.busy) / (cpu.total - prev.cpu.total);
        cpuPercent = round(Math.min(100, Math.max(0, share * 100)), 1);
      }
      // A counter that went back (interface removed, wrapped) gives no rate this time.
      if (ifaces && seconds > 0 && rx >= prev.rx && tx >= prev.tx)
        network = {
          rx_bytes_per_second: Math.round((rx - prev.rx) / seconds),
          tx_bytes_per_second: Math.round((tx - prev.tx) / seconds),
        };
    }
    this.last = { at: now.getTime(), cpu, rx, tx };
    const cpuCount = stat === undefined ? 1 : (stat.match(/^cpu\d+ /gm)?.length ?? 1);
    const sample: NodeResources = {
      at: now.toISOString(),
      cpu_percent: cpuPercent,
      load: (loadavg === undefined ? undefined : parseLoadavg(loadavg)) ?? [0, 0, 0],
      cpus: Math.max(1, cpuCount),
      memory: { total_bytes: mem?.total ?? 0, available_bytes: mem?.available ?? 0 },
      disks: [cache, state].filter((d): d is DiskUse => d !== undefined),
      network,
      tcp_established:
        tcp === undefined && tcp6 === undefined
          ? null
          : countEstablished(tcp ?? '') + countEstablished(tcp6 ?? ''),
      uptime_seconds: (uptime === undefined ? undefined : parseUptime(uptime)) ?? 0,
      proxy_version: version ?? null,
    };
    this.pending.push(sample);
    if (this.pending.length > MAX_RESOURCE_SAMPLES) this.pending = thin(this.pending);
    return sample;
  }

  /** The samples not yet accepted, oldest first. */
  peek(): NodeResources[] {
    return [...this.pending];
  }

  /** The control plane accepted these samples: forget them. */
  acknowledge(sent: NodeResources[]): void {
    const gone = new Set(sent);
    this.pending = this.pending.filter((s) => !gone.has(s));
  }
}

/**
 * Halves a full list: every other older sample goes, the newest stays. Repeated, the oldest part
 * of a long outage keeps coarser points instead of vanishing.
 */
function thin(samples: NodeResources[]): NodeResources[] {
  const newest = samples[samples.length - 1];
  const kept = samples.slice(0, -1).filter((_, i) => i % 2 === 0);
  return newest ? [...kept, newest] : kept;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
