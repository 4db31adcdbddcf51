// `outpost login`: remember the control-plane URL and the admin token (file mode 0600).
import { ApiClient } from '../client.js';
import { writeCliConfig } from '../cli-config.js';
import { UsageError } from '../errors.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerLoginCommand(program: Command, ctx: CommandContext): void {
  // --server and --token are the program-wide options (commander hands them to the program, not
  // to the subcommand, wherever they are written), so login reads them from there.
  program
    .command('login')
    .description('check and remember --server URL and --token TOKEN for this user (file mode 0600)')
    .action(async () => {
      const o = program.opts<{ server?: string; token?: string }>();
      const missing = [!o.server && '--server URL', !o.token && '--token TOKEN'].filter(Boolean);
      if (!o.server || !o.token) throw new UsageError(`login needs ${missing.join(' and ')}`);
      await new ApiClient(o.server, o.token).request('GET', 'v1/state');
      await writeCliConfig(ctx.env.configPath, { server: o.server, token: o.token });
      ctx.out.line(`Logged in to ${o.server}; saved in ${ctx.env.configPath}.`);
    });
}
