// The `outpost` command.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describeProblem } from '../spec/index.js';
import type { DemoOptions } from './commands/demo.js';
import { registerCertCommands } from './commands/cert.js';
import { addAgentOptions } from './agent-options.js';
import { ApiClient, ApiClientError } from './client.js';
import { registerDnsCommands } from './commands/dns.js';
import {
  AGENT_DEFAULTS,
  CONTROL_PLANE_DEFAULTS,
  readAgentConfig,
  readControlPlaneConfig,
  readEnvironment,
  type AgentFlags,
  type ControlPlaneFlags,
  type Environment,
} from '../config/index.js';
import { readCliConfig } from './cli-config.js';
import { CliError, UsageError } from './errors.js';
import { registerAccessCommands } from './commands/access.js';
import { registerAlertsCommands } from './commands/alerts.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerStoreCommands } from './commands/store.js';
import type { CommandContext } from './commands/context.js';
import { registerEdgeCommands } from './commands/edge.js';
import { registerExportCommand } from './commands/export.js';
import { registerLoginCommand } from './commands/login.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerPurgeCommand } from './commands/purge.js';
import { registerSiteCommands } from './commands/site.js';
import { registerStatusCommand } from './commands/status.js';
import { stdio, type Output } from './output.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface GlobalOptions {
  server?: string;
  token?: string;
}

