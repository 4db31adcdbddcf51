// The one place that reads the process environment and the CLI config file. Everything else
// receives a typed Environment.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../agent/files.js';

export const CliConfigFile = z
  .object({ server: z.string().url().optional(), token: z.string().min(1).optional() })
  .strict();
export type CliConfigFile = z.infer<typeof CliConfigFile>;

export interface Environment {
  /** OUTPOST_SERVER: control-plane URL for client commands. */
  server?: string;
  /** OUTPOST_TOKEN: admin token for client commands. */
  token?: string;
  /** OUTPOST_DATA_DIR and OUTPOST_LISTEN: defaults for `outpost serve`. */
  dataDir?: string;
  listen?: string;
  publicUrl?: string;
  logLevel?: string;
  configPath: string;
  /** Variables a `env:NAME` secret reference may read. */
  vars: Readonly<Record<string, string | undefined>>;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const configHome = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  const out: Environment = {
    configPath: env.OUTPOST_CONFIG ?? join(configHome, 'outpost', 'cli.json'),
    vars: { ...env },
  };
  if (env.OUTPOST_SERVER) out.server = env.OUTPOST_SERVER;
  if (env.OUTPOST_TOKEN) out.token = env.OUTPOST_TOKEN;
  if (env.OUTPOST_DATA_DIR) out.dataDir = env.OUTPOST_DATA_DIR;
  if (env.OUTPOST_LISTEN) out.listen = env.OUTPOST_LISTEN;
  if (env.OUTPOST_PUBLIC_URL) out.publicUrl = env.OUTPOST_PUBLIC_URL;
  if (env.OUTPOST_LOG_LEVEL) out.logLevel = env.OUTPOST_LOG_LEVEL;
  return out;
}

export function readCliConfig(path: string): CliConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not a valid Outpost CLI config: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = CliConfigFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(top level)';
    throw new Error(
      `${path} is not a valid Outpost CLI config: ${field}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Writes the CLI config atomically with mode 0600 (it holds the admin token). */
export async function writeCliConfig(path: string, config: CliConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n', 0o600);
}
