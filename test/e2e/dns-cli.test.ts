// `outpost dns plan|apply|status` through a real control plane (credentials stay there),
// against the GCore stand-in; and the automatic, debounced sync after a change of sites.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/http.js';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import { freePort, runCli, startOutpost, tempDir, type Running } from '../support/processes.js';

const KEY = 'k$ey-with-dollar';

const yaml = (api: GcoreStandIn, domains: string[]) => `
edges:
  - name: hk
    host: { v4: 198.51.100.10 }
    meta: { countries: [HK] }
sites:
${domains.map((d) => `  - domain: ${d}\n    origins: [{ host: { v4: 203.0.113.1 } }]\n`).join('')}
dns:
  provider: gcore
  api_token: env:GCORE_KEY
  api_url: ${api.apiUrl}
`;

describe('outpost dns (CLI → control plane → GCore)', () => {
  const data = tempDir('dns-cli');
  let api: GcoreStandIn;
  let server: Running;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    api = await startGcoreApi({ apiKey: KEY, zones: ['example.com'] });
    const port = await freePort();
    server = startOutpost(
      ['serve', '--data-dir', data.path, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'],
      { GCORE_KEY: KEY },
    );
    const m = await server.waitFor(/OUTPOST_TOKEN=(opa_\S+)/);
    env = { OUTPOST_SERVER: `http://127.0.0.1:${port}`, OUTPOST_TOKEN: m[1] as string };
  });

  afterAll(async () => {
    await server?.stop();
    await api?.stop();
    data.remove();
  });

  it('plan prints the changes, apply makes them, a second apply writes nothing, prune deletes', async () => {
    const file = join(data.path, 'outpost.yaml');
    writeFileSync(file, yaml(api, ['www.example.com', 'old.example.com']));
    expect((await runCli(['apply', '-f', file], env)).code).toBe(0);

    const plan = await runCli(['dns', 'plan'], env);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    // the automatic sync may already have run: either it plans the creates or it is in sync
    if (!plan.stdout.includes('No changes')) expect(plan.stdout).toContain('+ www.example.com A');

    const apply = await runCli(['dns', 'apply'], env);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('DNS is in sync.');
    expect([...(api.zones.get('example.com')?.keys() ?? [])].sort()).toEqual([
      'old.example.com A',
      'www.example.com A',
    ]);

    const writes = api.writes().length;
    expect((await runCli(['dns', 'apply'], env)).code).toBe(0);
    expect(api.writes().length).toBe(writes);

    writeFileSync(file, yaml(api, ['www.example.com']));
    expect((await runCli(['apply', '-f', file], env)).code).toBe(0);
    const p2 = await runCli(['dns', 'plan'], env);
    expect(p2.stdout).toContain('obsolete old.example.com A');
    const pruned = await runCli(['dns', 'apply', '--prune'], env);
    expect(pruned.stdout).toContain('- old.example.com A');
    expect([...(api.zones.get('example.com')?.keys() ?? [])]).toEqual(['www.example.com A']);

    const status = await runCli(['dns', 'status'], env);
    expect(status.stdout).toMatch(/example\.com\s+in_sync/);
  });

  it('syncs automatically after a change of sites (debounced) and shows drift', async () => {
    const file = join(data.path, 'outpost.yaml');
    writeFileSync(file, yaml(api, ['www.example.com', 'new.example.com']));
    expect((await runCli(['apply', '-f', file], env)).code).toBe(0);
    await eventually(
      'new.example.com published by the automatic sync',
      async () => (api.zones.get('example.com')?.has('new.example.com A') ? true : undefined),
      15_000,
      100,
    );
    api.failNext(500, 100, '/zones/example.com/');
    writeFileSync(file, yaml(api, ['www.example.com', 'new.example.com', 'third.example.com']));
    expect((await runCli(['apply', '-f', file], env)).code).toBe(0);
    await eventually(
      'the zone reported in error',
      async () => {
        const s = await runCli(['dns', 'status', '--json'], env);
        const j = JSON.parse(s.stdout) as {
          zones: { zone: string; state: string; error: string | null }[];
        };
        return j.zones.find((z) => z.zone === 'example.com' && z.state === 'error');
      },
      20_000,
      200,
    );
  }, 60_000);
});

