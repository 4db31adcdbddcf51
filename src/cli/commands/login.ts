// `outpost login`: remember the control-plane URL and the admin token (file mode 0600).
import { ApiClient } from '../client.js';
import { writeCliConfig } from '../cli-config.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerLoginCommand(program: Command, ctx: CommandContext): void {
  program
    .command('login')
    .description('remember the control-plane URL and admin token for this user (file mode 0600)')
    .requiredOption('--server <url>', 'control-plane URL')
    .requiredOption('--token <token>', 'admin token')
    .action(async (o: { server: string; token: string }) => {
      await new ApiClient(o.server, o.token).request('GET', 'v1/state');
      await writeCliConfig(ctx.env.configPath, { server: o.server, token: o.token });
      ctx.out.line(`Logged in to ${o.server}; saved in ${ctx.env.configPath}.`);
    });
}
