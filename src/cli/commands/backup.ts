// `outpost backup FILE` and `outpost restore FILE --data-dir D`: an encrypted, consistent copy
// of the control plane's store and its secret key, and the way back (docs/backup.md). They
// work on the data dir of this machine, not through the API: a backup is taken while the
// control plane runs (a read-only snapshot), a restore goes into a new, locked data dir.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  readControlPlaneConfig,
  secretKeyFileOf,
  type ControlPlaneFlags,
} from '../../config/index.js';
import {
  BackupError,
  readBackupKey,
  restoreBackup,
  writeBackup,
  DATABASE_FILE,
  type BackupProtection,
  type BackupSummary,
} from '../../store/backup.js';
import { CliError, UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { readPassword } from './access.js';
import type { CommandContext } from './context.js';
import { readFileSync } from 'node:fs';

interface ProtectionFlags {
  keyFile?: string;
  passphraseFile?: string;
}

/** The key of the backup: a key file, a passphrase file, or a passphrase from the terminal/stdin. */
async function protectionOf(o: ProtectionFlags, creating: boolean): Promise<BackupProtection> {
  if (o.keyFile !== undefined && o.passphraseFile !== undefined)
    throw new UsageError('give --key-file or --passphrase-file, not both');
  if (o.keyFile !== undefined) {
    const keyFile = resolve(o.keyFile);
    // A new key file is made for a backup (and kept apart from it); a restore needs the old one.
    readBackupKey(keyFile, creating);
    return { keyFile };
  }
  if (o.passphraseFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.passphraseFile, 'utf8');
    } catch (err) {
      throw new CliError(
        `--passphrase-file: cannot read ${o.passphraseFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    return { passphrase: text.split(/\r?\n/)[0] ?? '' };
  }
  return { passphrase: await readPassword('Backup passphrase: ') };
}

function describe(out: Output, s: BackupSummary): void {
  out.line(
    `  store at ${s.migrations.at(-1) ?? 'no migration'}, revision ${s.revision}: ${s.edges} edge(s), ${s.sites} site(s), ${s.certificates} certificate(s), the signing key and the secret key`,
  );
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof BackupError) throw new CliError(error.message);
    throw error;
  }
}

export function registerBackupCommands(program: Command, ctx: CommandContext): void {
  const dataDirHelp = 'the control plane’s data dir (env OUTPOST_DATA_DIR; default ./data)';
  const keyHelp =
    'its secret key file (env OUTPOST_SECRET_KEY_FILE; default outpost-secret.key beside the data dir)';
  program
    .command('backup')
    .description(
      'write an encrypted, consistent copy of the store and its secret key to FILE (the control plane may be running); the passphrase is read from the terminal or stdin, never argv',
    )
    .argument('<file>', 'the backup file to write (mode 0600)')
    .option('--data-dir <dir>', dataDirHelp)
    .option('--secret-key-file <file>', keyHelp)
    .option(
      '--key-file <file>',
      'encrypt with this 32-byte key file (base64url) instead of a passphrase; created (0600) when absent: keep it apart from the backup',
    )
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file')
    .action(async (file: string, o: ControlPlaneFlags & ProtectionFlags) =>
      run(async () => {
        const config = readControlPlaneConfig(
          { dataDir: o.dataDir, secretKeyFile: o.secretKeyFile },
          ctx.env,
        );
        const protection = await protectionOf(o, true);
        const summary = await writeBackup({
          dbPath: resolve(config.dataDir, DATABASE_FILE),
          secretKeyFile: secretKeyFileOf(config),
          file: resolve(file),
          protection,
        });
        ctx.out.line(`Wrote backup ${summary.file} (${summary.bytes} bytes, encrypted):`);
        describe(ctx.out, summary);
      }),
    );

  program
    .command('restore')
    .description(
      'restore a backup into a new data dir (and its secret key file); edges carry on with the same signing key and tokens',
    )
    .argument('<file>', 'the backup file')
    .requiredOption('--data-dir <dir>', 'the new data dir (must hold no store)')
    .option('--secret-key-file <file>', `where to write ${keyHelp.slice(4)}`)
    .option('--key-file <file>', 'the key file the backup was written with')
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file')
    .action(async (file: string, o: ControlPlaneFlags & ProtectionFlags) =>
      run(async () => {
        const config = readControlPlaneConfig(
          { dataDir: o.dataDir, secretKeyFile: o.secretKeyFile },
          ctx.env,
        );
        const protection = await protectionOf(o, false);
        const summary = await restoreBackup({
          file: resolve(file),
          dataDir: config.dataDir,
          secretKeyFile: secretKeyFileOf(config),
          protection,
        });
        ctx.out.line(`Restored ${summary.file} into ${config.dataDir}:`);
        describe(ctx.out, summary);
        ctx.out.line(
          `Start it with: outpost serve --data-dir ${config.dataDir} --secret-key-file ${secretKeyFileOf(config)} (on the URL the edges know)`,
        );
      }),
    );
}
