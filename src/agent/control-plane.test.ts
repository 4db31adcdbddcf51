import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EdgeReport } from '../spec/index.js';
import { checkServerUrl, ControlPlaneClient, isLoopbackHost } from './control-plane.js';

describe('the control-plane URL an agent accepts', () => {
  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.3.4.5', '[::1]', '::1', 'a.localhost'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['192.0.2.1', '10.0.0.1', 'cp.example.com', '[2001:db8::1]', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('takes https anywhere and http on loopback', () => {
    expect(checkServerUrl('https://192.0.2.1:8443').host).toBe('192.0.2.1:8443');
    expect(checkServerUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(checkServerUrl('http://[::1]:8080').hostname).toBe('[::1]');
  });

  it('refuses plain http to another machine unless told --insecure-http', () => {
    expect(() => checkServerUrl('http://192.0.2.1:8080')).toThrow(
      '--server "http://192.0.2.1:8080" is plain http:// to 192.0.2.1, which is not this machine',
    );
    expect(checkServerUrl('http://192.0.2.1:8080', true).hostname).toBe('192.0.2.1');
    expect(() => checkServerUrl('ftp://127.0.0.1/')).toThrow('must be an https:// URL');
    expect(() => checkServerUrl('not a url')).toThrow('is not a URL');
  });

  it('the client refuses at construction, synchronously: before any request can start', () => {
    // 192.0.2.1 is documentation data here: nothing is ever sent to it.
    expect(() => new ControlPlaneClient('http://192.0.2.1:8080', 'ope_x')).toThrow(
      /not this machine/,
    );
    const ok = new ControlPlaneClient('http://192.0.2.1:8080', 'ope_x', { insecureHttp: true });
    expect(ok).toBeInstanceOf(ControlPlaneClient);
  });
});

/** A pretend control plane on loopback: hello with `key`, poll and report as `answer` says. */
interface FakeCp {
  url: string;
  hits: string[];
  reports: Record<string, unknown>[];
  /** 'ok', a 5xx status, 'hang' (never answers), or 401. */
  mode: 'ok' | 503 | 'hang' | 401;
  close: () => Promise<void>;
}

async function fakeCp(key = 'KEY-A', port = 0): Promise<FakeCp> {
  const fake: FakeCp = {
    url: '',
    hits: [],
    reports: [],
    mode: 'ok',
    close: () => Promise.resolve(),
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    fake.hits.push(path);
    if (fake.mode === 'hang') return; // never answers (the socket is destroyed at close)
    if (fake.mode !== 'ok') {
      res.writeHead(fake.mode, { 'content-type': 'application/json' });
      return res.end('{}');
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (path === '/v1/edge/hello')
        return res.end(JSON.stringify({ edge: 'e1', public_key: key, fingerprint: `fp-${key}` }));
      if (path === '/v1/edge/report') {
        fake.reports.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204);
        return res.end();
      }
      if (path === '/v1/edge/poll') {
        res.writeHead(304);
        return res.end();
      }
      res.writeHead(404);
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** A loopback port nothing listens on (connections are refused). */
async function refusedUrl(): Promise<string> {
  const probe = await fakeCp();
  await probe.close();
  return probe.url;
}

const REPORT: EdgeReport = {
  agent_version: '0.1.0',
  applied_release: null,
  applied_hash: null,
  failed_release: null,
  last_error: null,
  proxy: 'nginx',
  proxy_running: true,
  started_at: '2026-01-01T00:00:00.000Z',
};

describe('several control-plane URLs: failover', () => {
  const open: FakeCp[] = [];
  const cp = async (key?: string, port?: number) => {
    const f = await fakeCp(key, port);
    open.push(f);
    return f;
  };
  afterEach(async () => {
    for (const f of open.splice(0)) await f.close();
  });
  const trusted = (
    servers: string[],
    opts: ConstructorParameters<typeof ControlPlaneClient>[2],
  ) => {
    const switches: string[] = [];
    const client = new ControlPlaneClient(servers, 'ope_x', {
      ...opts,
      onSwitch: (from, to) => switches.push(`${from} -> ${to}`),
    });
    client.trust({ publicKeyPem: 'KEY-A', edge: 'e1' });
    return { client, switches };
  };

  it('a refused connection moves to the next URL at once; the report names the one it reached', async () => {
    const down = await refusedUrl();
    const b = await cp();
    const { client, switches } = trusted([down, b.url], {});
    expect(client.server).toBe(down);
    await client.report(REPORT);
    expect(client.server).toBe(b.url);
    expect(switches).toEqual([`${down} -> ${b.url}`]);
    expect(b.reports).toHaveLength(1);
    expect(b.reports[0]?.control_plane).toBe(b.url);
    // Its key was checked (hello) before it was used.
    expect(b.hits).toEqual(['/v1/edge/hello', '/v1/edge/report']);
    // It stays there: the next request goes straight to it.
    await client.poll(undefined, 0);
    expect(b.hits.slice(2)).toEqual(['/v1/edge/poll']);
  });

  it('a 5xx answer or a timeout moves on too; a 401 does not (the token is refused everywhere)', async () => {
    const a = await cp();
    const b = await cp();
    const { client } = trusted([a.url, b.url], { requestTimeoutMs: 300 });
    a.mode = 503;
    await client.report(REPORT);
    expect(client.server).toBe(b.url);

    const c = await cp();
    const d = await cp();
    const hung = trusted([c.url, d.url], { requestTimeoutMs: 300 }).client;
    c.mode = 'hang';
    const started = Date.now();
    await hung.report(REPORT);
    expect(hung.server).toBe(d.url);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    const e = await cp();
    const f = await cp();
    const refused = trusted([e.url, f.url], {}).client;
    e.mode = 401;
    await expect(refused.report(REPORT)).rejects.toThrow(/refused this edge token/);
    expect(refused.server).toBe(e.url);
    expect(f.hits).toEqual([]);
  });

  it('never uses a control plane that signs with another key than the pinned one', async () => {
    const down = await refusedUrl();
    const stranger = await cp('KEY-OTHER');
    const { client } = trusted([down, stranger.url], {});
    await expect(client.report(REPORT)).rejects.toThrow(/signs with another key \(fp-KEY-OTHER\)/);
    expect(stranger.reports).toEqual([]);
    expect(stranger.hits).toEqual(['/v1/edge/hello']);
    expect(client.server).toBe(down);
  });

  it('when every URL fails, the error says so and the URL in use stays', async () => {
    const a = await refusedUrl();
    const b = await refusedUrl();
    const { client } = trusted([a, b], {});
    await expect(client.report(REPORT)).rejects.toThrow(/cannot reach the control plane at/);
    expect(client.server).toBe(a);
  });

  it('goes back to the preferred URL once it answers again, after preferAfterMs', async () => {
    const a = await cp();
    const port = Number(new URL(a.url).port);
    const b = await cp();
    const { client, switches } = trusted([a.url, b.url], { preferAfterMs: 200 });
    await a.close();
    await client.report(REPORT);
    expect(client.server).toBe(b.url);
    // A is back on its port; B stays in use until preferAfterMs has passed.
    const again = await cp('KEY-A', port);
    await client.report(REPORT);
    expect(client.server).toBe(b.url);
    await new Promise((r) => setTimeout(r, 250));
    await client.report(REPORT);
    expect(client.server).toBe(again.url);
    expect(again.reports.at(-1)?.control_plane).toBe(again.url);
    expect(switches).toEqual([`${a.url} -> ${b.url}`, `${b.url} -> ${a.url}`]);
  });
});
