// `outpost-agent`: the edge agent alone, the entry point of the one-file executable that
// `npm run release` builds (esbuild bundles this file and what it imports; Node's single
// executable applications turn it into one binary, so an edge needs no Node.js, npm or
// compiler). Same flags as `outpost agent`; `outpost-agent agent …` is accepted too, so an
// `outpost agent` command line works with the name changed.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { readAgentConfig, readEnvironment, type AgentFlags } from '../config/index.js';
import { addAgentOptions } from './agent-options.js';
import { runAgent } from './commands/agent.js';
import { stdio } from './output.js';

/** Set by the release build (esbuild `define`): the bundle has no package.json beside it. */
declare const __OUTPOST_VERSION__: string | undefined;

function version(): string {
  if (typeof __OUTPOST_VERSION__ === 'string') return __OUTPOST_VERSION__;
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export async function agentMain(argv: string[]): Promise<number> {
  const env = readEnvironment(process.env);
  const args = argv[2] === 'agent' ? [...argv.slice(0, 2), ...argv.slice(3)] : argv;
  const program = addAgentOptions(
    new Command('outpost-agent')
      .description(
        "Outpost's edge agent: pulls this edge's signed bundle, drives nginx or Caddy, reports",
      )
      .version(version())
      .option(
        '--server <url>',
        'control-plane URL, or several as a comma list in order of preference (env OUTPOST_SERVER)',
      )
      .showHelpAfterError(),
  )
    .exitOverride()
    .action(async (o: AgentFlags) => {
      await runAgent(readAgentConfig(o, env, process.getuid?.() === 0));
    });
  try {
    await program.parseAsync(args);
    return 0;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('commander.'))
      return (err as { exitCode?: number }).exitCode ?? 2;
    stdio.error(`outpost-agent: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

void agentMain(process.argv).then((code) => {
  if (code !== 0) process.exitCode = code;
});
