// A real `outpost serve` on 127.0.0.1 with a temporary data dir, driven by the real CLI.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpecYaml } from '../../src/spec/index.js';
import {
  readAdminEnv,
  ROOT,
  runCli,
  startControlPlane,
  tempDir,
  type Running,
} from '../support/processes.js';

const EXAMPLE = join(ROOT, 'examples', 'outpost.yaml');

describe('control plane + CLI', () => {
  const data = tempDir('cp');
  let server: Running;
  let url = '';
  let adminToken = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const cp = await startControlPlane(data.path);
    ({ server, url } = cp);
    const admin = await readAdminEnv(cp);
    env = admin;
    adminToken = admin.OUTPOST_TOKEN;
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('prints the admin token once, at first start', () => {
    expect(server.output()).toContain('First start: this is the admin token');
    expect(adminToken).toMatch(/^opa_[A-Za-z0-9_-]{43}$/);
  });

  it('apply shows the diff, a second apply changes nothing, export round-trips', async () => {
    const dry = await runCli(['apply', '-f', EXAMPLE, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ edge hk1');
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    const state0 = (await (
      await fetch(`${url}/v1/state`, { headers: { authorization: `Bearer ${adminToken}` } })
    ).json()) as {
      revision: number;
    };
    expect(state0.revision).toBe(0);

    const first = await runCli(['apply', '-f', EXAMPLE], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('+ edge hk1');
    expect(first.stdout).toContain('+ edge fra1');
    expect(first.stdout).toContain('+ site blog.example.com');
    expect(first.stdout).toContain('3 to create, 0 to update, 0 to delete.');
    expect(first.stdout).toContain('Applied: revision 1.');
    // New edges get their tokens in the answer, once.
    expect(first.stdout).toMatch(/New edge hk1: its token, shown once:\n {2}ope_/);

    const second = await runCli(['apply', '-f', EXAMPLE], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('No changes.');

    const exported = await runCli(['export'], env);
    expect(exported.code).toBe(0);
    expect(parseSpecYaml(exported.stdout)).toEqual(parseSpecYaml(readFileSync(EXAMPLE, 'utf8')));

    // Applying the export is a no-op too.
    const file = join(data.path, 'exported.yaml');
    writeFileSync(file, exported.stdout);
    expect((await runCli(['apply', '-f', file], env)).stdout.trim()).toBe('No changes.');
  });

  it('an update shows old → new per field and bumps the revision once', async () => {
    const file = join(data.path, 'changed.yaml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace('dns_ttl: 60', 'dns_ttl: 300'));
    const r = await runCli(['apply', '-f', file], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('~ site blog.example.com');
    expect(r.stdout).toContain('    dns_ttl: 60 → 300');
    expect(r.stdout).toContain('Applied: revision 2.');
  });

  it('an invalid file is refused with one line per problem, path and line, and nothing changes', async () => {
    const file = join(data.path, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync(EXAMPLE, 'utf8')
        .replace('domain: blog.example.com', 'domain: "blog.example.com;"')
        .replace('dns_ttl: 60', 'dns_tll: 60'),
    );
    const r = await runCli(['apply', '-f', file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} is not valid (2 problems)`);
    expect(r.stderr).toMatch(
      /bad\.yaml:17: sites\[0\]\.domain: "blog\.example\.com;" contains ";"/,
    );
    expect(r.stderr).toMatch(/bad\.yaml:\d+: sites\[0\]\.dns_tll: unknown key "dns_tll"/);
    // The README shows these very lines for this very mistake.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = readme.split('\n').filter((l) => l.startsWith('  outpost.yaml:'));
    expect(shown).toHaveLength(2);
    for (const line of shown)
      expect(r.stderr).toContain(`${line.replace('outpost.yaml:', `${file}:`)}\n`);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const list = await runCli(['site', 'list'], env);
    expect(list.stdout).toContain('blog.example.com');
  });

  it('a wrong admin token gets 401 and a clear message', async () => {
    const res = await fetch(`${url}/v1/sites`, { headers: { authorization: 'Bearer opa_wrong' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: 'missing or wrong token (Authorization: Bearer …)',
      },
    });
    expect((await fetch(`${url}/v1/sites`)).status).toBe(401);
    const r = await runCli(['site', 'list'], { OUTPOST_SERVER: url, OUTPOST_TOKEN: 'opa_wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('outpost: missing or wrong token (Authorization: Bearer …)');
  });

  it('an edge token is shown once and never again, and can be rotated and revoked', async () => {
    const add = await runCli(['edge', 'add', 'sg1', '--ipv4', '192.0.2.50', '--tag', 'asia'], env);
    expect(add.code).toBe(0);
    const token = /\n {2}(ope_[A-Za-z0-9_-]{43})\n/.exec(add.stdout)?.[1];
    expect(token).toBeDefined();
    expect(add.stdout).toContain('--name sg1');

    const list = await runCli(['edge', 'list'], env);
    expect(list.stdout).toMatch(/sg1\s+192\.0\.2\.50\s+-\s+\*:80,443\s+asia\s+-\s+active\s+set/);
    const everything = [
      list.stdout,
      (await runCli(['edge', 'list', '--json'], env)).stdout,
      (await runCli(['export'], env)).stdout,
      await (
        await fetch(`${url}/v1/edges/sg1`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).text(),
      await (
        await fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${adminToken}` } })
      ).text(),
    ].join('\n');
    expect(everything).not.toContain(token);
    // At rest: only hashes, in the database and its WAL.
    for (const f of readdirSync(data.path).filter((n) => n.startsWith('outpost.db'))) {
      expect(readFileSync(join(data.path, f)).includes(Buffer.from(token as string))).toBe(false);
    }

    const rotated = await runCli(['edge', 'rotate-token', 'sg1'], env);
    expect(rotated.code).toBe(0);
    const token2 = /\n {2}(ope_[A-Za-z0-9_-]{43})\n/.exec(rotated.stdout)?.[1];
    expect(token2).toBeDefined();
    expect(token2).not.toBe(token);

    expect((await runCli(['edge', 'revoke-token', 'sg1'], env)).code).toBe(0);
    expect((await runCli(['edge', 'list'], env)).stdout).toMatch(/sg1 .*revoked/);

    const dup = await runCli(['edge', 'add', 'sg1', '--ipv4', '192.0.2.51'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim()).toBe('outpost: edge "sg1" already exists (at name)');
    const bad = await runCli(['edge', 'add', 'bad_name', '--ipv4', '1.2.3'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('name: must be 1-63 lowercase letters');
    expect(bad.stderr).toContain('host.v4: "1.2.3" is not an IPv4 address');
  });

  it('site list, show and rm', async () => {
    const show = await runCli(['site', 'show', 'blog.example.com'], env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ domain: 'blog.example.com', dns_ttl: 300 });
    const missing = await runCli(['site', 'show', 'nope.example.com'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no site "nope.example.com"');
    const rm = await runCli(['site', 'rm', 'blog.example.com'], env);
    expect(rm.code).toBe(0);
    expect((await runCli(['site', 'list'], env)).stdout.trim()).toBe('No sites.');
  });

  it('errors are JSON with code, message and path, never a stack', async () => {
    const res = await fetch(`${url}/v1/sites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ domain: 'a b.example.com', origins: [{ host: { v4: '192.0.2.1' } }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; path: string } };
    expect(body.error.code).toBe('invalid_spec');
    expect(body.error.path).toBe('domain');
    expect(body.error.message).toContain('contains a space');
    const broken = await fetch(`${url}/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(broken.status).toBe(400);
    expect(JSON.stringify(await broken.json())).not.toMatch(/node_modules|\.ts:/);
  });

  it('serves the OpenAPI document at /docs', async () => {
    const res = await fetch(`${url}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/apply', '/v1/sites', '/v1/edges/{name}/token']),
    );
    expect((await fetch(`${url}/docs`)).status).toBeLessThan(400);
  });

  it('a restart keeps the state and does not print a new admin token', async () => {
    await server.stop();
    ({ server } = await startControlPlane(data.path, { port: Number(new URL(url).port) }));
    expect(server.output()).not.toContain('First start');
    const r = await runCli(['edge', 'list'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hk1');
  });
});
