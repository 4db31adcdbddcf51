// The store: persistence of the desired state, control-plane settings and the audit log.
import { resolve } from 'node:path';
import { UnsupportedStoreError } from './errors.js';
import { openSqliteStore } from './sqlite.js';
import type { SecretBox } from './secret-box.js';
import type { Store } from './types.js';

export { loadSecretBox, newSecretKey, SecretBox, writeKeyFile } from './secret-box.js';

export * from './types.js';
export * from './errors.js';

/** Where a store lives; `path` is absolute or `:memory:`. */
export interface StoreLocation {
  kind: 'sqlite';
  path: string;
}

const EXAMPLE = 'sqlite:/var/lib/outpost/outpost.db';

/**
 * Reads a store URL: `sqlite:/abs/path.db` (also `sqlite:///abs/path.db`; a relative path is
 * taken from the working directory) or `sqlite::memory:`. Errors name the scheme only, never
 * the URL, which may carry a password.
 */
export function parseStoreUrl(url: string): StoreLocation {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new UnsupportedStoreError(`the store URL needs a scheme, such as ${EXAMPLE}`);
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    throw new UnsupportedStoreError(
      `PostgreSQL is not supported yet; use a SQLite store such as ${EXAMPLE}`,
    );
  }
  if (scheme !== 'sqlite') {
    throw new UnsupportedStoreError(
      `store URLs with the scheme "${scheme}:" are not supported; use ${EXAMPLE}`,
    );
  }
  let rest = url.slice('sqlite:'.length);
  if (rest === ':memory:') return { kind: 'sqlite', path: ':memory:' };
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (!rest.startsWith('/')) {
      throw new UnsupportedStoreError(`a sqlite:// URL needs an absolute path, such as ${EXAMPLE}`);
    }
  }
  if (rest === '' || rest.includes('\0') || rest.includes('?')) {
    throw new UnsupportedStoreError(`the SQLite store URL needs a file path, such as ${EXAMPLE}`);
  }
  return { kind: 'sqlite', path: resolve(rest) };
}

export async function openStore(options: { url: string; secrets?: SecretBox }): Promise<Store> {
  const location = parseStoreUrl(options.url);
  return openSqliteStore(location.path, options.secrets ? { secrets: options.secrets } : {});
}
