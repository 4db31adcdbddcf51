// `outpost agent status`: on the edge, what the agent's state dir says (no control plane
// needed): its edge, the applied and failed releases, and whether the control plane answers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROL_PLANE_FILE } from '../../agent/agent.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';

interface Joined {
  edge?: string;
  fingerprint?: string;
  applied?: { release?: number } | null;
  failed?: { release?: number; error?: string } | null;
}
interface ControlPlaneNote {
  server?: string;
  /** Every URL the agent was given, in order of preference. */
  servers?: string[];
  reachable?: boolean;
  error?: string | null;
  since?: string;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CliError(
      `cannot read ${path} (${code ?? String(err)}); run this as the agent's user`,
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${path} is not JSON`);
  }
}

export async function agentStatus(root: string, json: boolean, out: Output): Promise<void> {
  const joined = await readJson<Joined>(join(root, 'agent.json'));
  const cp = await readJson<ControlPlaneNote>(join(root, CONTROL_PLANE_FILE));
  if (json) return out.json({ root, agent: joined ?? null, control_plane: cp ?? null });
  if (joined === undefined && cp === undefined)
    throw new CliError(`no agent state in ${root}: the agent never ran with --root ${root}`);
  out.line(`Agent state in ${root}`);
  out.line(
    joined?.edge !== undefined
      ? `Edge: ${joined.edge} (signing key ${joined.fingerprint ?? '?'})`
      : 'Edge: not joined yet',
  );
  out.line(`Applied release: ${joined?.applied?.release ?? 'none'}`);
  if (joined?.failed)
    out.line(`Failed release: ${joined.failed.release ?? '?'}: ${joined.failed.error ?? ''}`);
  if (cp === undefined) out.line('Control plane: not contacted yet');
  else if (cp.reachable) out.line(`Control plane: ${cp.server ?? '?'} answers (since ${cp.since})`);
  else out.line(`Control plane: ${cp.error ?? 'unreachable'} (since ${cp.since})`);
  if (cp !== undefined && (cp.servers?.length ?? 0) > 1)
    out.line(`Control planes, in order of preference: ${cp.servers?.join(', ')}`);
}
