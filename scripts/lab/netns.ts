// The lab's network: one network namespace per host, each with one veth link to a bridge that
// lives in a namespace of its own (`<prefix>-net`). Nothing is added to the root namespace and
// no namespace has a default route: an address outside 10.200.0.0/16 / fd00:200::/64 is
// unreachable from inside. Latency per pair of hosts with `tc netem` (when the kernel has
// it), hk's 30 Mbit/s with `tc tbf`. A lock file says which namespaces are ours, so a lab that
// died is cleaned up by the next start, and names that exist without our lock are refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDGE_META, HOSTS, rttMs, v4, v6, type LabHost } from './topology.js';

const LOCK_DIR = '/run/outpost-lab';

export interface LabNetOptions {
  /** Namespace name prefix (default "olab"): namespaces are `<prefix>-<host>` and `<prefix>-net`. */
  prefix?: string;
  /** Apply latency with netem (default: when the kernel has it). */
  latency?: boolean;
}

interface Lock {
  pid: number;
  namespaces: string[];
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(args: string[]): boolean {
  return spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function existingNamespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Kills every process in `ns` (by pid, TERM then KILL) and deletes it. */
function removeNamespace(ns: string): void {
  const pids = () =>
    spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .stdout.split('\n')
      .map(Number)
      .filter((p) => p > 0 && p !== process.pid);
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const list = pids();
    if (list.length === 0) break;
    for (const p of list) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
    // bounded wait for them to exit: 40 × 50 ms
    for (let i = 0; i < 40 && pids().length > 0; i++) spawnSync('sleep', ['0.05']);
  }
  tryIp(['netns', 'del', ns]);
  rmSync(join('/etc/netns', ns), { recursive: true, force: true });
}

export class LabNet {
  readonly prefix: string;
  readonly lockFile: string;
  /** Whether latency is applied (false when the kernel has no sch_netem). */
  latency = false;
  latencyNote = '';
  private created: string[] = [];
  /** Set once this object wrote the lock: only then does destroy() touch anything. */
  private ownsLock = false;

  constructor(readonly opts: LabNetOptions = {}) {
    this.prefix = opts.prefix ?? 'olab';
    if (!/^[a-z][a-z0-9]{0,5}$/.test(this.prefix))
      throw new Error(`lab prefix "${this.prefix}" must be 1-6 lowercase letters or digits`);
    this.lockFile = join(LOCK_DIR, `${this.prefix}.json`);
  }

  ns(h: LabHost | string): string {
    return `${this.prefix}-${typeof h === 'string' ? h : h.name}`;
  }

  get bridgeNs(): string {
    return `${this.prefix}-net`;
  }

  allNamespaces(): string[] {
    return [this.bridgeNs, ...HOSTS.map((h) => this.ns(h))];
  }

  /** Removes a lab of this prefix that a dead process left behind (only if its lock says so). */
  cleanupStale(): boolean {
    if (!existsSync(this.lockFile)) return false;
    const lock = JSON.parse(readFileSync(this.lockFile, 'utf8')) as Lock;
    if (lock.pid === process.pid || alive(lock.pid))
      throw new Error(
        `a lab with prefix "${this.prefix}" is running (pid ${lock.pid}, ${this.lockFile}); stop it first`,
      );
    const existing = new Set(existingNamespaces());
    for (const ns of lock.namespaces) if (existing.has(ns)) removeNamespace(ns);
    rmSync(this.lockFile, { force: true });
    return true;
  }

  /** Creates every namespace, link and address; refuses names that exist and are not ours. */
  create(): void {
    if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, tc)');
    this.cleanupStale();
    const existing = new Set(existingNamespaces());
    const clash = this.allNamespaces().filter((n) => existing.has(n));
    if (clash.length > 0)
      throw new Error(
        `network namespaces ${clash.join(', ')} exist and are not this lab's (no lock ${this.lockFile}); refusing to touch them`,
      );
    mkdirSync(LOCK_DIR, { recursive: true });
    const lock: Lock = { pid: process.pid, namespaces: this.allNamespaces() };
    writeFileSync(this.lockFile, JSON.stringify(lock));
    this.ownsLock = true;

