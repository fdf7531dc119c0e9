import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertFailureStopsQueuedStatements } from '../../test/support/pipelined-transaction.ts';
import { openSqlite } from './sqlite.ts';
import { openSqliteInWorker } from './sqlite-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-sqlite-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function fresh(name: string) {
  const path = join(dir, `${name}.db`);
  const db = openSqliteInWorker(path);
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, k BIGINT)');
  return { path, db };
}

test('statements sent without awaiting run in order, in one transaction, and commit', async () => {
  const { path, db } = await fresh('order');
  try {
    await db.transaction(async (tx) => {
      const sent = [];
      for (let i = 1; i <= 50; i++)
        sent.push(tx.run('INSERT INTO t (id, v, k) VALUES (?, ?, ?)', [i, `v${i}`, BigInt(i) << 40n]));
      sent.push(tx.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'));
      const results = await Promise.all(sent);
      assert.deepEqual(results.at(-1), [{ n: 50 }], 'the count ran after every insert sent before it');
    });
    // Another connection (this thread) sees the commit; big integers cross the thread intact.
    const other = openSqlite(path);
    assert.equal(Number((await other.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))?.n), 50);
    assert.equal(
      (await other.get<{ k: number }>('SELECT CAST(k AS TEXT) AS k FROM t WHERE id = 7'))?.k,
      String(7n << 40n),
    );
    await other.close();
  } finally {
    await db.close();
  }
});

test('an error rolls the transaction back and keeps the SQLite error code', async () => {
  const { db } = await fresh('rollback');
  try {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (id, v) VALUES (1, 'a')");
        await tx.run('INSERT INTO t (id, v) VALUES (1, NULL)');
      }),
      (e: Error & { code?: string }) => e.code === 'ERR_SQLITE_ERROR' && /NOT NULL/.test(e.message),
    );
    assert.deepEqual(await db.query('SELECT * FROM t'), []);
    // The connection is usable afterwards.
    await db.run("INSERT INTO t (id, v) VALUES (2, 'b')");
    assert.equal((await db.query('SELECT * FROM t')).length, 1);
  } finally {
    await db.close();
  }
});

test('a call from outside waits for the open transaction instead of landing in it', async () => {
  const { db } = await fresh('gate');
  try {
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const hold = new Promise<void>((r) => {
      release = r;
    });
    const txDone = db.transaction(async (tx) => {
      await tx.run("INSERT INTO t (id, v) VALUES (1, 'in')");
      entered();
      await hold;
      // Had the outside call gone to the thread, it would have run before this.
      assert.deepEqual(await tx.query('SELECT id FROM t'), [{ id: 1 }]);
      throw new Error('roll back');
    });
    await inside;
    const outside = db.run("INSERT INTO t (id, v) VALUES (2, 'out')");
    release();
    await assert.rejects(txDone, /roll back/);
    await outside;
    assert.deepEqual(await db.query('SELECT id, v FROM t'), [{ id: 2, v: 'out' }]);
  } finally {
    await db.close();
  }
});

test('after close, calls fail with a clear error and the thread is gone', async () => {
  const { db } = await fresh('close');
  await db.close();
  await assert.rejects(db.query('SELECT 1'), /database is closed/);
  await db.close(); // twice is fine
});

test('an in-memory database is refused: a worker cannot share it', () => {
  assert.throws(() => openSqliteInWorker(':memory:'), /in-memory/);
});

test('statements sent before a failed BEGIN never run outside the transaction; the BEGIN error is thrown', async () => {
  const path = join(dir, 'busy.db');
  const setup = openSqlite(path);
  await setup.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  await setup.exec('BEGIN IMMEDIATE'); // another writer holds the lock
  const db = openSqliteInWorker(path, { busyTimeoutMs: 50 });
  try {
    await assert.rejects(
      db.transaction(async (tx) => {
        await Promise.all([
          tx.run("INSERT INTO t (id, v) VALUES (1, 'a')"),
          tx.run("INSERT INTO t (id, v) VALUES (2, 'b')"),
        ]);
      }),
      /database is locked/,
    );
    await setup.exec('ROLLBACK');
    assert.deepEqual(await db.query('SELECT * FROM t'), [], 'nothing was written in autocommit');
  } finally {
    await db.close();
    await setup.close();
  }
});

test('after a failed statement the rest of the transaction is refused and nothing commits', async () => {
  const { db } = await fresh('pipelined-failure');
  try {
    await assertFailureStopsQueuedStatements(db, /NOT NULL/);
  } finally {
    await db.close();
  }
});