export function buildProgram(env: Environment, out: Output): Command {
  const program = new Command('outpost')
    .description('Outpost: a self-hosted CDN. Control plane, edge agents, GeoDNS and certificates.')
    .version(VERSION)
    .option('--server <url>', 'control-plane URL (env OUTPOST_SERVER, or `outpost login`)')
    .option('--token <token>', 'admin token (env OUTPOST_TOKEN, or `outpost login`)')
    .showHelpAfterError();

  const client = (): ApiClient => {
    const g = program.opts<GlobalOptions>();
    const file = readCliConfig(env.configPath);
    const server = g.server ?? env.server ?? file.server ?? 'http://127.0.0.1:8080';
    const token = g.token ?? env.token ?? file.token;
    if (!token)
      throw new CliError(
        'no admin token: pass --token, set OUTPOST_TOKEN, or run `outpost login --server URL --token TOKEN`',
      );
    return new ApiClient(server, token);
  };

  const cpd = CONTROL_PLANE_DEFAULTS;
  program
    .command('serve')
    .description('run the control plane (embedded SQLite in the data dir)')
    .option('--data-dir <dir>', 'where the database lives (env OUTPOST_DATA_DIR; default ./data)')
    .option(
      '--database <url>',
      'a postgres:// store shared by several control planes (env OUTPOST_DATABASE, better for a URL with a password; default: SQLite in the data dir)',
    )
    .option(
      '--listen <host:port>',
      `address to listen on (env OUTPOST_LISTEN; default ${cpd.listen.host}:${cpd.listen.port})`,
    )
    .option(
      '--join-servers <urls>',
      'control-plane URLs the join command gives new edges, a comma list in order of preference (default: the public URL)',
    )
    .option(
      '--public-url <url>',
      'URL edges and the CLI use to reach this server (env OUTPOST_PUBLIC_URL)',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--secret-key-file <file>',
      'key sealing the secrets in the store (env OUTPOST_SECRET_KEY_FILE; default: outpost-secret.key beside the data dir; created 0600 when absent)',
    )
    .option(
      '--insecure-http',
      'allow a plain http:// --public-url that is not loopback (edges then need --insecure-http)',
    )
    .option('--log-level <level>', `log level (env OUTPOST_LOG_LEVEL; default ${cpd.logLevel})`)
    .option(
      '--nginx-check <auto|off|path>',
      `check each edge rendering with nginx -t before publishing it (auto: if nginx is installed here; default ${cpd.nginxCheck})`,
    )
    .option(
      '--caddy-check <auto|off|path>',
      `check Caddy edges’ renderings with caddy validate before publishing (auto: if caddy is installed here; default ${cpd.caddyCheck})`,
    )
    .option(
      '--probe-interval <seconds>',
      `seconds between probes of edges and origins (0: no probes; default ${cpd.probeInterval})`,
      Number,
    )
    .option(
      '--probe-timeout <seconds>',
      `seconds a probe waits for an answer (default ${cpd.probeTimeout})`,
      Number,
    )
    .option(
      '--probe-source-address <ip>',
      'local address the probes of edges and origins are sent from (default: the system chooses)',
    )
    .option(
      '--nginx-check-timeout <seconds>',
      'seconds nginx -t may take per edge rendering (default: 20 s plus 10 s per MiB of it)',
      Number,
    )
    .option(
      '--build-timeout <seconds>',
      'seconds a bundle build may go without progress before its worker is stopped and replaced (default: 600, at least twice --nginx-check-timeout)',
      Number,
    )
    .option(
      '--apply-timeout <seconds>',
      'seconds POST /v1/apply (outpost apply) may take in the apply worker before it is stopped and the apply answers 503 (default: 300)',
      Number,
    )
    .option(
      '--geoip-database <file>',
      'country database (GeoIP2 layout, from outpost geoip build) for edges whose sites match on countries or continents',
    )
    .option(
      '--geoip-asn-database <file>',
      'database with autonomous_system_number for edges whose sites match on ASNs',
    )
    .option(
      '--alert-fire-after <seconds>',
      `an alert is sent once it lasted this long (default ${cpd.alertFireAfter})`,
      Number,
    )
    .option(
      '--alert-resolve-after <seconds>',
      `a sent alert is resolved once it was gone this long (default ${cpd.alertResolveAfter})`,
      Number,
    )
    .option(
      '--alert-interval <seconds>',
      `at most one message per channel per this, changes grouped (default ${cpd.alertInterval})`,
      Number,
    )
    .option(
      '--alert-check-interval <seconds>',
      `seconds between looks at the alerts (default ${cpd.alertCheckInterval})`,
      Number,
    )
    .action(async (o: ControlPlaneFlags) => {
      const config = readControlPlaneConfig(o, env);
      // Loaded on demand: client commands should not pay for the server's modules.
      const { serve } = await import('./commands/serve.js');
      await serve(config, { version: VERSION, secretVars: env.vars }, out);
    });

  const agent = addAgentOptions(
    program
      .command('agent')
      .description("run the edge agent: pull this edge's bundle, drive nginx or Caddy, report"),
  );
  agent
    .command('status')
    .description("on the edge: the agent's view from its state dir (control plane, release)")
    .option('--root <dir>', "the agent's state directory (default /var/lib/outpost-agent)")
    .option('--json', 'print JSON')
    .action(async (o: { root?: string; json?: boolean }) => {
      const { agentStatus } = await import('./commands/agent-status.js');
      // `agent` has a --root of its own, which commander fills when it is written.
      const root = o.root ?? agent.opts<{ root?: string }>().root ?? AGENT_DEFAULTS.root;
      await agentStatus(root, o.json === true, out);
    });
  agent.action(async (o: AgentFlags) => {
    // --server is the global option (the same flag the client commands take).
    const config = readAgentConfig(
      { ...o, server: program.opts<GlobalOptions>().server },
      env,
      process.getuid?.() === 0,
    );
    const { runAgent } = await import('./commands/agent.js');
    await runAgent(config);
  });

  program
    .command('demo')
    .description('a whole CDN on this machine: control plane, sample origin, one nginx edge')
    .option('--data-dir <dir>', "keep the demo's state here (default: a temp dir, removed on exit)")
    .option('--port <port>', 'control-plane port on 127.0.0.1 (default: a free one)', Number)
    .option('--edge-address <ip>', 'loopback address the edge listens on', '127.0.0.2')
    .option('--edge-port <port>', "the edge's HTTP port", Number, 8081)
    .option('--nginx <path>', 'nginx binary', '/usr/sbin/nginx')
    .option('--log-level <level>', 'log level (logs go to stderr)', 'warn')
    .action(async (o: Omit<DemoOptions, 'version' | 'signal'>) => {
      const { runDemo } = await import('./commands/demo.js');
      await runDemo({ ...o, version: VERSION }, out);
    });

  const ctx: CommandContext = { client, out, env };
  registerLoginCommand(program, ctx);
  registerApplyCommand(program, ctx);
  registerExportCommand(program, ctx);
  registerStatusCommand(program, ctx);
  registerCertCommands(program, { client, out });
  registerDnsCommands(program, { client, out });

  registerPurgeCommand(program, client, out);
  registerLogsCommand(program, ctx);

  registerSiteCommands(program, ctx);
  registerEdgeCommands(program, ctx);
  registerAccessCommands(program, ctx);
  registerBackupCommands(program, ctx);
  registerAlertsCommands(program, ctx);
  registerStoreCommands(program, ctx);

  return program;
}

export async function main(argv: string[], out: Output = stdio): Promise<number> {
  const env = readEnvironment(process.env);
  const program = buildProgram(env, out);
  // Every command, not only the program: a subcommand's usage error would exit 1 by itself.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('commander.')) {
      // Help and --version exit 0; every other commander error is a usage error (docs/cli.md).
      const shown = ['commander.helpDisplayed', 'commander.help', 'commander.version'];
      return shown.includes(code) ? 0 : 2;
    }
    if (err instanceof UsageError) {
      out.error(`outpost: ${err.message}`);
      return 2;
    }
    if (err instanceof ApiClientError) {
      out.error(`outpost: ${err.message}${err.path ? ` (at ${err.path})` : ''}`);
      for (const p of err.problems ?? []) out.error(`  ${describeProblem(p)}`);
      return 1;
    }
    if (err instanceof CliError || err instanceof Error) {
      out.error(`outpost: ${err.message}`);
      return 1;
    }
    out.error(`outpost: ${String(err)}`);
    return 1;
  }
}

// `outpost … | head` closes the pipe early: stop quietly instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });

const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
