// Issue 15, finding 2: a full disk on the edge. The edge's releases/ is a 1 MiB tmpfs; after
// the first release it is filled up, so staging the next release fails with ENOSPC. The agent reports it like a rejected release (status
// shows the error, an alert is raised), retries with backoff (few downloads, not one a
// second), leaves no staging directory, and applies the release once there is room.
// Needs root (mount); the tests run as root (docs/development.md).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';

describe('an edge whose disk is full', { timeout: 90_000 }, () => {
  const cdn = new TestCdn({ edges: { a: '127.0.0.2' }, serveArgs: ['--nginx-check', 'off'] });
  const releases = () => join(cdn.root('a'), 'releases');
  let mounted = false;

  beforeAll(async () => {
    await cdn.start();
    mkdirSync(releases(), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', releases()]);
    mounted = true;
    await cdn.apply(spec(9));
  });
  const spec = (port: number) => `
edges:
${cdn.edgeYaml('a')}sites:
  - domain: full.test
    origins: [{host: {v4: 127.0.0.1}, port: ${port}, protocol: http}]
    tls: {acme: false}
`;
  const filler = () => join(releases(), 'filler');
  /** Fills the tmpfs to the last byte. */
  const fillUp = () => {
    const fd = openSync(filler(), 'w');
    const chunk = Buffer.alloc(4096);
    try {
      for (let i = 0; i < 1024; i++) writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
  };

  afterAll(async () => {
    if (mounted) execFileSync('umount', ['-l', releases()]);
    await cdn.close();
  });

  it('reports the install failure, retries with backoff, leaves nothing behind, then recovers', async () => {
    const before = await cdn.startAgents();
    fillUp();
    await cdn.apply(spec(10));
    const row = await eventually('the edge to report the install failure', async () => {
      const r = (await cdn.status()).find((e) => e.name === 'a');
      return r?.error?.includes('could not install') ? r : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent output:\n${cdn.agents.a?.output() ?? ''}`);
    });
    expect(row.state).toBe('error');
    expect(row.applied_release).toBe(before[0]?.applied_release); // still serving the last good
    expect(row.error).toMatch(/ENOSPC|no space left/);
    const alerts = await (
      await fetch(`${cdn.cpUrl}/v1/status`, {
        headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
      })
    ).json();
    expect(JSON.stringify((alerts as { alerts: unknown[] }).alerts)).toContain('could not install');

    // 12 s of a full disk: backoff 5 s, 10 s… → at most 3 attempts (it was 83 in 97 s).
    await new Promise((r) => setTimeout(r, 12_000));
    const attempts = (cdn.agents.a?.output() ?? '')
      .split('\n')
      .filter((l) => l.includes('install failed')).length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(3);
    expect(readdirSync(releases()).filter((n) => n.startsWith('.staging'))).toEqual([]);

    // Room again: the next retry applies the release.
    rmSync(filler());
    const rows = await cdn.allApplied({ a: before[0]?.applied_release ?? 0 });
    expect(rows.find((e) => e.name === 'a')?.error ?? null).toBeNull();
  });
});
