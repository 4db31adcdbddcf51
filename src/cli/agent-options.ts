// The agent's command line, shared by `outpost agent` and the one-file `outpost-agent`. Kept
// apart from agent.ts so that `outpost` loads the agent's modules only when it runs one.
import type { Command } from 'commander';

export interface AgentCommandOptions {
  server: string;
  tokenFile: string;
  root: string;
  nginx: string;
  /** The caddy binary, for an edge whose bundles say `proxy: caddy`. */
  caddy: string;
  pin?: string;
  nginxUser?: string;
  wait: number;
  reportInterval: number;
  stopProxyOnExit: boolean;
  /** Allow a plain http:// control plane that is not on loopback. */
  insecureHttp: boolean;
  logLevel: string;
}

/** What commander hands the action: the flags, before --server is added. */
export type AgentFlags = Omit<
  AgentCommandOptions,
  'server' | 'stopProxyOnExit' | 'insecureHttp'
> & {
  stopProxyOnExit?: boolean;
  insecureHttp?: boolean;
};

/**
 * The agent's flags (all but --server, which `outpost` takes as its global option), shared by
 * `outpost agent` and the one-file `outpost-agent` so both accept the same command line.
 */
export function addAgentOptions(cmd: Command, defaultLogLevel = 'info'): Command {
  return cmd
    .requiredOption('--token-file <path>', "file holding this edge's token (mode 0600)")
    .option(
      '--root <dir>',
      'state directory: releases, nginx prefix, cache',
      '/var/lib/outpost-agent',
    )
    .option('--nginx <path>', 'nginx binary', '/usr/sbin/nginx')
    .option('--caddy <path>', 'caddy binary, for an edge with proxy: caddy', '/usr/bin/caddy')
    .option(
      '--pin <fingerprint>',
      "expected sha256:… fingerprint of the control plane's signing key",
    )
    .option('--nginx-user <user>', 'nginx worker user when running as root (default www-data)')
    .option('--wait <seconds>', 'long-poll duration', (v) => Number(v), 30)
    .option('--report-interval <seconds>', 'seconds between reports', (v) => Number(v), 10)
    .option(
      '--stop-proxy-on-exit',
      'stop the proxy when the agent stops (by default it keeps serving)',
    )
    .option(
      '--insecure-http',
      'accept a plain http:// control plane that is not on loopback (its token and bundles travel unencrypted)',
    )
    .option('--log-level <level>', 'log level', defaultLogLevel);
}

/** The flags as runAgent takes them. */
export function agentOptions(server: string, o: AgentFlags): AgentCommandOptions {
  return {
    ...o,
    server,
    stopProxyOnExit: o.stopProxyOnExit === true,
    insecureHttp: o.insecureHttp === true,
  };
}
