// The store: persistence of the desired state, control-plane settings and the audit log.
import { resolve } from 'node:path';
import { UnsupportedStoreError } from './errors.js';
import { openPostgresDatabase, openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { SecretBox } from './secret-box.js';
import { composeStore } from './store.js';
import type { Store } from './types.js';

export { loadSecretBox, newSecretKey, SecretBox, writeKeyFile } from './secret-box.js';

export * from './types.js';
export * from './errors.js';

/** Where a store lives: a SQLite file (absolute, or `:memory:`) or a PostgreSQL database. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const EXAMPLE = 'sqlite:/var/lib/outpost/outpost.db';
const PG_EXAMPLE = 'postgres://outpost@db.example.com:5432/outpost';

/**
 * Reads a store URL: `sqlite:/abs/path.db` (also `sqlite:///abs/path.db`; a relative path is
 * taken from the working directory), `sqlite::memory:`, or `postgres://user@host:port/db`
 * (`postgresql://` too; `pg` reads the password from PGPASSWORD or ~/.pgpass when the URL has
 * none). Errors name the scheme only, never the URL, which may carry a password.
 */
export function parseStoreUrl(url: string): StoreLocation {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new UnsupportedStoreError(`the store URL needs a scheme, such as ${EXAMPLE}`);
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UnsupportedStoreError(
        `the PostgreSQL store URL is not a URL, such as ${PG_EXAMPLE}`,
      );
    }
    if (parsed.hostname === '' || parsed.pathname.length <= 1)
      throw new UnsupportedStoreError(
        `the PostgreSQL store URL needs a host and a database name, such as ${PG_EXAMPLE}`,
      );
    return { kind: 'postgres', url };
  }
  if (scheme !== 'sqlite') {
    throw new UnsupportedStoreError(
      `store URLs with the scheme "${scheme}:" are not supported; use ${EXAMPLE} or ${PG_EXAMPLE}`,
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
  const connection = options.secrets ? { secrets: options.secrets } : {};
  if (location.kind === 'postgres') return openPostgresStore(location.url, connection);
  return openSqliteStore(location.path, connection);
}

/**
 * Another connection to a store the control plane has open, for its build worker
 * (edges/build-worker.ts) and its apply worker (state/apply-worker.ts): no coordination (the control plane announces and leads), and on
 * PostgreSQL a pool of its own of two connections. Not for `:memory:` (a separate database).
 */
export async function openWorkerStore(options: {
  url: string;
  secrets?: SecretBox;
}): Promise<Store> {
  const location = parseStoreUrl(options.url);
  const connection = options.secrets ? { secrets: options.secrets } : {};
  if (location.kind === 'postgres') {
    const { db } = await openPostgresDatabase(location.url, 2);
    return composeStore(db, { ...connection, flavor: 'postgres' });
  }
  if (location.path === ':memory:')
    throw new UnsupportedStoreError('a worker thread cannot share an in-memory SQLite store');
  return openSqliteStore(location.path, connection);
}
