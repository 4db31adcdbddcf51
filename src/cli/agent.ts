// `outpost agent`: the edge side. Runs until SIGTERM/SIGINT; nginx keeps serving after it stops.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { Agent, AgentSetupError, readTokenFile } from '../agent/agent.js';
import { CliError } from './errors.js';

export interface AgentCommandOptions {
  server: string;
  tokenFile: string;
  root: string;
  nginx: string;
  pin?: string;
  nginxUser?: string;
  wait: number;
  reportInterval: number;
  stopProxyOnExit: boolean;
  logLevel: string;
}

export async function runAgent(o: AgentCommandOptions): Promise<void> {
  if (!existsSync(o.nginx)) {
    throw new CliError(
      `nginx is not installed at ${o.nginx}: install it with "apt-get install nginx-light" (or pass --nginx PATH)`,
    );
  }
  const logger = pino({ level: o.logLevel, base: { component: 'agent' } });
  let agent: Agent;
  try {
    const token = await readTokenFile(o.tokenFile);
    const nginxUser = o.nginxUser ?? (process.getuid?.() === 0 ? 'www-data' : undefined);
    agent = new Agent({
      server: o.server,
      token,
      root: resolve(o.root),
      nginx: o.nginx,
      logger,
      waitSeconds: o.wait,
      reportIntervalMs: o.reportInterval * 1000,
      ...(o.pin !== undefined ? { pin: o.pin } : {}),
      ...(nginxUser !== undefined ? { nginxUser } : {}),
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