describe('outpost dns status shows conflicts; outpost edge drain/undrain (CLI → control plane → GCore)', () => {
  const data = tempDir('dns-cli-drain');
  let api: GcoreStandIn;
  let server: Running;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    api = await startGcoreApi({ apiKey: KEY, zones: ['example.com'] });
    const port = await freePort();
    server = startOutpost(
      ['serve', '--data-dir', data.path, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'],
      { GCORE_KEY: KEY },
    );
    const m = await server.waitFor(/OUTPOST_TOKEN=(opa_\S+)/);
    env = { OUTPOST_SERVER: `http://127.0.0.1:${port}`, OUTPOST_TOKEN: m[1] as string };
  });

  afterAll(async () => {
    await server?.stop();
    await api?.stop();
    data.remove();
  });

  it('a set not Outpost own at a published name is a conflict in plan, status and the alerts', async () => {
    api.zones.get('example.com')?.set('www.example.com A', {
      name: 'www.example.com',
      type: 'A',
      ttl: 300,
      resource_records: [{ content: ['192.0.2.99'] }],
    });
    const file = join(data.path, 'outpost.yaml');
    writeFileSync(file, yaml(api, ['www.example.com']));
    expect((await runCli(['apply', '-f', file], env)).code).toBe(0);
    const plan = await runCli(['dns', 'plan'], env);
    expect(plan.stdout).toContain('unmanaged www.example.com A');
    expect(plan.stdout).toContain('a site needs this name');
    const status = await runCli(['dns', 'status'], env);
    expect(status.stdout).toContain('CONFLICT example.com: www.example.com A');
    const alerts = await runCli(['status'], env);
    expect(alerts.stdout).toMatch(
      /ALERT dns_drift example\.com: .*www\.example\.com A is not Outpost's/,
    );
    // the hand-made set is never touched
    expect(api.zones.get('example.com')?.get('www.example.com A')?.resource_records).toEqual([
      { content: ['192.0.2.99'] },
    ]);
    api.zones.get('example.com')?.delete('www.example.com A');
    expect((await runCli(['dns', 'apply'], env)).code).toBe(0);
    const after = await runCli(['dns', 'status'], env);
    expect(after.stdout).not.toContain('CONFLICT');
  });

  it('drain disables the edge records and keeps the edge; undrain enables them again', async () => {
    const rec = () =>
      api.zones
        .get('example.com')
        ?.get('www.example.com A')
        ?.resource_records.find((r) => r.content[0] === '198.51.100.10');
    expect(rec()?.enabled).toBe(true);
    const drain = await runCli(['edge', 'drain', 'hk'], env);
    expect(drain.stderr).toBe('');
    expect(drain.stdout).toContain('Drained edge hk');
    expect((await runCli(['edge', 'list'], env)).stdout).toMatch(/hk\s.*drained/);
    expect((await runCli(['dns', 'apply'], env)).code).toBe(0);
    expect(rec()?.enabled).toBe(false);
    // desired state: export keeps it
    expect((await runCli(['export'], env)).stdout).toContain('drain: true');
    expect((await runCli(['edge', 'drain', 'hk'], env)).stdout).toContain('already drained');

    expect((await runCli(['edge', 'undrain', 'hk'], env)).stdout).toContain('Undrained edge hk');
    expect((await runCli(['dns', 'apply'], env)).code).toBe(0);
    expect(rec()?.enabled).toBe(true);
    expect((await runCli(['edge', 'drain', 'nope'], env)).code).toBe(1);
  });
});