    const br = this.bridgeNs;
    ip(['netns', 'add', br]);
    this.created.push(br);
    ip(['-n', br, 'link', 'set', 'lo', 'up']);
    ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', br, 'link', 'set', 'br0', 'up']);
    for (const h of HOSTS) {
      const ns = this.ns(h);
      ip(['netns', 'add', ns]);
      this.created.push(ns);
      const port = `v-${h.name}`;
      // both ends are created directly in the lab's namespaces: nothing in the root namespace
      ip(['-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', br, 'link', 'set', port, 'master', 'br0']);
      ip(['-n', br, 'link', 'set', port, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${v4(h)}/16`, 'dev', 'eth0']);
      ip(['-n', ns, '-6', 'addr', 'add', `${v6(h)}/64`, 'dev', 'eth0', 'nodad']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      // resolv.conf inside the namespace (`ip netns exec` bind-mounts /etc/netns/NS/*)
      mkdirSync(join('/etc/netns', ns), { recursive: true });
      writeFileSync(
        join('/etc/netns', ns, 'resolv.conf'),
        `nameserver ${v4(HOSTS.find((x) => x.kind === 'resolver') ?? h)}\noptions timeout:2 attempts:1\n`,
      );
    }
    this.shape();
  }

  private hasNetem(): boolean {
    const ns = this.ns('cp');
    const ok = tryIp([
      'netns',
      'exec',
      ns,
      'tc',
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'netem',
      'delay',
      '1ms',
    ]);
    if (ok) tryIp(['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
    return ok;
  }

  /** Latency per destination (htb class + netem per peer), hk's bandwidth with tbf. */
  private shape(): void {
    const tc = (h: LabHost, args: string[]) => ip(['netns', 'exec', this.ns(h), 'tc', ...args]);
    this.latency = this.opts.latency !== false && this.hasNetem();
    if (!this.latency)
      this.latencyNote =
        this.opts.latency === false
          ? 'latency off (asked)'
          : 'latency not applied: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM)';
    for (const h of HOSTS) {
      const mbps = EDGE_META[h.name]?.bandwidthMbps;
      // root: tbf for a shaped host (its child, handle 2:, holds the latency tree), else htb
      let parent = 'root';
      if (mbps !== undefined) {
        tc(h, [
          'qdisc',
          'add',
          'dev',
          'eth0',
          'root',
          'handle',
          '1:',
          'tbf',
          'rate',
          `${mbps}mbit`,
          'burst',
          '64kb',
          'latency',
          '200ms',
        ]);
        parent = 'parent 1:1';
      }
      if (!this.latency) continue;
      tc(h, [
        'qdisc',
        'add',
        'dev',
        'eth0',
        ...parent.split(' '),
        'handle',
        '2:',
        'htb',
        'default',
        '1',
        'r2q',
        '100000',
      ]);
      tc(h, [
        'class',
        'add',
        'dev',
        'eth0',
        'parent',
        '2:',
        'classid',
        '2:1',
        'htb',
        'rate',
        '10gbit',
      ]);
      let n = 10;
      for (const peer of HOSTS) {
        if (peer === h) continue;
        const oneWay = rttMs(h, peer) / 2;
        const cls = `2:${n.toString(16)}`;
        tc(h, [
          'class',
          'add',
          'dev',
          'eth0',
          'parent',
          '2:',
          'classid',
          cls,
          'htb',
          'rate',
          '10gbit',
        ]);
        tc(h, [
          'qdisc',
          'add',
          'dev',
          'eth0',
          'parent',
          cls,
          'netem',
          'delay',
          `${oneWay}ms`,
          'limit',
          '10000',
        ]);
        tc(h, [
          'filter',
          'add',
          'dev',
          'eth0',
          'parent',
          '2:',
          'protocol',
          'ip',
          'prio',
          '1',
          'u32',
          'match',
          'ip',
          'dst',
          `${v4(peer)}/32`,
          'flowid',
          cls,
        ]);
        tc(h, [
          'filter',
          'add',
          'dev',
          'eth0',
          'parent',
          '2:',
          'protocol',
          'ipv6',
          'prio',
          '2',
          'u32',
          'match',
          'ip6',
          'dst',
          `${v6(peer)}/128`,
          'flowid',
          cls,
        ]);
        n++;
      }
    }
  }

  /** Takes a host's link down (as if its cable were pulled) or back up. */
  setLink(h: LabHost, up: boolean): void {
    ip(['-n', this.bridgeNs, 'link', 'set', `v-${h.name}`, up ? 'up' : 'down']);
  }

  /** Removes everything this lab created: processes in its namespaces, namespaces, lock. */
  destroy(): void {
    if (!this.ownsLock) return;
    const existing = new Set(existingNamespaces());
    const ours = existsSync(this.lockFile)
      ? (JSON.parse(readFileSync(this.lockFile, 'utf8')) as Lock).namespaces
      : this.created;
    for (const ns of [...ours].reverse()) if (existing.has(ns)) removeNamespace(ns);
    rmSync(this.lockFile, { force: true });
    this.created = [];
    this.ownsLock = false;
  }
}
