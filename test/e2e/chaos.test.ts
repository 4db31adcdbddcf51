// The chaos run (scripts/chaos.ts, `npm run chaos`) for 40 s with a fixed seed: kill -9s of the
// agents and the control plane, the origin cut off, changes, purges and token rotations, and
// it must end with every check passed. Seed 49's schedule starts with one of each (apply, kill
// agent, rotate, purge, kill control plane, cut the origin) on an idle machine; the test
// asserts only what holds whatever the load: faults happened, requests were answered, every
// purge made was confirmed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, ROOT } from '../support/processes.js';

interface ChaosCounts {
  requests: number;
  cached: number;
  cachedHit: number;
  cachedStale: number;
  restarts: number;
  changes: number;
  purges: number;
  purgesConfirmed: number;
  violations: number;
}

function runChaos(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/chaos.ts', ...args],
      { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

describe('npm run chaos', () => {
  it('40 s of faults with seed 49: every check holds and the counts add up', async () => {
    const { code, output } = await runChaos(['--seconds', '40', '--seed', '49']);
    expect(output).toContain('chaos: seed 49 (repeat with --seed 49), 40 s, 2 edges');
    const line = /^CHAOS_COUNTS (.*)$/m.exec(output)?.[1];
    expect(line, output).toBeDefined();
    const counts = JSON.parse(line ?? '{}') as ChaosCounts;
    expect(counts.violations, output).toBe(0);
    expect(code, output).toBe(0);
    expect(counts.requests).toBeGreaterThan(0);
    expect(counts.cached).toBeGreaterThan(0);
    expect(counts.cachedHit + counts.cachedStale).toBe(counts.cached);
    expect(counts.restarts).toBeGreaterThan(0);
    expect(counts.changes + counts.purges).toBeGreaterThan(0);
    expect(counts.purgesConfirmed).toBe(counts.purges);
    expect(output).toMatch(/^violations +0$/m);
  }, 600_000);

  it('refuses a bad --seconds with exit 2 and the flag named', async () => {
    const { code, output } = await runChaos(['--seconds', '2']);
    expect(code).toBe(2);
    expect(output).toContain('--seconds must be a whole number from 10 to 3600');
  }, 60_000);
});
