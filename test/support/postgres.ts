// A real PostgreSQL from Debian's packages (postgresql-15) for tests: a fresh cluster in a
// temporary directory, on 127.0.0.1 and a free port, its socket in that directory, trust
// authentication for the one user `outpost`. initdb and postgres refuse to run as root, so as
// root (CI) they run as the `postgres` user the package creates.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './processes.js';

const run = promisify(execFile);

/** The newest PostgreSQL server installed (Debian puts each major in /usr/lib/postgresql/N). */
export function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0] === undefined)
    throw new Error(
      'PostgreSQL is not installed: apt-get install postgresql (scripts/prepare-test.sh)',
    );
  return join(base, majors[0], 'bin');
}

export interface TestPostgres {
  port: number;
  /** postgres://outpost@127.0.0.1:PORT/NAME */
  url: (database: string) => string;
  /** Creates an empty database and returns its URL. */
  createDatabase: (name: string) => Promise<string>;
  /** Runs one SQL statement as the superuser on `database`. */
  query: <R extends pg.QueryResultRow = Record<string, unknown>>(
    database: string,
    text: string,
    values?: unknown[],
  ) => Promise<R[]>;
  stop: () => Promise<void>;
  /** Stops the server (its data kept), as an outage would; `start` brings it back. */
  halt: () => Promise<void>;
  /** Starts the halted server again, on the same port with the same data. */
  start: () => Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'outpost-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const as = (cmd: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir })
      : run(join(bin, cmd), args, { cwd: dir });
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'outpost', '--locale=C', '-E', 'UTF8']);
  const port = await freePort();
  const start = () =>
    as('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-w',
      '-t',
      '120',
      '-o',
      `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  await start();
  let halted = false;
  const url = (database: string) => `postgres://outpost@127.0.0.1:${port}/${database}`;
  const query = async <R extends pg.QueryResultRow>(
    database: string,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    port,
    url,
    query,
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
      await query('postgres', `CREATE DATABASE ${name}`);
      return url(name);
    },
    halt: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      halted = true;
    },
    start: async () => {
      await start();
      halted = false;
    },
    stop: async () => {
      try {
        if (!halted) await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
