// bench:propagation's simulated agents (bench/propagation.ts). They do what the real agent does
// on the wire: long-poll their bundle with their own token and If-None-Match, verify its
// signature with the key from /v1/edge/hello, and report the applied release (no nginx, no file
// fetches: the bench's bundles are checked by their signature alone).
//
// By default they run in a child process of their own (`--agents process`): real edges are
// other machines, and 1,000 agents' fetches, JSON and signature checks on the control plane's
// own thread were about a fifth of its CPU in a round (measured with --cpu-prof, issue 14).
// Run directly (the child), it takes its orders over IPC: {type:'start'} with the agents, then
// {type:'stop'}; it answers 'ready' once every agent said hello, 'applied' per report, 'log' for
// the first errors and 'done' with its counts.
import { verifyBundle } from '../src/bundle/index.js';
import type { EdgeReport } from '../src/spec/index.js';

export interface AgentRun {
  server: string;
  /** [edge, token] of each agent. */
  agents: [string, string][];
  waitSeconds: number;
  /** Agents started together; the next wave starts once these said hello. */
  wave: number;
  signal: AbortSignal;
  onReady: () => void;
  onApplied: (edge: string, release: number) => void;
  onError: (line: string) => void;
}

export interface AgentCounts {
  polls: number;
  errors: number;
}

/** Runs the agents until `signal` aborts. */
export async function runAgents(run: AgentRun): Promise<AgentCounts> {
  const counts: AgentCounts = { polls: 0, errors: 0 };
  const loops: Promise<void>[] = [];
  const aborted = new Promise((resolve) =>
    run.signal.addEventListener('abort', resolve, { once: true }),
  );
  for (let wave = 0; wave < run.agents.length; wave += run.wave) {
    const hellos: Promise<void>[] = [];
    for (const [edge, token] of run.agents.slice(wave, wave + run.wave)) {
      let hello: () => void = () => undefined;
      hellos.push(new Promise<void>((resolve) => (hello = resolve)));
      loops.push(simulateAgent(run, edge, token, counts, hello));
    }
    await Promise.race([Promise.all(hellos), aborted]);
  }
  if (!run.signal.aborted) run.onReady();
  await Promise.allSettled(loops);
  return counts;
}

/** One edge's pull loop, as the real agent does it on the wire (no nginx). */
async function simulateAgent(
  run: AgentRun,
  edge: string,
  token: string,
  counts: AgentCounts,
  hello: () => void,
): Promise<void> {
  const { server, signal } = run;
  const auth = { authorization: `Bearer ${token}` };
  const started = new Date().toISOString();
  let key: string | undefined;
  let known: string | undefined;
  while (!signal.aborted) {
    try {
      if (key === undefined) {
        const answer = await fetch(`${server}/v1/edge/hello`, { headers: auth, signal });
        key = ((await answer.json()) as { public_key: string }).public_key;
        hello();
      }
      counts.polls += 1;
      const res = await fetch(`${server}/v1/edge/poll?wait=${run.waitSeconds}`, {
        headers: { ...auth, ...(known ? { 'if-none-match': `"${known}"` } : {}) },
        signal,
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        continue;
      }
      const { bundle } = (await res.json()) as { bundle: unknown };
      if (bundle === null) continue; // purges only; the bench publishes none
      const manifest = verifyBundle(bundle, key, edge);
      // Known once reported: a report that fails is made again after the next poll (which,
      // asked without this hash, answers at once), not lost (an agent stuck a release behind).
      const etag = (res.headers.get('etag') ?? '').replace(/"/g, '');
      const report: EdgeReport = {
        agent_version: 'bench',
        applied_release: manifest.release,
        applied_hash: etag,
        failed_release: null,
        last_error: null,
        proxy: 'nginx',
        proxy_running: true,
        started_at: started,
      };
      const r = await fetch(`${server}/v1/edge/report`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(report),
        signal,
      });
      await r.body?.cancel();
      if (r.status !== 204) throw new Error(`report refused: HTTP ${r.status}`);
      known = etag;
      run.onApplied(edge, manifest.release);
    } catch (err) {
      if (signal.aborted) return;
      counts.errors += 1;
      if (counts.errors <= 10) {
        const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
        run.onError(
          `${edge}: ${(err as Error).message}${cause !== undefined ? ` (${cause})` : ''}; retrying`,
        );
      }
      // Not all together again: a random 0.5-1.5 s.
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1000));
    }
  }
}

/** Parent → child. */
export type ToAgents =
  | { type: 'start'; server: string; agents: [string, string][]; waitSeconds: number; wave: number }
  | { type: 'stop' };
/** Child → parent. */
export type FromAgents =
  | { type: 'ready' }
  | { type: 'applied'; edge: string; release: number }
  | { type: 'log'; line: string }
  | { type: 'done'; counts: AgentCounts };

// The child: started by bench/propagation.ts with an IPC channel.
if (process.send !== undefined && process.argv.includes('--propagation-agents')) {
  const send = (m: FromAgents) => process.send?.(m);
  const stop = new AbortController();
  process.on('disconnect', () => stop.abort());
  process.on('message', (m: ToAgents) => {
    if (m.type === 'stop') stop.abort();
    else
      void runAgents({
        ...m,
        signal: stop.signal,
        onReady: () => send({ type: 'ready' }),
        onApplied: (edge, release) => send({ type: 'applied', edge, release }),
        onError: (line) => send({ type: 'log', line }),
      }).then((counts) => {
        send({ type: 'done', counts });
        process.disconnect();
      });
  });
}
