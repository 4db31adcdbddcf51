// `outpost apply`: make the control plane match an outpost.yaml, printing what changes.
import { readFileSync } from 'node:fs';
import { describeProblem, type ChangeResult } from '../../spec/index.js';
import { ApiClientError } from '../client.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerApplyCommand(program: Command, ctx: CommandContext): void {
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
      const result = await ctx
        .client()
        .request<ChangeResult>('POST', 'v1/apply', { yaml, dry_run: o.dryRun === true })
        .catch((err: unknown) => {
          if (err instanceof ApiClientError && err.problems) {
            throw new CliError(
              `${o.file} is not valid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n` +
                err.problems.map((p) => `  ${describeProblem(p, o.file)}`).join('\n'),
            );
          }
          throw err;
        });
      ctx.out.line(result.text);
      if (o.dryRun) ctx.out.line('Dry run: nothing was changed.');
      else if (result.changed) ctx.out.line(`Applied: revision ${result.revision}.`);
      printNewTokens(ctx.out, result.edge_tokens);
    });
}

function printNewTokens(out: Output, tokens: Record<string, string>): void {
  for (const [name, token] of Object.entries(tokens)) {
    out.line('');
    out.line(`New edge ${name}: its token, shown once:`);
    out.line(`  ${token}`);
  }
}
