// The process environment, read once: the CLI entry passes `process.env` in, everything else
// receives a typed Environment (and the configs of config/control-plane.ts and agent.ts).
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Environment {
  /** OUTPOST_SERVER: control-plane URL for client commands. */
  server?: string;
  /** OUTPOST_TOKEN: admin token for client commands. */
  token?: string;
  /** OUTPOST_DATA_DIR and OUTPOST_LISTEN: defaults for `outpost serve`. */
  dataDir?: string;
  listen?: string;
  /** OUTPOST_DATABASE: a postgres:// store URL for `outpost serve` (it may hold a password). */
  database?: string;
  publicUrl?: string;
  logLevel?: string;
  /** OUTPOST_SECRET_KEY_FILE: the key that seals the store's secrets. */
  secretKeyFile?: string;
  /**
   * OUTPOST_TEST_HOLD_STATE_WRITE_MS: TEST ONLY. Every desired-state write holds its transaction
   * open this long before committing (and logs so), for tests that kill -9 a control plane in
   * the middle of an apply. Never set it in production: it slows every change.
   */
  testHoldStateWriteMs?: string;
  configPath: string;
  /** Variables a `env:NAME` secret reference may read. */
  vars: Readonly<Record<string, string | undefined>>;
}

export function readEnvironment(env: NodeJS.ProcessEnv): Environment {
  const configHome = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  const out: Environment = {
    configPath: env.OUTPOST_CONFIG ?? join(configHome, 'outpost', 'cli.json'),
    vars: { ...env },
  };
  if (env.OUTPOST_SERVER) out.server = env.OUTPOST_SERVER;
  if (env.OUTPOST_TOKEN) out.token = env.OUTPOST_TOKEN;
  if (env.OUTPOST_DATA_DIR) out.dataDir = env.OUTPOST_DATA_DIR;
  if (env.OUTPOST_LISTEN) out.listen = env.OUTPOST_LISTEN;
  if (env.OUTPOST_DATABASE) out.database = env.OUTPOST_DATABASE;
  if (env.OUTPOST_PUBLIC_URL) out.publicUrl = env.OUTPOST_PUBLIC_URL;
  if (env.OUTPOST_LOG_LEVEL) out.logLevel = env.OUTPOST_LOG_LEVEL;
  if (env.OUTPOST_SECRET_KEY_FILE) out.secretKeyFile = env.OUTPOST_SECRET_KEY_FILE;
  if (env.OUTPOST_TEST_HOLD_STATE_WRITE_MS)
    out.testHoldStateWriteMs = env.OUTPOST_TEST_HOLD_STATE_WRITE_MS;
  return out;
}
