// `outpost agent` (and the one-file `outpost-agent`): the edge side. Runs until SIGTERM/SIGINT;
// the proxy (nginx or Caddy) keeps serving after it stops.
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { Agent, AgentSetupError, readTokenFile } from '../../agent/agent.js';
import { checkServerUrl, ControlPlaneError } from '../../agent/control-plane.js';
import type { AgentConfig } from '../../config/index.js';
import { CliError } from '../errors.js';

export async function runAgent(o: AgentConfig): Promise<void> {
  // Before anything reads the token or opens a connection: no plain HTTP across a network.
  try {
    for (const server of o.servers) checkServerUrl(server, o.insecureHttp);
  } catch (err) {
    if (err instanceof ControlPlaneError) throw new CliError(err.message);
    throw err;
  }
  // The proxy is the edge's `proxy` (in each bundle); a release for a missing one fails with
  // a clear error in `outpost status`. At least one must be here.
  if (!existsSync(o.nginx) && !existsSync(o.caddy)) {
    throw new CliError(
      `neither nginx (${o.nginx}) nor caddy (${o.caddy}) is installed: install the edge's proxy with "apt-get install nginx-light" or "apt-get install caddy" (or pass --nginx/--caddy PATH)`,
    );
  }
  const logger = pino({ level: o.logLevel, base: { component: 'agent' } });
  let agent: Agent;
  try {
    const token = await readTokenFile(o.tokenFile);
    agent = new Agent({
      server: o.servers,
      token,
      root: o.root,
      nginx: o.nginx,
      caddy: o.caddy,
      logger,
      waitSeconds: o.wait,
      reportIntervalMs: o.reportInterval * 1000,
      insecureHttp: o.insecureHttp,
      accessLog: { maxBytes: Math.round(o.accessLogMaxSize * 1024 * 1024), keep: o.accessLogKeep },
      ...(o.pin !== undefined ? { pin: o.pin } : {}),
      ...(o.nginxUser !== undefined ? { nginxUser: o.nginxUser } : {}),
      ...(o.accessLogSyslog !== undefined ? { accessLogSyslog: o.accessLogSyslog } : {}),
    });
    await agent.start();
  } catch (err) {
    if (err instanceof AgentSetupError) throw new CliError(err.message);
    throw err;
  }
  const stop = async (signal: string) => {
    logger.info({ signal }, 'agent stopping');
    await agent.stop({ stopProxy: o.stopProxyOnExit });
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
