// `outpost edge drain NAME` / `undrain NAME`: the edge's `drain` field in the desired state.
// A drained edge leaves the DNS answers (GCore: its records `enabled: false`; PowerDNS: out of
// the Lua pick) but keeps its configuration and keeps serving whoever still resolves to it,
// unlike `paused`. Desired state, so it survives restarts and export/apply keep it.
import type { Command } from 'commander';
import type { Edge } from '../../spec/index.js';
import type { ApiClient } from '../client.js';
import type { Output } from '../output.js';

export function registerEdgeDrainCommands(
  edge: Command,
  client: () => ApiClient,
  out: Output,
): void {
  const set = async (name: string, drain: boolean): Promise<void> => {
    const path = `v1/edges/${encodeURIComponent(name)}`;
    const current = await client().request<{ edge: Edge & { has_token?: boolean } }>('GET', path);
    const rest: Partial<Edge & { has_token: boolean }> = { ...current.edge };
    delete rest.has_token;
    delete rest.name;
    if (current.edge.drain === drain) {
      out.line(`Edge ${name} is already ${drain ? 'drained' : 'in the DNS answers'}.`);
      return;
    }
    const r = await client().request<{ revision: number }>('PUT', path, { ...rest, drain });
    out.line(
      drain
        ? `Drained edge ${name} (revision ${r.revision}): it leaves the DNS answers at the next DNS sync and keeps serving.`
        : `Undrained edge ${name} (revision ${r.revision}): it is back in the DNS answers at the next DNS sync.`,
    );
  };
  edge
    .command('drain <name>')
    .description('take the edge out of DNS answers; it keeps its config and keeps serving')
    .action((name: string) => set(name, true));
  edge
    .command('undrain <name>')
    .description('put a drained edge back into DNS answers')
    .action((name: string) => set(name, false));
}
