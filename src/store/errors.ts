// Errors the store raises that a user can cause (a wrong URL) or must act on (a database
// written by a newer Outpost). Each carries a stable code; none includes a URL (it may hold a
// password).

export class UnsupportedStoreError extends Error {
  readonly code = 'store_unsupported';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedStoreError';
  }
}

export class StoreMigrationError extends Error {
  readonly code = 'store_migration_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreMigrationError';
  }
}

/** A stored row no longer parses as its spec shape (a hand-edited database, a bad migration). */
export class StoreDataError extends Error {
  readonly code = 'store_data_invalid';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreDataError';
  }
}

/** The database file cannot be this control plane's store: empty, damaged or someone else's. */
export class StoreFileError extends Error {
  readonly code = 'store_file_damaged';
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the database file ${path} ${problem}: refusing to start over it (a new store would mean a new admin token and signing key, which pinned edges reject). Restore it from a backup (outpost restore, docs/backup.md), or move it away to start from nothing`,
      options,
    );
    this.name = 'StoreFileError';
  }
}
