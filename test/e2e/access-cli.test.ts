// The access commands through the real CLI and a real `outpost serve`: a CI token that can
// purge one site only, a user whose password comes from stdin, the audit log, rotate-key.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readAdminEnv,
  runCli,
  startControlPlane,
  tempDir,
  type Running,
} from '../support/processes.js';

describe('outpost token, user, audit, secrets', () => {
  const data = tempDir('cp-access');
  let server: Running;
  let url = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const cp = await startControlPlane(data.path);
    ({ server, url } = cp);
    env = await readAdminEnv(cp);
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('token create shows the value once; list never; the token is refused outside its scope', async () => {
    const created = await runCli(
      ['token', 'create', 'ci', '--scope', 'purge', '--site', 'a.example', '--expires', '30d'],
      env,
    );
    expect(created.stderr).toBe('');
    const value = /\n {2}(opt_\S+)/.exec(created.stdout)?.[1] ?? '';
    expect(value).toMatch(/^opt_/);
    const list = await runCli(['token', 'list'], env);
    expect(list.stdout).toMatch(/ci\s+purge\s+a\.example/);
    expect(list.stdout).not.toContain(value);
    const ci = { ...env, OUTPOST_TOKEN: value };
    const refused = await runCli(['purge', 'b.example', '--all', '--no-wait'], ci);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('stops at a.example');
    const status = await runCli(['status'], ci);
    expect(status.code).not.toBe(0);
    expect((await runCli(['token', 'revoke', 'ci'], env)).stdout).toContain('revoked');
  });

  it('user add reads the password from stdin; the UI login takes it', async () => {
    const add = await runCli(
      ['user', 'add', 'ops', '--scope', 'read'],
      env,
      'a long enough password\n',
    );
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('User ops added (read)');
    const res = await fetch(`${url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ops', password: 'a long enough password' }),
    });
    expect(res.status).toBe(200);
    expect((await runCli(['user', 'list'], env)).stdout).toMatch(/ops\s+read/);
  });

  it('audit shows who did what from where; rotate-key re-seals with a new key file', async () => {
    const audit = await runCli(['audit', '--limit', '20'], env);
    expect(audit.stdout).toMatch(/admin token\s+127\.0\.0\.1\s+token\.create\s+ci/);
    expect(audit.stdout).toMatch(/user:ops\s+127\.0\.0\.1\s+login/);
    const keyFile = join(data.path, 'secret.key');
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const rotated = await runCli(['secrets', 'rotate-key'], env);
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toMatch(/Re-sealed [1-9]\d* secrets with key [0-9a-f]{8}\./);
  });
});
