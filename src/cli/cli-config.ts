// The CLI's own config file (`outpost login`): the control-plane URL and the admin token.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../agent/files.js';

export const CliConfigFile = z
  .object({ server: z.string().url().optional(), token: z.string().min(1).optional() })
  .strict();
export type CliConfigFile = z.infer<typeof CliConfigFile>;

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
