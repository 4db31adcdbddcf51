// One control plane per data directory: a second `outpost serve` on it exits at once naming
// the directory and the pid holding it; a kill -9 of the holder frees it; a zero-length or
// damaged outpost.db is refused with its path instead of starting a brand-new CDN.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  runCli,
  startControlPlane,
  tempDir,
  type Running,
} from '../support/processes.js';

const serveArgs = async (dataDir: string): Promise<string[]> => [
  'serve',
  '--data-dir',
  dataDir,
  '--listen',
  `127.0.0.1:${await freePort()}`,
  '--secret-key-file',
  join(dataDir, 'secret.key'),
  '--probe-interval',
  '0',
];

describe('the data directory of a control plane', () => {
  const tmp = tempDir('lock');
  const running: Running[] = [];
  afterAll(async () => {
    for (const r of running) await r.stop('SIGKILL');
    tmp.remove();
  });

  it('refuses a second control plane at once, naming the directory and the pid; kill -9 frees it', async () => {
    const dir = join(tmp.path, 'a');
    const first = await startControlPlane(dir);
    running.push(first.server);
    const pid = first.server.child.pid;
    expect(pid).toBeGreaterThan(0);

    // It exits by itself (no waiting on the lock): runCli resolves only when it has ended.
    const second = await runCli(await serveArgs(dir));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `outpost: the data directory ${dir} is in use by another control plane (pid ${pid}); stop it first, or give this one another --data-dir`,
    );
    expect(second.stdout).not.toContain('listening');
    expect(second.stdout).not.toContain('OUTPOST_TOKEN');
    // The first one still serves.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    await first.server.stop('SIGKILL');
    const again = await startControlPlane(dir);
    running.push(again.server);
    expect(again.server.output()).not.toContain('OUTPOST_TOKEN');
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    // Three control-plane starts: a loaded machine needs more than the default 30 s.
  }, 120_000);

  it('refuses a zero-length outpost.db with its path and starts no new CDN', async () => {
    const dir = join(tmp.path, 'empty');
    mkdirSync(dir, { recursive: true });
    const db = join(dir, 'outpost.db');
    writeFileSync(db, '');
    const r = await runCli(await serveArgs(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`outpost: the database file ${db} is empty (0 bytes)`);
    expect(r.stdout).not.toContain('OUTPOST_TOKEN');
    expect(statSync(db).size).toBe(0);
  });

  it('refuses a damaged outpost.db with its path', async () => {
    const dir = join(tmp.path, 'damaged');
    mkdirSync(dir, { recursive: true });
    const db = join(dir, 'outpost.db');
    writeFileSync(db, Buffer.alloc(8192, 0x41));
    const r = await runCli(await serveArgs(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`outpost: the database file ${db} is damaged or not a database`);
    expect(r.stdout).not.toContain('OUTPOST_TOKEN');
  });
});
