// Secrets at rest: AES-256-GCM (node:crypto) with a key kept outside the store, in a file
// only the service user reads (0600). A sealed value is `enc:v1:<key id>:<iv>:<tag>:<data>`
// (base64url); the key id (8 hex of the key's SHA-256) lets a box that knows the previous key
// too open what a crash during `secrets rotate-key` left. A value without the prefix is a
// plaintext row of an older store: it is opened as is and sealed by the next rotation.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { StoreDataError } from './errors.js';

const PREFIX = 'enc:v1:';

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[] = [],
  ) {
    if (current.length !== 32) throw new StoreDataError('the secret key must be 32 bytes');
    this.currentId = keyId(current);
    for (const k of [current, ...previous]) this.keys.set(keyId(k), k);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return (
      PREFIX +
      [this.currentId, iv, tag, data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join(':')
    );
  }

  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const [id = '', iv = '', tag = '', data = ''] = stored.slice(PREFIX.length).split(':');
    const key = this.keys.get(id);
    if (key === undefined)
      throw new StoreDataError(
        `a secret in the store was sealed with key ${id}, not the secret key file's (${this.currentId}): start with the key file it was written with`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch (cause) {
      throw new StoreDataError('a secret in the store does not decrypt (altered or truncated)', {
        cause,
      });
    }
  }
}

function readKey(path: string): Buffer {
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
  if (key.length !== 32)
    throw new StoreDataError(`the secret key file ${path} does not hold a 32-byte key (base64url)`);
  return key;
}

export function newSecretKey(): Buffer {
  return randomBytes(32);
}

export function writeKeyFile(path: string, key: Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${key.toString('base64url')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * The box of the key file at `path`, created (0600) when absent. A `PATH.new` left by a
 * rotation that stopped before its last step is the current key, the file's the previous one.
 */
export function loadSecretBox(path: string): {
  box: SecretBox;
  created: boolean;
  pending: boolean;
} {
  const pendingPath = `${path}.new`;
  if (!existsSync(path)) {
    if (existsSync(pendingPath)) renameSync(pendingPath, path);
    else {
      writeKeyFile(path, newSecretKey());
      return { box: new SecretBox(readKey(path)), created: true, pending: false };
    }
  }
  const key = readKey(path);
  if (existsSync(pendingPath))
    return { box: new SecretBox(readKey(pendingPath), [key]), created: false, pending: true };
  return { box: new SecretBox(key), created: false, pending: false };
}
