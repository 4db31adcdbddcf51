// Backup on one control plane, restore into a new data dir, the same edges carry on: a real
// nginx edge with its agent joins control plane A; `outpost backup` copies A while it runs;
// A stops; `outpost restore` writes the copy into a new data dir; B starts from it on A's URL.
// The agent is never re-joined: it keeps its pinned key and its token, and applies a change
// made through B with A's admin token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { eventually } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { runCli, startControlPlane } from '../support/processes.js';

const EDGES = { e1: '127.0.0.2' } as const;
const PASSPHRASE = 'a long passphrase for the backup';

describe('backup and restore of a control plane with a live edge', () => {
  const cdn = new TestCdn({ edges: EDGES, serveArgs: ['--nginx-check', 'off'] });
  let origin: TestOrigin;
  const backupFile = () => join(cdn.tmp.path, 'cp.backup');
  const restoredDir = () => join(cdn.tmp.path, 'restored');
  const restoredKey = () => join(cdn.tmp.path, 'restored.key');
  const pinned = () =>
    (
      JSON.parse(readFileSync(join(cdn.root('e1'), 'agent.json'), 'utf8')) as {
        fingerprint: string;
      }
    ).fingerprint;

  const spec = (sites: string[]) => `
edges:
${cdn.edgeYaml('e1')}sites:
${sites
  .map(
    (domain) => `  - domain: ${domain}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
`,
  )
  .join('')}`;

  beforeAll(async () => {
    origin = await startOrigin({});
    await cdn.start();
    await cdn.apply(spec(['one.test']));
    await cdn.startAgents();
  }, 180_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('refuses a wrong passphrase and a used data dir, and writes nothing', async () => {
    const cpDir = join(cdn.tmp.path, 'cp');
    const made = await runCli(
      ['backup', backupFile(), '--data-dir', cpDir, '--secret-key-file', join(cpDir, 'secret.key')],
      {},
      `${PASSPHRASE}\n`,
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(`Wrote backup ${backupFile()}`);
    expect(made.stdout).toContain('1 edge(s), 1 site(s)');

    const wrong = await runCli(
      ['restore', backupFile(), '--data-dir', restoredDir(), '--secret-key-file', restoredKey()],
      {},
      'not the passphrase at all\n',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      `outpost: ${backupFile()} does not decrypt: a wrong passphrase, or the file was altered`,
    );
    const used = await runCli(
      ['restore', backupFile(), '--data-dir', cpDir, '--secret-key-file', restoredKey()],
      {},
      `${PASSPHRASE}\n`,
    );
    expect(used.code).toBe(1);
    expect(used.stderr).toContain(`${join(cpDir, 'outpost.db')} exists`);
  }, 240_000);

  it('restores into a new data dir; the edge keeps its pin and token and applies a change made on B', async () => {
    const before = await cdn.releases();
    const pin = pinned();
    expect(pin).toMatch(/^sha256:/);

    // Online: a change after the backup above is not in it; the backup is taken again now.
    const cpDir = join(cdn.tmp.path, 'cp');
    const made = await runCli(
      ['backup', backupFile(), '--data-dir', cpDir, '--secret-key-file', join(cpDir, 'secret.key')],
      {},
      `${PASSPHRASE}\n`,
    );
    expect(made.code, made.stderr).toBe(0);
    await cdn.cp.stop();

    const restored = await runCli(
      ['restore', backupFile(), '--data-dir', restoredDir(), '--secret-key-file', restoredKey()],
      {},
      `${PASSPHRASE}\n`,
    );
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored ${backupFile()} into ${restoredDir()}`);

    const b = await startControlPlane(restoredDir(), {
      port: cdn.cpPort,
      args: ['--nginx-check', 'off', '--secret-key-file', restoredKey()],
    });
    cdn.cp = b.server;
    // Not a new CDN: no new admin token; A's token still opens the API.
    expect(b.server.output()).not.toContain('OUTPOST_TOKEN');
    await cdn.apply(spec(['one.test', 'two.test']));
    await cdn.allApplied(before);
    expect(pinned()).toBe(pin);
    const agentLog = cdn.agents.e1?.output() ?? '';
    expect(agentLog).not.toContain('bundle rejected');
    // Joined once, at the start, never again.
    expect(agentLog.split('joined the control plane').length - 1).toBeLessThanOrEqual(1);
    let last = '';
    const answer = await eventually('two.test from the edge', async () => {
      const r = await cdn.get('e1', '/hello', 'two.test');
      last = `${r.status} ${r.body}`;
      return r.status === 200 ? r : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; last answer: ${last}`);
    });
    expect(answer.body).toBe('origin says /hello');
  }, 240_000);
});
