// One check for every Db that lets a transaction's statements be sent before any is awaited (SQLite on
// its worker thread, PostgreSQL): a failure in the middle leaves nothing behind, neither the statements
// before it nor those queued after it (which must not run after the ROLLBACK, on their own).
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/db.ts';

/** Needs an empty table `t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`. */
export async function assertFailureStopsQueuedStatements(db: Db, notNullError: RegExp): Promise<void> {
  await assert.rejects(
    db.transaction(async (tx) => {
      await Promise.all([
        tx.run("INSERT INTO t (id, v) VALUES (1, 'a')"),
        tx.run('INSERT INTO t (id, v) VALUES (2, NULL)'),
        tx.run("INSERT INTO t (id, v) VALUES (3, 'c')"),
        tx.run("INSERT INTO t (id, v) VALUES (4, 'd')"),
      ]);
    }),
    notNullError,
  );
  assert.deepEqual(await db.query('SELECT id FROM t'), []);
}
