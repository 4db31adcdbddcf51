// `outpost store migrate --from sqlite:PATH --to postgres://…`: moves an installation to
// another store (docs/high-availability.md), verified table by table before it commits.
import type { Command } from 'commander';
import { copyStore } from '../../store/copy.js';
import { StoreDataError, StoreMigrationError, UnsupportedStoreError } from '../../store/index.js';
import { CliError, UsageError } from '../errors.js';
import { table } from '../output.js';
import type { CommandContext } from './context.js';

export function registerStoreCommands(program: Command, ctx: CommandContext): void {
  const store = program.command('store').description("the control plane's store");
  store
    .command('migrate')
    .description(
      'copy every table of a store into a new, empty one (stop the control plane first), checked by row counts and checksums before it commits',
    )
    .requiredOption(
      '--from <url>',
      'the store to read, e.g. sqlite:/var/lib/outpost/data/outpost.db',
    )
    .option(
      '--to <url>',
      'the empty store to fill, e.g. postgres://outpost@db:5432/outpost (default: env OUTPOST_DATABASE)',
    )
    .action(async (o: { from: string; to?: string }) => {
      const to = o.to ?? ctx.env.database;
      if (to === undefined) throw new UsageError('give --to URL (or set OUTPOST_DATABASE)');
      try {
        const checks = await copyStore(o.from, to);
        ctx.out.line(
          table([
            ['TABLE', 'ROWS', 'SHA-256 (both sides)'],
            ...checks.map((c) => [c.table, String(c.rows), c.checksum.slice(0, 16)]),
          ]),
        );
        const rows = checks.reduce((n, c) => n + c.rows, 0);
        ctx.out.line(
          `Copied ${rows} rows in ${checks.length} tables; every count and checksum matches. Start outpost serve --database with the same --secret-key-file.`,
        );
      } catch (error) {
        if (
          error instanceof StoreDataError ||
          error instanceof StoreMigrationError ||
          error instanceof UnsupportedStoreError
        )
          throw new CliError(error.message);
        throw error;
      }
    });
}
