// Profiles the one-change build (not the full build before it) with the V8 CPU profiler and
// prints the top self-time functions; writes the .cpuprofile for Chrome DevTools.
//   npx tsx bench/profile-build.ts --sites 10000 --edges 100 --out /tmp/one-change.cpuprofile
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stdio as out, table } from '../src/cli/output.js';
import { BundleBuilder } from '../src/edges/builder.js';
import { ensureSigningKey } from '../src/edges/signing-key.js';
import { parseSpec, type SpecInput } from '../src/spec/index.js';
import { openStore } from '../src/store/index.js';
import { scaleSpec } from './scale-spec.js';

const { values: args } = parseArgs({
  options: {
    sites: { type: 'string', default: '10000' },
    edges: { type: 'string', default: '100' },
    out: { type: 'string' },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const dir = mkdtempSync(join(tmpdir(), 'outpost-profile-'));
try {
  const store = await openStore({ url: `sqlite:${join(dir, 'outpost.db')}` });
  const signer = await ensureSigningKey(store);
  const builder = new BundleBuilder({ store, signer, logger: pino({ level: 'silent' }) });
  const sites = Number(args.sites);
  const edges = Number(args.edges);
  const write = (input: SpecInput) =>
    store.writeState(parseSpec(input), {
      actor: 'bench',
      action: 'spec.apply',
      subject: '',
      detail: {},
    });
  await write(scaleSpec(sites, edges));
  await builder.rebuild();
  await write(scaleSpec(sites, edges, Math.floor(sites / 2)));
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const c0 = process.cpuUsage();
  const t = performance.now();
  await builder.rebuild();
  const ms = performance.now() - t;
  const c = process.cpuUsage(c0);
  const { profile } = (await session.post('Profiler.stop')) as unknown as {
    profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  };
  if (args.out !== undefined) writeFileSync(args.out, JSON.stringify(profile));
  // Self time by function, and inclusive time by function (any frame on the stack).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const name = (n: Node) =>
    `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const n = byId.get(id);
    if (n === undefined) return;
    self.set(name(n), (self.get(name(n)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => [k, `${v.toFixed(0)} ms`]);
  out.line(
    `one-change build: ${ms.toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU, ${JSON.stringify(builder.lastBuild())}`,
  );
  out.line(table([['self', 'ms'], ...top(self, 25)]));
  out.line(table([['inclusive', 'ms'], ...top(incl, 40)]));
  builder.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
