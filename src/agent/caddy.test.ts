// CaddyDriver against the distribution's real Caddy: adapt, validate, start, load a new config
// through the admin socket, refuse a config that cannot load while the old one keeps serving.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, hashFile } from '../bundle/index.js';
import { compileEdgePlan } from '../compile/index.js';
import { writeReleaseFiles } from '../proxy-check/nginx-check.js';
import { renderCaddyRelease } from '../render/caddy.js';
import { parseSpec } from '../spec/index.js';
import { CaddyDriver } from './caddy.js';

const CADDY = '/usr/bin/caddy';
const ADDRESS = '127.0.0.61';

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function get(port: number, host: string): Promise<{ status: number; release: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: ADDRESS, port, path: '/', headers: { host }, agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          release: String(res.headers['x-outpost-release'] ?? ''),
        });
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('CaddyDriver with a real Caddy', () => {
  const root = mkdtempSync(join(tmpdir(), 'outpost-caddy-driver-'));
  const driver = new CaddyDriver(CADDY, root);
  let port = 0;

  /** Writes release N for an edge listening on `addresses` and returns its adapted config path. */
  const release = async (n: number, addresses: string[]) => {
    const spec = parseSpec({
      edges: [
        { name: 'c', host: { v4: ADDRESS }, proxy: 'caddy', listen: { addresses, http: port } },
      ],
      sites: [
        {
          domain: 'shop.test',
          origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
        },
      ],
    });
    const files = renderCaddyRelease(compileEdgePlan(spec, 'c'), { release: n, certificates: [] });
    const dir = join(root, 'releases', String(n));
    await writeReleaseFiles(dir, files);
    const manifest = buildManifest({
      edge: 'c',
      release: n,
      revision: n,
      proxy: 'caddy',
      probe: { url: `http://${ADDRESS}:${port}/` },
      files: files.map((f) => hashFile(f).entry),
    });
    const main = await driver.main(manifest, dir);
    if (!main.ok) throw new Error(main.output);
    const path = join(root, `caddy-${n}.json`);
    writeFileSync(path, main.content);
    return path;
  };

  beforeAll(async () => {
    port = await freePort(ADDRESS);
  });

  afterAll(async () => {
    await driver.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports no cache module in the distribution build', async () => {
    expect(await driver.capabilities()).toEqual({ cache: false });
    expect(await driver.listModules()).toContain('http.handlers.reverse_proxy');
  });

  it('validates, starts, reloads, and keeps serving when a config cannot load', async () => {
    const first = await release(1, [ADDRESS]);
    expect(await driver.validate(first)).toEqual({ ok: true, output: '' });
    expect(await driver.running()).toBe(false);
    expect(await driver.activate(first)).toEqual({ ok: true, output: '' });
    expect(await driver.running()).toBe(true);
    expect(await get(port, 'unknown.test')).toEqual({ status: 421, release: '1' });

    const second = await release(2, [ADDRESS]);
    expect(await driver.activate(second)).toEqual({ ok: true, output: '' });
    expect(await get(port, 'unknown.test')).toEqual({ status: 421, release: '2' });

    // 192.0.2.1 (TEST-NET-1) is on no interface: validate passes (it does not bind), the load
    // fails, and Caddy keeps the config it had.
    const unbindable = await release(3, [ADDRESS, '192.0.2.1']);
    expect((await driver.validate(unbindable)).ok).toBe(true);
    const refused = await driver.activate(unbindable);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain('192.0.2.1');
    // Caddy 2.6 leaves a server of the refused config accepting beside the old one: the agent
    // rolls back with recover(), a restart, after which only release 2 answers.
    expect(await driver.recover(second)).toEqual({ ok: true, output: '' });
    for (let i = 0; i < 20; i++)
      expect(await get(port, 'unknown.test')).toEqual({ status: 421, release: '2' });
  });

  it('validate refuses a config Caddy cannot load', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ apps: { http: { servers: { x: { listen: [':1'], routes: 'no' } } } } }),
    );
    const r = await driver.validate(bad);
    expect(r.ok).toBe(false);
    expect(r.output).not.toBe('');
  });

  it('stops Caddy', async () => {
    expect(await driver.stop()).toEqual({ ok: true, output: '' });
    expect(await driver.running()).toBe(false);
    await expect(get(port, 'unknown.test')).rejects.toThrow();
  });
});
