// `outpost demo` as a newcomer runs it: a real process with a real nginx edge, stopped by Ctrl-C.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpGet } from '../support/http.js';
import { freePort, runCli, startOutpost } from '../support/processes.js';

/** A loopback address of its own, so the demo's default 127.0.0.2:8081 may be in use. */
const EDGE_ADDRESS = '127.0.0.9';

/** Resolves true if something accepts connections on host:port. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process: pid, parent pid and command line. */
function processes(): { pid: number; ppid: number; cmdline: string }[] {
  const all: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      all.push({ pid: Number(name), ppid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

describe('outpost demo', () => {
  it('shows a MISS then a HIT through a real nginx edge, and Ctrl-C stops everything', async () => {
    const edgePort = await freePort(EDGE_ADDRESS);
    const demo = startOutpost([
      'demo',
      '--edge-address',
      EDGE_ADDRESS,
      '--edge-port',
      `${edgePort}`,
    ]);
    const exited = new Promise<number | null>((resolve) =>
      demo.child.once('exit', (code) => resolve(code)),
    );
    try {
      await demo.waitFor(/Outpost demo is ready/, 60_000);
      const out = demo.output();

      // What it printed: the two requests it made itself, and the curl line for the reader.
      expect(out).toMatch(/1st\s+X-CDN-Node: demo\s+X-Cache-Status: MISS\s+X-Outpost-Release: 1/);
      expect(out).toMatch(/2nd\s+X-CDN-Node: demo\s+X-Cache-Status: HIT\s+X-Outpost-Release: 1/);
      expect(out).toContain('The origin was asked 1 time for /assets/app.js.');
      expect(out).toMatch(/admin token\s+opa_[A-Za-z0-9_-]{43}/);
      const curl = /curl -sI -H 'Host: ([^']+)' (http:\/\/(\S+?):(\d+)(\/\S*))/.exec(out);
      expect(curl).not.toBeNull();
      const [, host, url, , port] = curl as RegExpExecArray;
      expect(host).toBe('demo.outpost.test');
      expect(url).toBe(`http://${EDGE_ADDRESS}:${edgePort}/assets/app.js`);
      const controlPlane = /control plane\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      const dataDir = /\n {2}data\s+(\/\S+)/.exec(out)?.[1];
      expect(controlPlane).toBeDefined();
      expect(dataDir).toBeDefined();

      // The printed curl line works for anyone: the edge answers from its cache.
      const r = await httpGet(url as string, { host: host as string });
      expect(r.status).toBe(200);
      expect(r.headers['x-cdn-node']).toBe('demo');
      expect(r.headers['x-cache-status']).toBe('HIT');
      // The dynamic page is not cached.
      const page = await httpGet(`http://${EDGE_ADDRESS}:${port}/`, { host: host as string });
      expect(page.status).toBe(200);
      expect(page.headers['x-cache-status']).not.toBe('HIT');

      // The nginx it started: a master and its workers.
      const master = Number(
        readFileSync(join(dataDir as string, 'edge', 'logs', 'nginx.pid'), 'utf8').trim(),
      );
      const nginx = [
        master,
        ...processes()
          .filter((p) => p.ppid === master)
          .map((p) => p.pid),
      ];
      expect(nginx.length).toBeGreaterThan(1);
      expect(nginx.every(alive)).toBe(true);

      // Ctrl-C.
      demo.child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(demo.output()).toContain('Demo stopped.');
      expect(nginx.filter(alive)).toEqual([]);
      expect(await listening(EDGE_ADDRESS, edgePort)).toBe(false);
      expect(await listening('127.0.0.1', Number(controlPlane))).toBe(false);
      expect(existsSync(dataDir as string)).toBe(false);
      expect(processes().filter((p) => p.cmdline.includes(dataDir as string))).toEqual([]);
      expect(demo.output()).not.toMatch(/\n\s+at .*\.(ts|js):\d+/); // no stack trace
    } finally {
      await demo.stop('SIGINT'); // a no-op when it has exited
    }
  }, 90_000);

  it('says plainly that nginx is missing, and which package to install', async () => {
    const r = await runCli(['demo', '--nginx', '/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      'outpost: nginx is not installed (no /nonexistent): apt-get install nginx-light (or pass --nginx with the path of nginx)',
    );
  });

  it('names the busy port and the flag to change it', async () => {
    const port = await freePort(EDGE_ADDRESS);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(port, EDGE_ADDRESS, resolve));
    try {
      const r = await runCli(['demo', '--edge-address', EDGE_ADDRESS, '--edge-port', `${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `outpost: port ${port} on ${EDGE_ADDRESS} is already in use: choose another with --edge-port`,
      );
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
