// An agent (as root, nginx workers as www-data) whose --root is under a 0700 directory refuses
// to start, naming the directory and the fix, instead of serving 500s explained only in
// nginx's error log.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/processes.js';

describe('agent --root the worker user cannot reach', () => {
  const dir = tempDir('root-access');
  afterAll(() => dir.remove());

  it('refuses at start with the path and the fix', async () => {
    const closed = join(dir.path, 'closed');
    mkdirSync(join(closed, 'inner'), { recursive: true });
    chmodSync(dir.path, 0o755);
    chmodSync(closed, 0o700);
    const token = join(dir.path, 'edge-token');
    writeFileSync(token, `ope_${'a'.repeat(43)}\n`, { mode: 0o600 });
    // 127.0.0.1:1 answers nothing: the check comes before any connection.
    const args = ['agent', '--server', 'http://127.0.0.1:1', '--token-file', token];
    const r = await runCli([
      ...args,
      '--root',
      join(closed, 'inner', 'agent'),
      '--nginx-user',
      'www-data',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nginx's worker user www-data cannot enter ${closed} (mode 0700)`);
    expect(r.stderr).toContain(`chmod o+x ${closed}`);
    expect(r.stderr).not.toContain('cannot reach the control plane');
  });
});
