// Backups of a control plane: one encrypted file holding a consistent copy of the store and the
// secret key that seals the store's secrets, so a backup and its passphrase (or key file) are
// all a restore needs (docs/backup.md).
//
// Decisions:
// - The copy is SQLite's `VACUUM INTO` on a read-only connection: one read transaction, so a
//   consistent snapshot while the control plane keeps writing (WAL), compacted, without the
//   WAL beside it. A restored file is a normal store: opening it runs newer migrations.
// - The secret key file goes inside: without it the signing key, certificate keys and the
//   ACME account in the copy cannot be opened, and a restore on a fresh machine would have to
//   find it elsewhere. So the backup is as secret as the keys: it is encrypted with AES-256-GCM
//   under a key from scrypt (N = 2^17, r = 8, p = 1: 128 MiB, about half a second; an offline
//   guesser pays that per guess) of a passphrase, or under a 32-byte key file.
// - The file is one JSON object: a header (format, version, how the key is made, iv) that is
//   the GCM additional data, so an altered header fails like altered data, and the sealed
//   payload (gzip of a JSON with the database bytes and the secret key).
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import { lockDataDir } from './data-dir-lock.js';
import { loadSecretBox, SecretBox } from './secret-box.js';
import { checkExisting, openSqliteStore } from './sqlite.js';
import { MIGRATION_TABLE } from './migrations/index.js';

export const BACKUP_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
/** Shorter passphrases are refused: the file may sit on a backup server for years. */
export const MIN_PASSPHRASE_LENGTH = 12;
export const DATABASE_FILE = 'outpost.db';

