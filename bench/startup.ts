// `npm run bench:startup`: start time and memory of the `outpost` CLI and of the edge agent,
// before (TypeScript sources through tsx, as every install ran until the release build) and
// after (compiled dist/, and the one-file agent of `npm run release`), side by side.
//
// Start time: the median and min/max of N runs of `--version` (process start to exit).
// RSS: a real agent joined to a real control plane on loopback, with one nginx edge, read from
// /proc/PID/status once it has applied its first release (idle, after the join).
//
// A benchmark measures and prints: it never fails on a time. Bounded: N runs (default 10) and
// one edge per agent kind. Builds what is stale first (scripts/release.sh if-stale).
//
//   npm run bench:startup -- --runs 10
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stdio, table } from '../src/cli/output.js';
import { NGINX, TestCdn } from '../test/support/cdn.js';
import { startOrigin } from '../test/support/origin.js';
import { OUTPOST_BIN, startProcess, type Running } from '../test/support/processes.js';
import { AGENT_EXECUTABLE, buildReleaseIfStale, COMPILED_CLI } from '../test/support/release.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Math.min(Math.max(Number(args.runs) || 10, 1), 50);

/** Times `--version` of each command, interleaved (the box is shared: load hits all alike). */
function timeRuns(commands: [string, string[]][]): number[][] {
  const times: number[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++)
    commands.forEach(([command, argv], k) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(command, argv, { stdio: 'pipe', timeout: 30_000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0)
        throw new Error(`${command} ${argv.join(' ')} failed: ${String(r.stderr)}`);
      times[k]?.push(ms);
    });
  return times.map((t) => t.sort((x, y) => x - y));
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? NaN;
const f = (ms: number) => `${Math.round(ms)} ms`;

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

async function agentRss(kind: 'tsx' | 'one-file'): Promise<number> {
  const cdn = new TestCdn({ edges: { b1: '127.0.0.42' }, serveArgs: ['--nginx-check', 'off'] });
  const origin = await startOrigin({});
  let agent: Running | undefined;
  try {
    await cdn.start();
    await cdn.apply(`
edges:
${cdn.edgeYaml('b1')}sites:
  - domain: bench.test
    origins: [{host: {v4: 127.0.0.1}, port: ${origin.port}, protocol: http}]
`);
    const flags = [
      '--server',
      cdn.cpUrl,
      '--token-file',
      join(cdn.tmp.path, 'token-b1'),
      '--root',
      cdn.root('b1'),
      '--nginx',
      NGINX,
      '--report-interval',
      '1',
    ];
    agent =
      kind === 'tsx'
        ? startProcess(process.execPath, [OUTPOST_BIN, 'agent', ...flags])
        : startProcess(AGENT_EXECUTABLE, flags);
    await cdn.allApplied();
    // Settled: a few reports after the first release.
    await new Promise((r) => setTimeout(r, 3000));
    return rssMiB(agent.child.pid);
  } finally {
    await agent?.stop();
    await cdn.close();
    await origin.close();
  }
}

await buildReleaseIfStale();
const [cliTsx = [], cliDist = [], agentSea = []] = timeRuns([
  [process.execPath, [OUTPOST_BIN, '--version']],
  [process.execPath, [COMPILED_CLI, '--version']],
  [AGENT_EXECUTABLE, ['--version']],
]);
// Before the release build an edge's agent was `outpost agent`: the same CLI through tsx.
const agentTsx = cliTsx;
const rssTsx = await agentRss('tsx');
const rssSea = await agentRss('one-file');

stdio.line(`Start time, ${runs} runs each (median, min-max); RSS of a joined, idle agent.`);
stdio.line(
  table([
    ['WHAT', 'BEFORE (tsx, sources)', 'AFTER (release)', ''],
    [
      'outpost --version',
      `${f(median(cliTsx))} (${f(cliTsx[0] ?? NaN)}-${f(cliTsx.at(-1) ?? NaN)})`,
      `${f(median(cliDist))} (${f(cliDist[0] ?? NaN)}-${f(cliDist.at(-1) ?? NaN)})`,
      'node dist/cli/main.js',
    ],
    [
      'agent --version',
      `${f(median(agentTsx))} (${f(agentTsx[0] ?? NaN)}-${f(agentTsx.at(-1) ?? NaN)})`,
      `${f(median(agentSea))} (${f(agentSea[0] ?? NaN)}-${f(agentSea.at(-1) ?? NaN)})`,
      'before: outpost (tsx); after: outpost-agent',
    ],
    ['agent RSS, joined and idle', `${rssTsx.toFixed(1)} MiB`, `${rssSea.toFixed(1)} MiB`, ''],
    [
      'agent on disk',
      'node + npm package + node_modules',
      `${(statSync(AGENT_EXECUTABLE).size / 2 ** 20).toFixed(1)} MiB, one file`,
      '',
    ],
  ]),
);
