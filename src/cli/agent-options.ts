// The agent's command line, shared by `outpost agent` and the one-file `outpost-agent`, so
// both accept the same flags. Kept apart from commands/agent.ts so that `outpost` loads the
// agent's modules only when it runs one. Defaults live in config/ (AgentConfig).
import type { Command } from 'commander';
import { AGENT_DEFAULTS } from '../config/index.js';

/**
 * The agent's flags (all but --server, which `outpost` takes as its global option). commander
 * hands them over without defaults; readAgentConfig applies them.
 */
export function addAgentOptions(cmd: Command): Command {
  const ad = AGENT_DEFAULTS;
  return (
    cmd
      // Required, but checked by readAgentConfig: a commander required option would also be
      // demanded by `outpost agent status`.
      .option('--token-file <path>', "file holding this edge's token (mode 0600; required)")
      .option(
        '--control-plane <url>',
        "a control-plane URL (or a comma list); repeat for several, in order of preference: the agent fails over between them (after --server's)",
        (url: string, previous: string[] = []) => [...previous, url],
      )
      .option('--root <dir>', `state directory: releases, nginx prefix, cache (default ${ad.root})`)
      .option('--nginx <path>', `nginx binary (default ${ad.nginx})`)
      .option('--caddy <path>', `caddy binary, for an edge with proxy: caddy (default ${ad.caddy})`)
      .option(
        '--pin <fingerprint>',
        "expected sha256:… fingerprint of the control plane's signing key",
      )
      .option(
        '--nginx-user <user>',
        `nginx worker user when running as root (default ${ad.rootNginxUser})`,
      )
      .option('--wait <seconds>', `long-poll duration (default ${ad.wait})`, Number)
      .option(
        '--report-interval <seconds>',
        `seconds between reports (default ${ad.reportInterval})`,
        Number,
      )
      .option(
        '--stop-proxy-on-exit',
        'stop the proxy when the agent stops (by default it keeps serving)',
      )
      .option(
        '--insecure-http',
        'accept a plain http:// control plane that is not on loopback (its token and bundles travel unencrypted)',
      )
      .option(
        '--access-log-max-size <MiB>',
        'rotate the JSON access log and the WAF log at this size (default 64)',
        Number,
      )
      .option(
        '--access-log-syslog <server>',
        'also send each access-log line to this syslog server (HOST[:PORT], UDP; e.g. 127.0.0.1:514)',
      )
      .option('--access-log-keep <count>', 'rotated files kept of each log (default 5)', Number)
      .option('--log-level <level>', 'log level (env OUTPOST_LOG_LEVEL; default info)')
  );
}