/** A backup that cannot be written or read: one sentence naming the file and the cause. */
export class BackupError extends Error {
  readonly code = 'backup_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/** How the backup's key is made. */
export type BackupProtection = { passphrase: string } | { keyFile: string };

const Header = z
  .object({
    format: z.literal('outpost-backup'),
    version: z.literal(1),
    created_at: z.string(),
    flavor: z.literal('sqlite'),
    kdf: z.discriminatedUnion('name', [
      z.object({
        name: z.literal('scrypt'),
        N: z
          .number()
          .int()
          .positive()
          .max(2 ** 20),
        r: z.number().int().positive().max(32),
        p: z.number().int().positive().max(16),
        salt: z.string(),
      }),
      z.object({ name: z.literal('key-file') }),
    ]),
    cipher: z.literal('aes-256-gcm'),
    iv: z.string(),
  })
  .strict();
type Header = z.infer<typeof Header>;

const BackupFile = z.object({ header: Header, data: z.string(), tag: z.string() }).strict();

const Payload = z
  .object({
    database: z.string(),
    secret_key: z.string(),
    migrations: z.array(z.string()),
  })
  .strict();

/** What a backup holds, to tell the user. */
export interface BackupSummary {
  file: string;
  bytes: number;
  migrations: string[];
  revision: number;
  edges: number;
  sites: number;
  certificates: number;
}

async function deriveKey(protection: BackupProtection, header: Header): Promise<Buffer> {
  if ('keyFile' in protection) {
    if (header.kdf.name !== 'key-file')
      throw new BackupError('this backup is protected by a passphrase, not a key file');
    return readBackupKey(protection.keyFile);
  }
  if (header.kdf.name !== 'scrypt')
    throw new BackupError('this backup is protected by a key file (--key-file), not a passphrase');
  const { N, r, p, salt } = header.kdf;
  return new Promise((resolve, reject) =>
    scrypt(
      protection.passphrase.normalize('NFC'),
      Buffer.from(salt, 'base64url'),
      32,
      { N, r, p, maxmem: 256 * N * r },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** A 32-byte key (base64url, as the secret key file); `create`: made (0600) when absent. */
export function readBackupKey(path: string, create = false): Buffer {
  if (!existsSync(path)) {
    if (!create) throw new BackupError(`--key-file: there is no key file at ${path}`);
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
  if (key.length !== 32)
    throw new BackupError(`--key-file: ${path} does not hold a 32-byte key (base64url)`);
  return key;
}

function checkPassphrase(protection: BackupProtection): void {
  if ('passphrase' in protection && protection.passphrase.length < MIN_PASSPHRASE_LENGTH)
    throw new BackupError(
      `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long`,
    );
}

/** A consistent copy of the database file at `dbPath` (the control plane may be running). */
function copyDatabase(dbPath: string): Buffer {
  if (!existsSync(dbPath)) throw new BackupError(`there is no store at ${dbPath}`);
  if (statSync(dbPath).size === 0) throw new BackupError(`the database file ${dbPath} is empty`);
  const work = mkdtempSync(join(tmpdir(), 'outpost-backup-'));
  const copy = join(work, DATABASE_FILE);
  try {
    const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true });
    try {
      checkExisting(db, dbPath);
      db.prepare('VACUUM INTO ?').run(copy);
    } finally {
      db.close();
    }
    return readFileSync(copy);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Writes an encrypted backup of the SQLite store at `dbPath` and the secret key in
 * `secretKeyFile` to `file` (mode 0600, written whole or not at all).
 */
export async function writeBackup(options: {
  dbPath: string;
  secretKeyFile: string;
  file: string;
  protection: BackupProtection;
  now?: Date;
}): Promise<BackupSummary> {
  checkPassphrase(options.protection);
  if (!existsSync(options.secretKeyFile))
    throw new BackupError(
      `the secret key file ${options.secretKeyFile} is missing: without it the store's keys cannot be read (give --secret-key-file)`,
    );
  const secretKey = readFileSync(options.secretKeyFile, 'utf8').trim();
  const box = new SecretBox(Buffer.from(secretKey, 'base64url'));
  const database = copyDatabase(options.dbPath);
  const summary = await summarize(database, box);
  const payload = gzipSync(
    JSON.stringify({
      database: database.toString('base64'),
      secret_key: secretKey,
      migrations: summary.migrations,
    }),
  );
  const header: Header = {
    format: 'outpost-backup',
    version: 1,
    created_at: (options.now ?? new Date()).toISOString(),
    flavor: 'sqlite',
    kdf:
      'keyFile' in options.protection
        ? { name: 'key-file' }
        : { name: 'scrypt', ...BACKUP_SCRYPT, salt: randomBytes(16).toString('base64url') },
    cipher: 'aes-256-gcm',
    iv: randomBytes(12).toString('base64url'),
  };
  const key = await deriveKey(options.protection, header);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64url'));
  cipher.setAAD(Buffer.from(JSON.stringify(header)));
  const data = Buffer.concat([cipher.update(payload), cipher.final()]);
  const text = JSON.stringify({
    header,
    data: data.toString('base64'),
    tag: cipher.getAuthTag().toString('base64url'),
  });
  const tmp = `${options.file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${text}\n`, { mode: 0o600 });
  renameSync(tmp, options.file);
  return { ...summary, file: options.file, bytes: Buffer.byteLength(text) + 1 };
}

/** Opens a backup file: the database bytes, the secret key, the migrations it was at. */
export async function openBackup(
  file: string,
  protection: BackupProtection,
): Promise<{ database: Buffer; secretKey: string; migrations: string[]; header: Header }> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new BackupError(
      code ? `cannot read ${file} (${code})` : `${file} is not an Outpost backup`,
      { cause },
    );
  }
  const parsed = BackupFile.safeParse(raw);
  if (!parsed.success)
    throw new BackupError(
      `${file} is not an Outpost backup (version 1): ${parsed.error.issues[0]?.path.join('.') || 'file'}: ${parsed.error.issues[0]?.message ?? 'unreadable'}`,
    );
  const { header, data, tag } = parsed.data;
  const key = await deriveKey(protection, header);
  let payload: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64url'));
    decipher.setAAD(Buffer.from(JSON.stringify(header)));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    payload = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
  } catch (cause) {
    throw new BackupError(
      `${file} does not decrypt: a wrong ${'keyFile' in protection ? 'key file' : 'passphrase'}, or the file was altered`,
      { cause },
    );
  }
  const body = Payload.parse(JSON.parse(gunzipSync(payload).toString('utf8')));
  return {
    database: Buffer.from(body.database, 'base64'),
    secretKey: body.secret_key,
    migrations: body.migrations,
    header,
  };
}

/**
 * Restores a backup into `dataDir`, which must hold no store yet, and the secret key into
 * `secretKeyFile` (absent, or holding the same key). The directory is locked meanwhile, the
 * database is written whole (a rename) and then opened as the control plane would: migrated,
 * and its signing key opened with the restored secret key.
 */
export async function restoreBackup(options: {
  file: string;
  dataDir: string;
  secretKeyFile: string;
  protection: BackupProtection;
}): Promise<BackupSummary> {
  const backup = await openBackup(options.file, options.protection);
  const dbPath = join(options.dataDir, DATABASE_FILE);
  if (existsSync(dbPath))
    throw new BackupError(
      `${dbPath} exists: restore into a new data directory (or move that store away first)`,
    );
  if (existsSync(options.secretKeyFile)) {
    const present = readFileSync(options.secretKeyFile, 'utf8').trim();
    if (present !== backup.secretKey)
      throw new BackupError(
        `the secret key file ${options.secretKeyFile} exists and holds another key than the backup's: give --secret-key-file a new path`,
      );
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(options.dataDir);
  const written: string[] = [];
  try {
    const tmp = `${dbPath}.restore-${process.pid}`;
    writeFileSync(tmp, backup.database, { mode: 0o600 });
    renameSync(tmp, dbPath);
    written.push(dbPath, `${dbPath}-wal`, `${dbPath}-shm`);
    if (!existsSync(options.secretKeyFile)) {
      mkdirSync(dirname(options.secretKeyFile), { recursive: true, mode: 0o700 });
      writeFileSync(options.secretKeyFile, `${backup.secretKey}\n`, { mode: 0o600, flag: 'wx' });
      written.push(options.secretKeyFile);
    }
    const { box } = loadSecretBox(options.secretKeyFile);
    const store = await openSqliteStore(dbPath, { secrets: box });
    try {
      // Opens (decrypts) the signing key: a restore that edges would reject fails here.
      await store.getSetting('bundle_signing_key');
      const state = await store.readSharedState();
      const certificates = await store.listCertificates();
      return {
        file: options.file,
        bytes: backup.database.length,
        migrations: backup.migrations,
        revision: state.revision,
        edges: state.spec.edges.length,
        sites: state.spec.sites.length,
        certificates: certificates.length,
      };
    } finally {
      await store.close();
    }
  } catch (error) {
    // Nothing half-restored: a store that does not open is not left for `serve` to start on.
    for (const f of written) rmSync(f, { force: true });
    throw error;
  } finally {
    lock.release();
  }
}

/** What a copied database holds (opened from a scratch file: the copy is not yet a store). */
async function summarize(
  database: Buffer,
  box: SecretBox,
): Promise<Omit<BackupSummary, 'file' | 'bytes'>> {
  const work = mkdtempSync(join(tmpdir(), 'outpost-backup-'));
  try {
    const path = join(work, DATABASE_FILE);
    writeFileSync(path, database, { mode: 0o600 });
    const raw = new BetterSqlite3(path, { readonly: true });
    let migrations: string[];
    try {
      migrations = (
        raw.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).all() as {
          name: string;
        }[]
      ).map((r) => r.name);
    } finally {
      raw.close();
    }
    const store = await openSqliteStore(path, { secrets: box });
    try {
      // The secret key must open the copy's secrets, or the backup would restore nothing usable.
      try {
        await store.getSetting('bundle_signing_key');
      } catch (cause) {
        throw new BackupError(
          `the secret key file does not open this store's secrets: ${(cause as Error).message}`,
          { cause },
        );
      }
      const state = await store.readSharedState();
      return {
        migrations,
        revision: state.revision,
        edges: state.spec.edges.length,
        sites: state.spec.sites.length,
        certificates: (await store.listCertificates()).length,
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
