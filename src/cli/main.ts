// The `outpost` command.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { describeProblem, type Edge, type Site, type SpecDiff } from '../spec/index.js';
import type { EdgeStatus } from '../health/edge-status.js';
import { addAgentOptions, agentOptions, type AgentFlags } from './agent-options.js';
import type { DemoOptions } from './demo.js';
import { registerCertCommands } from './cert.js';
import { ApiClient, ApiClientError } from './client.js';
import { registerDnsCommands } from './dns.js';
import { readCliConfig, readEnvironment, writeCliConfig, type Environment } from './environment.js';
import { CliError } from './errors.js';
import { registerPurgeCommand } from './purge.js';
import { stdio, table, type Output } from './output.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface GlobalOptions {
  server?: string;
  token?: string;
}

interface ApplyResult {
  changed: boolean;
  revision: number;
  diff: SpecDiff;
  text: string;
  edge_tokens: Record<string, string>;
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

  program
    .command('serve')
    .description('run the control plane (embedded SQLite in the data dir)')
    .option(
      '--data-dir <dir>',
      'where the database lives (env OUTPOST_DATA_DIR)',
      env.dataDir ?? './data',
    )
    .option(
      '--listen <host:port>',
      'address to listen on (env OUTPOST_LISTEN)',
      env.listen ?? '127.0.0.1:8080',
    )
    .option(
      '--public-url <url>',
      'URL edges and the CLI use to reach this server (env OUTPOST_PUBLIC_URL)',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--insecure-http',
      'allow a plain http:// --public-url that is not loopback (edges then need --insecure-http)',
    )
    .option('--log-level <level>', 'log level', env.logLevel ?? 'info')
    .option(
      '--nginx-check <auto|off|path>',
      'check each edge rendering with nginx -t before publishing it (auto: if nginx is installed here)',
      'auto',
    )
    .option(
      '--caddy-check <auto|off|path>',
      'check Caddy edges’ renderings with caddy validate before publishing (auto: if caddy is installed here)',
      'auto',
    )
    .option(
      '--probe-interval <seconds>',
      'seconds between probes of edges and origins (0: no probes)',
      (v) => Number(v),
      10,
    )
    .action(
      async (o: {
        probeInterval: number;
        dataDir: string;
        listen: string;
        publicUrl?: string;
        logLevel: string;
        nginxCheck: string;
        caddyCheck: string;
        tlsCert?: string;
        tlsKey?: string;
        insecureHttp?: boolean;
      }) => {
        const publicUrl = o.publicUrl ?? env.publicUrl;
        // Loaded on demand: client commands should not pay for the server's modules.
        const { serve } = await import('./serve.js');
        await serve(
          {
            dataDir: o.dataDir,
            listen: o.listen,
            logLevel: o.logLevel,
            version: VERSION,
            nginxCheck: o.nginxCheck,
            caddyCheck: o.caddyCheck,
            probeInterval: o.probeInterval,
            secretVars: env.vars,
            insecureHttp: o.insecureHttp === true,
            ...(o.tlsCert !== undefined ? { tlsCert: o.tlsCert } : {}),
            ...(o.tlsKey !== undefined ? { tlsKey: o.tlsKey } : {}),
            ...(publicUrl ? { publicUrl } : {}),
          },
          out,
        );
      },
    );

  addAgentOptions(
    program
      .command('agent')
      .description("run the edge agent: pull this edge's bundle, drive nginx or Caddy, report"),
    env.logLevel,
  ).action(async (o: AgentFlags) => {
    // --server is the global option (the same flag the client commands take).
    const server = program.opts<GlobalOptions>().server ?? env.server;
    if (!server) throw new CliError('outpost agent needs --server URL (or OUTPOST_SERVER)');
    const { runAgent } = await import('./agent.js');
    await runAgent(agentOptions(server, o));
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
      const { runDemo } = await import('./demo.js');
      await runDemo({ ...o, version: VERSION }, out);
    });

