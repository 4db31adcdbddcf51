// The whole CDN in one box: the lab's hosts started in order, and the story's steps, each
// returning its figures (printed as a table row by main.ts, asserted by test/e2e/lab.test.ts).
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Running } from '../../test/support/processes.js';
import { writeLabGeoip } from './geoip.js';
import { LabNet, type LabNetOptions } from './netns.js';
import {
  CHECK_INTERVAL_S,
  CP_PORT,
  DNS_TTL_S,
  SITE,
  applySpec,
  cli,
  curlIn,
  edgeStatus,
  joinEdge,
  labSpec,
  originLog,
  randomKey,
  resolveIn,
  startControlPlane,
  startOrigin,
  startPebble,
  startPowerDns,
  startRecursor,
  until,
  who,
  type CurlResult,
} from './services.js';
import { clients, edges, host, nearestEdge, v4, type LabHost } from './topology.js';

export interface StepRow {
  step: string;
  what: string;
  figures: string;
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Lab {
  readonly net: LabNet;
  readonly dir: string;
  readonly rows: StepRow[] = [];
  adminEnv: Record<string, string> = {};
  private procs: Running[] = [];
  origin?: Running;
  cp?: Running;
  private pdnsKey = randomKey();
  private originCa = '';
  private pebbleCa = '';
  acmeRoot = '';
  readonly agents: Record<string, Running> = {};
  /** Log of progress lines (main.ts prints them). */
  log: (line: string) => void = () => undefined;

  constructor(opts: LabNetOptions = {}) {
    this.net = new LabNet(opts);
    this.dir = mkdtempSync(join(tmpdir(), 'outpost-lab-'));
    chmodSync(this.dir, 0o755);
  }

  get cpUrl(): string {
    return `http://${v4(host('cp'))}:${CP_PORT}`;
  }

  private row(r: StepRow): StepRow {
    this.rows.push(r);
    return r;
  }

  /** Network, DNS, resolver, ACME, origin, control plane, spec, edges: until every edge applied. */
  async start(): Promise<void> {
    const t0 = Date.now();
    this.net.create();
    this.log(
      `network: ${this.net.allNamespaces().length} namespaces; ${this.net.latency ? 'latency by distance (netem)' : this.net.latencyNote}`,
    );
    const geoip = join(this.dir, 'geoip2.mmdb');
    writeLabGeoip(geoip);
    this.procs.push(await startPowerDns(this.net, this.dir, geoip, this.pdnsKey));
    this.procs.push(await startRecursor(this.net, this.dir));
    const pebble = await startPebble(this.net, this.dir);
    this.procs.push(pebble.proc);
    this.pebbleCa = pebble.caFile;
    this.acmeRoot = pebble.rootFile;
    const origin = await startOrigin(this.net, this.dir);
    this.origin = origin.proc;
    this.procs.push(origin.proc);
    this.originCa = origin.caPem;
    this.log('pdns_server, pdns_recursor, pebble and the origin are up');
    await this.startCp();
    // edges and the site first; ACME once the edges serve it (the first order then finds
    // every edge answering HTTP-01, as an operator would do it)
    const tokens = await applySpec(
      this.net,
      this.dir,
      this.adminEnv,
      labSpec(this.originCa, this.pebbleCa, '', false),
    );
    for (const e of edges()) {
      const token = tokens[e.name];
      if (token === undefined) throw new Error(`outpost apply printed no token for ${e.name}`);
      const agent = await joinEdge(this.net, this.dir, e, token, this.cpUrl);
      this.agents[e.name] = agent;
      this.procs.push(agent);
    }
    await this.allApplied();
    await applySpec(this.net, this.dir, this.adminEnv, this.spec());
    this.log(
      `every edge applied its release (${((Date.now() - t0) / 1000).toFixed(1)} s since start)`,
    );
  }

  spec(extraSite = ''): string {
    return labSpec(this.originCa, this.pebbleCa, extraSite);
  }

  async startCp(): Promise<void> {
    const cp = await startControlPlane(this.net, this.dir, this.pdnsKey);
    this.cp = cp.proc;
    this.procs.push(cp.proc);
    if (this.adminEnv.OUTPOST_TOKEN === undefined) this.adminEnv = cp.adminEnv;
  }

  async stopCp(): Promise<void> {
    await this.cp?.stop();
  }

  async allApplied(after: Record<string, number> = {}, timeoutMs = 60_000) {
    return until(
      'every edge to apply its newest release',
      async () => {
        const rows = await edgeStatus(this.net, this.adminEnv);
        const done =
          rows.length === edges().length &&
          rows.every(
            (r) =>
              r.desired_release !== null &&
              r.applied_release === r.desired_release &&
              r.desired_release > (after[r.name] ?? 0),
          );
        return done ? rows : undefined;
      },
      timeoutMs,
      300,
    );
  }

  url(path: string): string {
    return `https://${SITE}${path}`;
  }

  get(client: LabHost, path: string, extra: string[] = []): Promise<CurlResult> {
    return curlIn(this.net, client, this.url(path), { cacert: this.acmeRoot, extra });
  }

  /** Step 1: DE resolves through the resolver, gets fra, HTTPS with an ACME certificate, MISS then HIT. */
  async step1(): Promise<
    StepRow & {
      edge: string;
      first: CurlResult;
      second: CurlResult;
      originSaw: ReturnType<typeof originLog>;
    }
  > {
    const de = host('de');
    const t = Date.now();
    // the certificate is issued by the control plane through the edges (HTTP-01); until then
    // the handshake fails and nothing reaches the origin
    await until(
      'an HTTPS answer with a certificate Pebble issued',
      async () => {
        const r = await this.get(de, '/ready.css');
        return r.status === 200 ? r : undefined;
      },
      120_000,
      500,
    );
    const certMs = Date.now() - t;
    const path = '/static/app.css';
    const first = await this.get(de, path);
    const second = await this.get(de, path);
    const originSaw = originLog(this.origin as Running).filter((s) => s.path === path);
    const edge = who(first.remoteIp);
    const ok =
      edge === 'fra' &&
      first.status === 200 &&
      first.headers['x-cache-status'] === 'MISS' &&
      second.headers['x-cache-status'] === 'HIT' &&
      originSaw.length === 1 &&
      originSaw[0]?.tls === true &&
      originSaw[0]?.sni === SITE;
    return {
      ...this.row({
        step: '1',
        what: 'DE → resolver → GeoDNS → edge, HTTPS (ACME HTTP-01 through the edges), MISS then HIT',
        figures: `edge ${edge}; certificate usable after ${(certMs / 1000).toFixed(1)} s; ${first.headers['x-cache-status'] ?? '?'} ttfb ${first.ttfbMs} ms, ${second.headers['x-cache-status'] ?? '?'} ttfb ${second.ttfbMs} ms; origin saw ${originSaw.length} request (SNI ${originSaw[0]?.sni ?? '-'}, TLS ${String(originSaw[0]?.tls ?? false)})`,
        ok,
      }),
      edge,
      first,
      second,
      originSaw,
    };
  }

  /** Step 2: every client gets its nearest edge; TTFB MISS vs HIT. */
  async step2(): Promise<StepRow & { got: Record<string, string> }> {
    const got: Record<string, string> = {};
    const parts: string[] = [];
    let ok = true;
    for (const c of clients()) {
      const path = `/step2/${c.name}.css`;
      const miss = await this.get(c, path);
      const hit = await this.get(c, path);
      got[c.name] = who(miss.remoteIp);
      const want = nearestEdge(c);
      ok &&=
        got[c.name] === want &&
        miss.headers['x-cache-status'] === 'MISS' &&
        hit.headers['x-cache-status'] === 'HIT';
      parts.push(`${c.name}→${got[c.name]} MISS ${miss.ttfbMs} / HIT ${hit.ttfbMs} ms`);
    }
    return {
      ...this.row({
        step: '2',
        what: 'each client gets its nearest edge; TTFB MISS / HIT',
        figures: parts.join('; '),
        ok,
      }),
      got,
    };
  }

  /** Step 4: fra's link goes down; DE moves (through the resolver, TTL honoured); fra returns. */
  async step4(): Promise<
    StepRow & { movedTo: string; movedMs: number; backMs: number; servedBy: string }
  > {
    const de = host('de');
    const fra = host('fra');
    const name = async () => who((await resolveIn(this.net, de, SITE))[0] ?? '');
    await until(
      'DE on fra before the cut',
      async () => ((await name()) === 'fra' ? true : undefined),
      30_000,
      200,
    );
    this.net.setLink(fra, false);
    let t = Date.now();
    const movedTo = await until(
      'DE moved off fra',
      async () => {
        const n = await name();
        return n !== 'fra' && n !== '(none)' ? n : undefined;
      },
      60_000,
      100,
    );
    const movedMs = Date.now() - t;
    const served = await this.get(de, '/step4.css');
    const servedBy = who(served.remoteIp);
    this.net.setLink(fra, true);
    t = Date.now();
    await until(
      'DE back on fra',
      async () => ((await name()) === 'fra' ? true : undefined),
      60_000,
      100,
    );
    const backMs = Date.now() - t;
    const bound = (CHECK_INTERVAL_S + 1 + DNS_TTL_S) * 1000; // interval + check timeout + TTL
    const ok =
      movedTo === nearestEdge(de, ['fra']) && servedBy === movedTo && served.status === 200;
    return {
      ...this.row({
        step: '4',
        what: "fra's link down: DE moves to the next nearest edge, then back",
        figures: `moved to ${movedTo} after ${(movedMs / 1000).toFixed(1)} s (check interval ${CHECK_INTERVAL_S} s + timeout 1 s + TTL ${DNS_TTL_S} s = ${bound / 1000} s), served ${served.status} by ${servedBy}; back on fra after ${(backMs / 1000).toFixed(1)} s`,
        ok,
      }),
      movedTo,
      movedMs,
      backMs,
      servedBy,
    };
  }

  /** Step 5: origin down: edges keep serving cached (STALE), uncached paths fail fast, DNS stays on edges. */
  async step5(): Promise<
    StepRow & { stale: CurlResult; uncached: CurlResult; answers: Record<string, string> }
  > {
    const de = host('de');
    const cached = await this.get(de, '/short/cached.css');
    if (cached.headers['x-cache-status'] !== 'MISS')
      throw new Error(
        `step 5: expected a first MISS, got ${cached.headers['x-cache-status'] ?? cached.error}`,
      );
    await sleep(2500); // max-age=1 (whole seconds in nginx): expired, only stale-if-error may serve it now
    await this.origin?.stop();
    const stale = await this.get(de, '/short/cached.css');
    const uncached = await this.get(de, '/never-fetched.css');
    const answers: Record<string, string> = {};
    // a few check rounds: DNS must keep answering edges while the origin is down
    for (let round = 0; round < 3; round++) {
      for (const c of clients()) {
        const n = who((await resolveIn(this.net, c, SITE))[0] ?? '');
        if (answers[c.name] === undefined || n === 'origin') answers[c.name] = n;
      }
      await sleep(CHECK_INTERVAL_S * 1000);
    }
    // the origin comes back for the next steps
    const origin = await startOrigin(this.net, this.dir);
    this.origin = origin.proc;
    this.procs.push(origin.proc);
    const back = await this.get(de, '/after-origin-back.css');
    const ok =
      back.status === 200 &&
      stale.status === 200 &&
      stale.headers['x-cache-status'] === 'STALE' &&
      uncached.status >= 500 &&
      uncached.totalMs < 5000 &&
      Object.values(answers).every((a) => edges().some((e) => e.name === a));
    return {
      ...this.row({
        step: '5',
        what: 'origin down: cached objects STALE, uncached fail fast, DNS stays on the edges',
        figures: `cached: ${stale.status} ${stale.headers['x-cache-status'] ?? '?'} in ${stale.totalMs} ms; uncached: ${uncached.status} in ${uncached.totalMs} ms; DNS: ${Object.entries(
          answers,
        )
          .map(([c, e]) => `${c}→${e}`)
          .join(' ')}`,
        ok,
      }),
      stale,
      uncached,
      answers,
    };
  }

  /**
   * Step 3: a large file from the 30 Mbit/s hk edge. Without a modifier it comes through hk's
   * tbf (throughput shown, next to the same file from sin); with the original system's
   * modifier ("hk redirects large files") hk answers a redirect at once.
   */
  async step3(): Promise<StepRow & { hkMbps: number; sinMbps: number; redirect: CurlResult }> {
    // every edge has the certificate release (step 1 only waited for fra)
    await this.allApplied();
    const jp = host('jp');
    const via = (e: string, path: string) =>
      curlIn(this.net, jp, this.url(path), {
        cacert: this.acmeRoot,
        extra: ['--resolve', `${SITE}:443:${v4(host(e))}`],
        timeoutS: 30,
        saveBody: false,
      });
    const mbps = (r: CurlResult) => Math.round((r.speedBps * 8) / 1e5) / 10;
    const hk = await via('hk', '/big/file.bin');
    const sin = await via('sin', '/big/file.bin');
    const before = Object.fromEntries(
      (await edgeStatus(this.net, this.adminEnv)).map((r) => [r.name, r.desired_release ?? 0]),
    );
    await applySpec(
      this.net,
      this.dir,
      this.adminEnv,
      this.spec(
        `    modifiers:\n      - {name: hk-large-files, edges: [hk], match: {paths: ['/big/*']}, action: {type: redirect, status: 302, target: 'https://downloads.example.test{uri}'}}\n`,
      ),
    );
    await this.allApplied({ hk: before.hk ?? 0 });
    const redirect = await via('hk', '/big/file.bin');
    const ok =
      hk.status === 200 &&
      mbps(hk) < 36 &&
      redirect.status === 302 &&
      (redirect.headers.location ?? '').startsWith('https://downloads.example.test/big/');
    // back to the lab's spec for the next steps
    await applySpec(this.net, this.dir, this.adminEnv, this.spec());
    await this.allApplied();
    return {
      ...this.row({
        step: '3',
        what: 'large file from the 30 Mbit/s hk edge: capped by tbf; with the modifier, a redirect',
        figures: `8 MiB to JP: from hk ${mbps(hk)} Mbit/s (${hk.totalMs} ms${hk.error !== '' ? `, ${hk.error}` : ''}), from sin ${mbps(sin)} Mbit/s (${sin.totalMs} ms); with the modifier hk answers ${redirect.status} → ${redirect.headers.location ?? '-'} in ${redirect.totalMs} ms`,
        ok,
      }),
      hkMbps: mbps(hk),
      sinMbps: mbps(sin),
      redirect,
    };
  }

  /** Step 6: control plane down: edges keep serving; a change after it returns is live everywhere within a second. */
  async step6(): Promise<StepRow & { servedWhileDown: number; liveMs: number }> {
    await this.stopCp();
    let servedWhileDown = 0;
    for (const c of clients()) {
      const r = await this.get(c, '/step6.css');
      if (r.status === 200) servedWhileDown++;
    }
    await this.startCp();
    await this.allApplied();
    const header = `lab-${Date.now()}`;
    await applySpec(
      this.net,
      this.dir,
      this.adminEnv,
      this.spec(
        `    modifiers:\n      - {name: lab-mark, action: {type: set_header, name: X-Lab-Mark, value: ${header}}}\n`,
      ),
    );
    const t = Date.now();
    const liveOn = new Set<string>();
    await until(
      'the new header on every edge',
      async () => {
        for (const e of edges()) {
          if (liveOn.has(e.name)) continue;
          const r = await curlIn(this.net, host('de'), this.url('/step6.css'), {
            cacert: this.acmeRoot,
            extra: ['--resolve', `${SITE}:443:${v4(e)}`],
            timeoutS: 3,
          });
          if (r.headers['x-lab-mark'] === header) liveOn.add(e.name);
        }
        return liveOn.size === edges().length ? true : undefined;
      },
      30_000,
      50,
    );
    const liveMs = Date.now() - t;
    const ok = servedWhileDown === clients().length && liveOn.size === edges().length;
    return {
      ...this.row({
        step: '6',
        what: 'control plane down: edges keep serving; a change after it returns goes live on every edge',
        figures: `${servedWhileDown}/${clients().length} clients served while it was down; change live on ${liveOn.size}/${edges().length} edges ${liveMs} ms after apply returned`,
        ok,
      }),
      servedWhileDown,
      liveMs,
    };
  }

  /** Step 7: a purge from the CLI is confirmed by every edge; the next request is a MISS everywhere. */
  async step7(): Promise<StepRow & { misses: number; confirmed: boolean }> {
    const path = '/step7.css';
    const direct = (e: LabHost) =>
      curlIn(this.net, host('de'), this.url(path), {
        cacert: this.acmeRoot,
        extra: ['--resolve', `${SITE}:443:${v4(e)}`],
        timeoutS: 5,
      });
    for (const e of edges()) {
      await direct(e);
      const again = await direct(e);
      if (again.headers['x-cache-status'] !== 'HIT')
        throw new Error(
          `step 7: ${e.name} did not cache ${path} (${again.headers['x-cache-status'] ?? again.error})`,
        );
    }
    const t = Date.now();
    const r = await cli(this.net, this.adminEnv, ['purge', SITE, this.url(path)]);
    const purgeMs = Date.now() - t;
    let misses = 0;
    for (const e of edges()) if ((await direct(e)).headers['x-cache-status'] === 'MISS') misses++;
    const confirmed = r.code === 0;
    const ok = confirmed && misses === edges().length;
    return {
      ...this.row({
        step: '7',
        what: 'purge from the CLI, confirmed by every edge; next request a MISS everywhere',
        figures: `outpost purge exit ${r.code} in ${purgeMs} ms (${r.stdout.trim().split('\n').pop() ?? ''}); MISS on ${misses}/${edges().length} edges`,
        ok,
      }),
      misses,
      confirmed,
    };
  }

  /** Stops everything and removes the network, whatever state it is in. */
  async stop(): Promise<void> {
    for (const p of [...this.procs].reverse()) await p.stop().catch(() => undefined);
    this.net.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
