// The SQLite connection prepares each SQL text once (issue 14), bounded, and the store works
// through it as before.
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { preparedOnce } from './sqlite.js';

describe('preparedOnce', () => {
  const open: BetterSqlite3.Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
  });
  const database = () => {
    const db = new BetterSqlite3(':memory:');
    open.push(db);
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
    return db;
  };

  it('prepares a SQL text once and answers every run with current rows', () => {
    const db = database();
    const prepare = vi.spyOn(db, 'prepare');
    const kept = preparedOnce(db, 10);
    for (let i = 0; i < 5; i++) kept.prepare('INSERT INTO t VALUES (?, ?)').run([`k${i}`, i]);
    const rows = () => kept.prepare('SELECT k, v FROM t WHERE v >= ? ORDER BY v').all([3]);
    expect(rows()).toEqual([
      { k: 'k3', v: 3 },
      { k: 'k4', v: 4 },
    ]);
    kept.prepare('INSERT INTO t VALUES (?, ?)').run(['k9', 9]);
    expect(rows()).toEqual([
      { k: 'k3', v: 3 },
      { k: 'k4', v: 4 },
      { k: 'k9', v: 9 },
    ]);
    expect(prepare).toHaveBeenCalledTimes(2);
  });

  it('keeps at most `limit` statements, dropping the least recently used', () => {
    const db = database();
    const prepare = vi.spyOn(db, 'prepare');
    const kept = preparedOnce(db, 2);
    const select = (n: number) => (kept.prepare(`SELECT ${n} AS n`).all([]) as { n: number }[])[0]!;
    expect([select(1), select(2), select(1), select(3)].map((r) => r.n)).toEqual([1, 2, 1, 3]);
    expect(prepare).toHaveBeenCalledTimes(3);
    select(1); // kept: used after 2
    expect(prepare).toHaveBeenCalledTimes(3);
    select(2); // dropped when 3 came
    expect(prepare).toHaveBeenCalledTimes(4);
  });

  it('closes the database', () => {
    const db = database();
    preparedOnce(db, 2).close();
    expect(db.open).toBe(false);
  });
});
