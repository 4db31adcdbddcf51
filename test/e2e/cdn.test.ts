// A real CDN on loopback: a control plane, two edges (two nginx masters on 127.0.0.2 and
// 127.0.0.3, each driven by a real `outpost agent`), an HTTPS origin with a certificate for
// origin.test from a test CA, and an HTTP origin. Everything the edges serve, they pulled.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, httpGet } from '../support/http.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { freePort, runCli, startOutpost, tempDir, type Running } from '../support/processes.js';
import { makeTestCa } from '../support/tls.js';

const NGINX = '/usr/sbin/nginx';
const EDGES = { a: '127.0.0.2', b: '127.0.0.3' } as const;
type EdgeName = keyof typeof EDGES;

interface EdgeStatusRow {
  name: string;
  state: string;
  applied_release: number | null;
  desired_release: number | null;
  error: string | null;
}

describe('a CDN of two nginx edges, configured only by what they pull', () => {
  const tmp = tempDir('cdn');
  let cpPort = 0;
  let edgePort = 0;
  let cp: Running;
  let cpUrl = '';
  let adminEnv: Record<string, string> = {};
  let httpsOrigin: TestOrigin;
  let httpOrigin: TestOrigin;
  let caPem = '';
  const agents: Partial<Record<EdgeName, Running>> = {};
  const tokens: Partial<Record<EdgeName, string>> = {};

  const root = (edge: EdgeName) => join(tmp.path, `edge-${edge}`);
  const edgeUrl = (edge: EdgeName, path: string) => `http://${EDGES[edge]}:${edgePort}${path}`;
  const get = (
    edge: EdgeName,
    path: string,
    host = 'shop.test',
    headers: Record<string, string> = {},
  ) => httpGet(edgeUrl(edge, path), { host, headers });

  const specYaml = (extra: { aliases?: string[]; rawA?: string } = {}) => `
edges:
  - name: a
    host: {v4: ${EDGES.a}}
    listen: {addresses: [${EDGES.a}], http: ${edgePort}, https: ${edgePort + 1}}
    tags: [fast]
${extra.rawA ? `    raw_nginx: ${JSON.stringify(extra.rawA)}\n` : ''}  - name: b
    host: {v4: ${EDGES.b}}
    listen: {addresses: [${EDGES.b}], http: ${edgePort}, https: ${edgePort + 1}}
    tags: [slow]
    bandwidth_mbps: 30
sites:
  - domain: shop.test
    aliases: ${JSON.stringify(extra.aliases ?? [])}
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpsOrigin.port}
        protocol: https
        tls_server_name: origin.test
        tls_ca: ${JSON.stringify(caPem)}
    edges: [a, b]
    modifiers:
      - name: large-files
        edges: [b]
        match: {paths: ["/downloads/*"], extensions: [zip]}
        action: {type: redirect, status: 302, target: "https://static.shop.test{uri}"}
  - domain: wrong-name.test
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpsOrigin.port}
        protocol: https
        tls_server_name: not-the-origin.test
        tls_ca: ${JSON.stringify(caPem)}
    edges: ["*"]
  - domain: plain.test
    origins:
      - host: {v4: 127.0.0.1}
        port: ${httpOrigin.port}
        protocol: http
    edges: ["tag:fast"]
`;

  const apply = async (yaml: string) => {
    const file = join(tmp.path, 'outpost.yaml');
    writeFileSync(file, yaml);
    const r = await runCli(['apply', '-f', file], adminEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  const status = async (): Promise<EdgeStatusRow[]> => {
    const res = await fetch(`${cpUrl}/v1/status`, {
      headers: { authorization: `Bearer ${adminEnv.OUTPOST_TOKEN}` },
    });
    return ((await res.json()) as { edges: EdgeStatusRow[] }).edges;
  };

  /** Waits until every edge has applied its newest release, newer than `after` when given. */
  const allApplied = (after: Partial<Record<EdgeName, number>> = {}) =>
    eventually('both edges to apply their newest release', async () => {
      const rows = await status();
      const done = rows.every(
        (r) =>
          r.desired_release !== null &&
          r.applied_release === r.desired_release &&
          r.desired_release > (after[r.name as EdgeName] ?? 0),
      );
      return done ? rows : undefined;
    });

  const startCp = () => {
    cp = startOutpost([
      'serve',
      '--data-dir',
      join(tmp.path, 'cp'),
      '--listen',
      `127.0.0.1:${cpPort}`,
      '--log-level',
      'warn',
      // The agents' own nginx -t is what this test exercises: the control plane publishes
      // without checking (as on a control plane without nginx installed).
      '--nginx-check',
      'off',
    ]);
  };

  const startAgent = (edge: EdgeName) => {
    agents[edge] = startOutpost([
      'agent',
      '--server',
      cpUrl,
      '--token-file',
      join(tmp.path, `token-${edge}`),
      '--root',
      root(edge),
      '--report-interval',
      '1',
      '--log-level',
      'info',
    ]);
  };

  const stopNginx = (edge: EdgeName) => {
    const conf = join(root(edge), 'live', 'nginx.conf');
    if (existsSync(join(root(edge), 'logs', 'nginx.pid'))) {
      try {
        execFileSync(NGINX, ['-p', `${root(edge)}/`, '-c', conf, '-s', 'quit'], { stdio: 'pipe' });
      } catch {
        /* not running */
      }
    }
  };

  beforeAll(async () => {
    chmodSync(tmp.path, 0o755); // nginx workers run as www-data and must reach the edge roots
    mkdirSync(join(tmp.path, 'ca'));
    const ca = makeTestCa(join(tmp.path, 'ca'));
    caPem = ca.caCert;
    httpsOrigin = await startOrigin({
      tls: ca.issue('origin', ['origin.test']),
      routes: {
        '/slow.js': async (_req, res) => {
          await new Promise((r) => setTimeout(r, 500));
          res.setHeader('cache-control', 'max-age=300');
          res.end('slow');
        },
        '/assets/short.css': (_req, res) => {
          res.setHeader('cache-control', 'max-age=1');
          res.end('short-lived');
        },
      },
    });
    httpOrigin = await startOrigin({});
    cpPort = await freePort();
    edgePort = await freePort(EDGES.a);
    cpUrl = `http://127.0.0.1:${cpPort}`;
    startCp();
    const m = await cp.waitFor(/OUTPOST_TOKEN=(opa_\S+)/);
    adminEnv = { OUTPOST_SERVER: cpUrl, OUTPOST_TOKEN: m[1] as string };
    const out = await apply(specYaml());
    for (const edge of ['a', 'b'] as const) {
      const token = new RegExp(`New edge ${edge}: its token, shown once:\\n {2}(ope_\\S+)`).exec(
        out,
      )?.[1];
      if (!token) throw new Error(`no token for edge ${edge} in:\n${out}`);
      tokens[edge] = token;
      writeFileSync(join(tmp.path, `token-${edge}`), `${token}\n`, { mode: 0o600 });
      startAgent(edge);
    }
    await allApplied();
  }, 90_000);

  afterAll(async () => {
    for (const edge of ['a', 'b'] as const) {
      await agents[edge]?.stop();
      stopNginx(edge);
    }
    await cp?.stop();
    await httpsOrigin?.close();
    await httpOrigin?.close();
    tmp.remove();
  });

  it('each edge names itself, caches static files once and never caches the API', async () => {
    for (const edge of ['a', 'b'] as const) {
      const before = httpsOrigin.count('/assets/app.js');
      const first = await get(edge, '/assets/app.js');
      const second = await get(edge, '/assets/app.js');
      expect(first.status).toBe(200);
      expect(first.body).toBe('origin says /assets/app.js');
      expect(first.headers['x-cdn-node']).toBe(edge);
      expect(first.headers['x-outpost-release']).toMatch(/^\d+$/);
      expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual([
        'MISS',
        'HIT',
      ]);
      expect(httpsOrigin.count('/assets/app.js') - before).toBe(1);

      const apiBefore = httpsOrigin.count('/api/x');
      const api1 = await get(edge, '/api/x');
      const api2 = await get(edge, '/api/x');
      expect(api1.body).toBe('api');
      expect(api2.headers['x-cache-status']).toBe('BYPASS');
      expect(httpsOrigin.count('/api/x') - apiBefore).toBe(2);
    }
  });

  it('reaches the origin over TLS with SNI origin.test, verified, and fails closed on a wrong name', async () => {
    const seen = httpsOrigin.seen.filter((s) => s.path === '/assets/app.js');
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.sni).toBe('origin.test');
      expect(s.host).toBe('shop.test'); // Host preserved
    }
    const before = httpsOrigin.seen.length;
    const wrong = await get('a', '/assets/app.js', 'wrong-name.test');
    expect(wrong.status).toBe(502);
    expect(wrong.headers['x-cdn-node']).toBe('a');
    expect(httpsOrigin.seen.length).toBe(before); // the handshake failed: no request reached it
  });

  it('serves an HTTP origin only on the edges its tag selects', async () => {
    const onA = await get('a', '/assets/plain.js', 'plain.test');
    expect(onA.status).toBe(200);
    expect(onA.body).toBe('origin says /assets/plain.js');
    const onB = await get('b', '/assets/plain.js', 'plain.test');
    expect(onB.status).toBe(421); // edge b does not serve plain.test
    expect(httpOrigin.count('/assets/plain.js')).toBe(1);
  });

  it('50 concurrent cold requests for one static object make one origin request', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('a', '/slow.js')));
    expect(answers.every((a) => a.status === 200 && a.body === 'slow')).toBe(true);
    expect(httpsOrigin.count('/slow.js')).toBe(1);
  });

  it('a modifier on edge b only: large files redirect on b and are proxied on a', async () => {
    const onB = await get('b', '/downloads/big.zip?v=2');
    expect(onB.status).toBe(302);
    expect(onB.headers.location).toBe('https://static.shop.test/downloads/big.zip?v=2');
    expect(onB.headers['x-cdn-node']).toBe('b');
    const onA = await get('a', '/downloads/big.zip');
    expect(onA.status).toBe(200);
    expect(onA.body).toBe('origin says /downloads/big.zip');
    const notZip = await get('b', '/downloads/readme.txt');
    expect(notZip.status).toBe(200);
  });

  it('wrong, revoked or another edge’s token: 401 and no bundle', async () => {
    const bundle = (token: string) =>
      fetch(`${cpUrl}/v1/edge/bundle`, { headers: { authorization: `Bearer ${token}` } });
    expect((await bundle('ope_not-a-token')).status).toBe(401);
    const noToken = await fetch(`${cpUrl}/v1/edge/bundle`);
    expect(noToken.status).toBe(401);
    expect(await noToken.text()).not.toContain('manifest');
    // Edge a's token yields edge a's bundle and nothing of b's.
    const ofA = await bundle(tokens.a as string);
    expect(ofA.status).toBe(200);
    const body = (await ofA.json()) as { manifest: string };
    expect(JSON.parse(body.manifest)).toMatchObject({ edge: 'a' });
    expect(body.manifest).not.toContain(EDGES.b);
    // A revoked token stops working at once; rotating gives the edge a new one.
    const c = await runCli(['edge', 'add', 'c', '--ipv4', '127.0.0.4', '--paused'], adminEnv);
    const tokenC = /\n {2}(ope_\S+)\n/.exec(c.stdout)?.[1] as string;
    expect((await bundle(tokenC)).status).toBe(200);
    expect((await runCli(['edge', 'revoke-token', 'c'], adminEnv)).code).toBe(0);
    expect((await bundle(tokenC)).status).toBe(401);
    expect((await runCli(['edge', 'rm', 'c'], adminEnv)).code).toBe(0);
  });

  it('an apply that changes a site reaches both edges, and says how fast', async () => {
    const before = Object.fromEntries(
      (await status()).map((r) => [r.name, r.desired_release ?? 0]),
    );
    const started = Date.now();
    await apply(specYaml({ aliases: ['www.shop.test'] }));
    const rows = await allApplied(before);
    const ms = Date.now() - started;
    process.stdout.write(`apply → both edges applied: ${ms} ms (CLI start included)\n`);
    expect(rows.every((r) => r.state === 'ok')).toBe(true);
    for (const edge of ['a', 'b'] as const) {
      const r = await get(edge, '/assets/app.js', 'www.shop.test');
      expect(r.status).toBe(200);
      expect(r.headers['x-outpost-release']).toBe(
        String(rows.find((x) => x.name === edge)?.applied_release),
      );
    }
  });

  it('a release nginx rejects: the edge keeps serving the previous one and status shows the error', async () => {
    const previous = (await status()).find((r) => r.name === 'a')?.applied_release;
    await apply(specYaml({ aliases: ['www.shop.test'], rawA: 'this_is_not_a_directive on;' }));
    const row = await eventually('edge a to report the failure', async () => {
      const a = (await status()).find((r) => r.name === 'a');
      return a?.error ? a : undefined;
    });
    expect(row.state).toBe('error');
    expect(row.applied_release).toBe(previous);
    expect(row.error).toContain('unknown directive "this_is_not_a_directive"');
    const served = await get('a', '/assets/app.js');
    expect(served.status).toBe(200);
    expect(served.headers['x-outpost-release']).toBe(String(previous));
    const cli = await runCli(['status'], adminEnv);
    expect(cli.stdout).toMatch(/\ba\s+error\s+\d+\/\d+\s+\d+s ago\s+nginx -t rejected release \d+/);
    // Fixing the spec publishes a newer release, which applies and clears the error.
    await apply(specYaml({ aliases: ['www.shop.test'] }));
    const fixed = await eventually('edge a to recover', async () => {
      const a = (await status()).find((r) => r.name === 'a');
      return a?.state === 'ok' && a.applied_release !== previous ? a : undefined;
    });
    expect(fixed.error).toBeNull();
  });

  it('control plane down: edges keep serving, and an edge reboot serves its last good release', async () => {
    await cp.stop('SIGKILL');
    for (const edge of ['a', 'b'] as const) {
      const r = await get(edge, '/assets/app.js');
      expect(r.status).toBe(200);
      expect(r.headers['x-cdn-node']).toBe(edge);
    }
    // "Reboot" edge b: its agent and nginx go away, then the agent starts with no control plane.
    const releaseB = (await get('b', '/assets/app.js')).headers['x-outpost-release'];
    await agents.b?.stop('SIGKILL');
    stopNginx('b');
    await eventually(
      'edge b to go quiet',
      async () =>
        await get('b', '/assets/app.js').then(
          () => undefined,
          () => true,
        ),
    );
    startAgent('b');
    const back = await eventually('edge b to serve again', async () => {
      const r = await get('b', '/assets/app.js');
      return r.status === 200 ? r : undefined;
    });
    expect(back.headers['x-outpost-release']).toBe(releaseB);
  });

  it('control plane back: agents reconnect and take new releases', async () => {
    startCp();
    await cp.waitFor(/Admin API:/);
    const before = Object.fromEntries(
      (await status()).map((r) => [r.name, r.desired_release ?? 0]),
    );
    await apply(specYaml({ aliases: ['www.shop.test', 'shop2.test'] }));
    const rows = await allApplied(before);
    expect(rows.map((r) => r.state)).toEqual(['ok', 'ok']);
    expect((await get('b', '/assets/app.js', 'shop2.test')).status).toBe(200);
  }, 60_000);

  it('origin down: a cached object is served stale', async () => {
    const first = await get('a', '/assets/short.css');
    expect(first.headers['x-cache-status']).toBe('MISS');
    // max-age=1 has passed (nginx keeps an object through the whole second it expires in)
    await new Promise((r) => setTimeout(r, 2500));
    await httpsOrigin.close();
    const stale = await get('a', '/assets/short.css');
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('short-lived');
    expect(stale.headers['x-cache-status']).toBe('STALE');
  });

  it('the agent keeps its state private and holds only its own edge', () => {
    const file = join(root('a'), 'agent.json');
    const state = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(state)).toMatchObject({ edge: 'a', failed: null });
    expect(state).not.toContain(tokens.a as string);
    const live = readFileSync(join(root('a'), 'live', 'release', 'nginx', 'sites.conf'), 'utf8');
    expect(live).toContain('shop.test');
    expect(
      readFileSync(join(root('b'), 'live', 'release', 'nginx', 'sites.conf'), 'utf8'),
    ).not.toContain('plain.test');
  });
});
