// A transaction's statements sent before any is awaited, on a real PostgreSQL: they run in order on
// the transaction's client, and after a failure the ones still queued never run (not in the aborted
// transaction, and not after its ROLLBACK either, where they would commit on their own).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertFailureStopsQueuedStatements } from '../../test/support/pipelined-transaction.ts';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import { openPostgres } from './postgres.ts';

const pgServer: PostgresServer | null = await startPostgres();
after(async () => {
  await pgServer?.stop();
});
const skip = pgServer === null ? 'PostgreSQL unavailable (see message above)' : false;

test('statements sent without awaiting run in order and commit together', { skip }, async () => {
  const db = await openPostgres(await pgServer!.createDatabase('txorder'));
  try {
    await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const count = await db.transaction(async (tx) => {
      const sent: Array<Promise<unknown>> = [];
      for (let i = 1; i <= 20; i++) sent.push(tx.run('INSERT INTO t (id, v) VALUES (?, ?)', [i, `v${i}`]));
      const n = tx.get<{ n: string }>('SELECT COUNT(*) AS n FROM t');
      await Promise.all(sent);
      return Number((await n)?.n);
    });
    assert.equal(count, 20, 'the count ran after every insert sent before it');
    assert.equal(Number((await db.get<{ n: string }>('SELECT COUNT(*) AS n FROM t'))?.n), 20);
  } finally {
    await db.close();
  }
});

test('after a failed statement the queued ones never run, inside or after the transaction', { skip }, async () => {
  const db = await openPostgres(await pgServer!.createDatabase('txfail'));
  try {
    await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    await assertFailureStopsQueuedStatements(db, /null value/);
  } finally {
    await db.close();
  }
});
