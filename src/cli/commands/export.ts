// `outpost export`: print the desired state as outpost.yaml.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerExportCommand(program: Command, ctx: CommandContext): void {
  program
    .command('export')
    .description('print the desired state as outpost.yaml')
    .option('-o, --output <path>', 'write to a file instead of standard output')
    .action(async (o: { output?: string }) => {
      const yaml = await ctx.client().request<string>('GET', 'v1/state/yaml');
      if (o.output) writeFileSync(o.output, yaml);
      else process.stdout.write(yaml);
    });
}