  program
    .command('login')
    .description('remember the control-plane URL and admin token for this user (file mode 0600)')
    .requiredOption('--server <url>', 'control-plane URL')
    .requiredOption('--token <token>', 'admin token')
    .action(async (o: { server: string; token: string }) => {
      await new ApiClient(o.server, o.token).request('GET', 'v1/state');
      await writeCliConfig(env.configPath, { server: o.server, token: o.token });
      out.line(`Logged in to ${o.server}; saved in ${env.configPath}.`);
    });

  program
    .command('apply')
    .description('make the control plane match an outpost.yaml, printing what changes')
    .requiredOption('-f, --file <path>', 'the outpost.yaml to apply')
    .option('--dry-run', 'only show what would change')
    .action(async (o: { file: string; dryRun?: boolean }) => {
      let yaml: string;
      try {
        yaml = readFileSync(o.file, 'utf8');
      } catch (err) {
        throw new CliError(
          `cannot read ${o.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
      }
      const result = await client()
        .request<ApplyResult>('POST', 'v1/apply', { yaml, dry_run: o.dryRun === true })
        .catch((err: unknown) => {
          if (err instanceof ApiClientError && err.problems) {
            throw new CliError(
              `${o.file} is not valid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n` +
                err.problems.map((p) => `  ${describeProblem(p, o.file)}`).join('\n'),
            );
          }
          throw err;
        });
      out.line(result.text);
      if (o.dryRun) out.line('Dry run: nothing was changed.');
      else if (result.changed) out.line(`Applied: revision ${result.revision}.`);
      printNewTokens(out, result.edge_tokens);
    });

  program
    .command('export')
    .description('print the desired state as outpost.yaml')
    .option('-o, --output <path>', 'write to a file instead of standard output')
    .action(async (o: { output?: string }) => {
      const yaml = await client().request<string>('GET', 'v1/state/yaml');
      if (o.output) writeFileSync(o.output, yaml);
      else process.stdout.write(yaml);
    });

  program
    .command('status')
    .description('each edge: state, applied vs desired release, last report, error')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const status = await client().request<{
        revision: number;
        edges: EdgeStatus[];
        alerts?: { kind: string; subject: string; message: string }[];
      }>('GET', 'v1/status');
      if (o.json) return out.json(status);
      out.line(`Desired state: revision ${status.revision}`);
      for (const a of status.alerts ?? []) out.line(`ALERT ${a.kind} ${a.subject}: ${a.message}`);
      if (status.edges.length === 0) return out.line('No edges.');
      out.line(
        table([
          ['EDGE', 'STATE', 'RELEASE', 'LAST SEEN', 'ERROR'],
          ...status.edges.map((e) => [
            e.name + (e.paused ? ' (paused)' : ''),
            e.state,
            `${e.applied_release ?? '-'}/${e.desired_release ?? '-'}`,
            e.age_seconds === null ? 'never' : `${e.age_seconds}s ago`,
            e.error ?? '-',
          ]),
        ]),
      );
      // Not errors, but worth saying: e.g. a Caddy edge that proxies without caching.
      for (const e of status.edges) if (e.note) out.line(`NOTE ${e.name}: ${e.note}`);
    });

  registerCertCommands(program, { client, out });
  registerDnsCommands(program, { client, out });

  registerPurgeCommand(program, client, out);

  const site = program.command('site').description('list, show and remove sites');
  site
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { sites } = await client().request<{ sites: Site[] }>('GET', 'v1/sites');
      if (o.json) return out.json(sites);
      if (sites.length === 0) return out.line('No sites.');
      out.line(
        table([
          ['DOMAIN', 'ALIASES', 'ORIGINS', 'EDGES'],
          ...sites.map((s) => [
            s.domain,
            s.aliases.join(',') || '-',
            s.origins.map(originLabel).join(','),
            s.edges.join(','),
          ]),
        ]),
      );
    });
  site
    .command('show <domain>')
    .action(async (domain: string) =>
      out.json((await client().request<{ site: Site }>('GET', `v1/sites/${enc(domain)}`)).site),
    );
  site.command('rm <domain>').action(async (domain: string) => {
    const r = await client().request<{ revision: number }>('DELETE', `v1/sites/${enc(domain)}`);
    out.line(`Removed site ${domain} (revision ${r.revision}).`);
  });

  const edge = program.command('edge').description('add, list, rotate tokens of and remove edges');
  edge
    .command('add <name>')
    .description('add an edge; prints its token once and the command the edge runs to join')
    .option('--ipv4 <address>', 'public IPv4 address')
    .option('--ipv6 <address>', 'public IPv6 address')
    .option('--tag <tag...>', 'tags (repeatable)')
    .option('--paused', 'add it paused (not in DNS, empty config)')
    .addOption(
      new Option('--proxy <proxy>', 'proxy on the edge')
        .choices(['nginx', 'caddy'])
        .default('nginx'),
    )
    .action(
      async (
        name: string,
        o: { ipv4?: string; ipv6?: string; tag?: string[]; paused?: boolean; proxy: string },
      ) => {
        const body = {
          name,
          host: { ...(o.ipv4 ? { v4: o.ipv4 } : {}), ...(o.ipv6 ? { v6: o.ipv6 } : {}) },
          tags: o.tag ?? [],
          paused: o.paused === true,
          proxy: o.proxy,
        };
        const r = await client().request<{ token: string; join_command: string; revision: number }>(
          'POST',
          'v1/edges',
          body,
        );
        out.line(`Added edge ${name} (revision ${r.revision}).`);
        printToken(out, name, r.token, r.join_command);
      },
    );
  edge
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { edges } = await client().request<{ edges: (Edge & { has_token: boolean })[] }>(
        'GET',
        'v1/edges',
      );
      if (o.json) return out.json(edges);
      if (edges.length === 0) return out.line('No edges.');
      out.line(
        table([
          ['NAME', 'IPV4', 'IPV6', 'TAGS', 'STATE', 'TOKEN'],
          ...edges.map((e) => [
            e.name,
            e.host.v4 ?? '-',
            e.host.v6 ?? '-',
            e.tags.join(',') || '-',
            e.paused ? 'paused' : 'active',
            e.has_token ? 'set' : 'revoked',
          ]),
        ]),
      );
    });
  edge
    .command('rotate-token <name>')
    .description('issue a new token for the edge; the old one stops working at once')
    .action(async (name: string) => {
      const r = await client().request<{ token: string; join_command: string }>(
        'POST',
        `v1/edges/${enc(name)}/token`,
      );
      out.line(`Rotated the token of edge ${name}; the old token no longer works.`);
      printToken(out, name, r.token, r.join_command);
    });
  edge
    .command('revoke-token <name>')
    .description('revoke the edge token: the edge can no longer pull')
    .action(async (name: string) => {
      await client().request('DELETE', `v1/edges/${enc(name)}/token`);
      out.line(`Revoked the token of edge ${name}.`);
    });
  edge.command('rm <name>').action(async (name: string) => {
    const r = await client().request<{ revision: number }>('DELETE', `v1/edges/${enc(name)}`);
    out.line(`Removed edge ${name} (revision ${r.revision}).`);
  });

  return program;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function originLabel(o: Site['origins'][number]): string {
  const host = typeof o.host === 'string' ? o.host : (o.host.v4 ?? `[${o.host.v6 ?? ''}]`);
  return `${o.protocol}://${host}${o.port ? `:${o.port}` : ''}${o.backup ? ' (backup)' : ''}`;
}

function printToken(out: Output, name: string, token: string, joinCommand: string): void {
  out.line('');
  out.line(`Token for edge ${name} (shown once; stored only as a hash):`);
  out.line(`  ${token}`);
  out.line('On the edge, run this and paste the token when asked:');
  out.line(`  ${joinCommand}`);
}

function printNewTokens(out: Output, tokens: Record<string, string>): void {
  for (const [name, token] of Object.entries(tokens)) {
    out.line('');
    out.line(`New edge ${name}: its token, shown once:`);
    out.line(`  ${token}`);
  }
}

export async function main(argv: string[], out: Output = stdio): Promise<number> {
  const env = readEnvironment();
  const program = buildProgram(env, out).exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('commander.')) {
      const code = (err as { exitCode?: number }).exitCode ?? 2;
      return code;
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

const code = await main(process.argv);
if (code !== 0) process.exitCode = code;
