// Access logs on demand (docs/logs.md) through two real nginx edges driven by real agents:
// `outpost logs SITE --status 404` shows only the 404s, each with the edge that served it, as
// filtered on the edges; `--edge` narrows to one; `--follow` shows a request made after it
// started within a few seconds and exits cleanly on SIGINT; an edge whose agent is down is
// named as not answering while the other's lines are still shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteLogs } from '../../src/spec/index.js';
import { TestCdn } from '../support/cdn.js';
import { startOrigin, type TestOrigin } from '../support/origin.js';
import { startOutpost } from '../support/processes.js';
import { eventually } from '../support/http.js';

const SITE = 'logs-demand.test';
const EDGES = { la: '127.0.0.191', lb: '127.0.0.192' } as const;

describe('outpost logs: lines on demand from real edges', { timeout: 300_000 }, () => {
  const cdn = new TestCdn({ edges: EDGES, serveArgs: ['--nginx-check', 'off'] });
  let origin: TestOrigin;
  const sent: { edge: 'la' | 'lb'; path: string; status: number }[] = [];

  beforeAll(async () => {
    const status = (code: number) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.statusCode = code;
      res.setHeader('cache-control', 'no-store');
      res.end(`status ${code}`);
    };
    origin = await startOrigin({ routes: { '/missing': status(404), '/boom': status(500) } });
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('la')}${cdn.edgeYaml('lb')}sites:
  - domain: ${SITE}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    tls: {acme: false}
  - domain: other.${SITE}
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
    tls: {acme: false}
`);
    for (const edge of cdn.edgeNames) cdn.startAgent(edge);
    // A loaded machine (other suites beside this one) may take a while to start two agents.
    await eventually(
      'both edges to apply their release',
      async () => {
        const rows = await cdn.status();
        return rows.length === 2 && rows.every((r) => r.applied_release !== null)
          ? rows
          : undefined;
      },
      150_000,
      500,
    );
    // Traffic of several statuses: 404s and 500s to la only, 200s to both, another site's 404s.
    for (let i = 0; i < 5; i++) {
      for (const [edge, path, code] of [
        ['la', `/missing?n=${i}`, 404],
        ['la', `/boom?n=${i}`, 500],
        ['la', `/ok/${i}`, 200],
        ['lb', `/ok/b${i}`, 200],
      ] as const) {
        const r = await cdn.get(edge, path, SITE);
        expect(r.status).toBe(code);
        sent.push({ edge, path, status: code });
      }
      expect((await cdn.get('la', `/missing?other=${i}`, `other.${SITE}`)).status).toBe(404);
    }
    // nginx writes its access log with flush=1s.
    await new Promise((r) => setTimeout(r, 1_500));
  }, 280_000);

  afterAll(async () => {
    await cdn.close();
    await origin?.close();
  });

  it('--status 404 shows only the 404s of the site, each with its edge', async () => {
    const r = await cdn.cli(['logs', SITE, '--status', '404']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const want = sent.filter((s) => s.status === 404);
    expect(lines).toHaveLength(want.length);
    for (const l of lines) {
      const f = l.split(' ');
      expect(f[1]).toBe('la');
      expect(f[2]).toBe('404');
      expect(f[4]).toBe('GET');
      expect(f[6]).toBe('127.0.0.1'); // the client address, as in the log
    }
    // nginx's workers each buffer their lines (flush=1s): within a second the file's order is
    // the workers', so the lines are compared as a set.
    expect(lines.map((l) => l.split(' ')[5]).sort()).toEqual(want.map((w) => w.path).sort());
    expect(r.stderr).toBe('');
    // The JSON answer parses strictly against its schema; the filter ran on both edges.
    const json = await cdn.cli(['logs', SITE, '--status', '5xx', '--json']);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: number; edge: string; uri: string });
    expect(rows.map((x) => x.uri)).toEqual(sent.filter((s) => s.status === 500).map((s) => s.path));
    const api = await fetch(`${cdn.cpUrl}/v1/sites/${SITE}/logs?path=/ok/&limit=3`, {
      headers: { authorization: `Bearer ${cdn.adminEnv.OUTPOST_TOKEN}` },
    });
    const answer = SiteLogs.parse(await api.json());
    expect(answer.lines).toHaveLength(3);
    expect(answer.lines.every((l) => l.uri.startsWith('/ok/') && l.site === SITE)).toBe(true);
    expect(answer.edges.map((e) => [e.edge, e.answered, e.truncated])).toEqual([
      ['la', true, true],
      ['lb', true, true],
    ]);
  });

  it('--edge, --path, --cache and --client narrow the lines; bad input names its field', async () => {
    const b = await cdn.cli(['logs', SITE, '--edge', 'lb']);
    expect(b.code, b.stderr).toBe(0);
    const lines = b.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[5]).sort()).toEqual(
      sent
        .filter((s) => s.edge === 'lb')
        .map((s) => s.path)
        .sort(),
    );
    const none = await cdn.cli(['logs', SITE, '--client', '::1']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');
    const miss = await cdn.cli(['logs', SITE, '--path', '/ok/', '--cache', 'HIT', '--edge', 'la']);
    expect(miss.stdout.trim().split('\n').filter(Boolean).length).toBe(0); // cold cache: MISSes
    const wrong = await cdn.cli(['logs', SITE, '--status', '4x4']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/status: must be a status/);
    const unknown = await cdn.cli(['logs', SITE, '--edge', 'nope']);
    expect(unknown.stderr).toMatch(/edge: "nope" is not an edge that serves/);
    expect((await cdn.cli(['logs', 'nope.test'])).stderr).toMatch(/no site "nope.test"/);
  });

  it('--follow shows a new request within a few seconds and exits cleanly on SIGINT', async () => {
    const follow = startOutpost(['logs', SITE, '--follow', '--status', '404'], cdn.adminEnv);
    try {
      await follow.waitFor(/\/missing\?n=4/, 30_000); // the newest lines come first
      const started = Date.now();
      expect((await cdn.get('la', '/missing?follow=1', SITE)).status).toBe(404);
      expect((await cdn.get('la', '/ok/follow', SITE)).status).toBe(200);
      await follow.waitFor(/ la 404 \S+ GET \/missing\?follow=1 /, 20_000);
      const seconds = (Date.now() - started) / 1000;
      expect(seconds).toBeLessThan(20);
      expect(follow.output()).not.toContain('/ok/follow');
      // Once: a line is not shown again by the next asks.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(follow.output().split('/missing?follow=1').length - 1).toBe(1);
      const exited = new Promise<number | null>((r) => follow.child.once('exit', (c) => r(c)));
      follow.child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(follow.output()).not.toMatch(/Error|at .*\.ts:/);
    } finally {
      await follow.stop();
    }
  });

  it('an edge whose agent is down is named as not answering; the other edge still shows', async () => {
    await cdn.agents.lb?.stop();
    const r = await cdn.cli(['logs', SITE, '--status', '2xx']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/edge lb: did not answer within 5 s/);
    const edges = new Set(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[1]),
    );
    expect([...edges]).toEqual(['la']);
    const only = await cdn.cli(['logs', SITE, '--edge', 'lb']);
    expect(only.code).toBe(1);
    expect(only.stderr).toMatch(/edge lb: did not answer/);
    expect(only.stderr).toMatch(/no edge of .* answered/);
  });
});
