// The loop behind openSqliteInWorker (sqlite-worker.ts): one SQLite connection, operations run in the
// order they arrive, each answered with its result or its error. A transaction's statements may arrive
// before BEGIN's answer reached the caller, so they are refused when no transaction is open (BEGIN
// failed) or an earlier one of them failed, and COMMIT of such a transaction rolls it back. A thread's
// entry may add named procedures: code that runs here on the same connection (through a Db of its own)
// so that a whole unit of work crosses the thread boundary once.
import { parentPort, workerData } from 'node:worker_threads';
import type { Db } from './db.ts';
import { gatedDb, type SqliteOptions, sqliteConnection } from './sqlite.ts';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.ts';

export type Procedure = (db: Db, arg: unknown) => Promise<unknown>;

export function serveSqlite(procedures: Readonly<Record<string, Procedure>> = {}): void {
  const port = parentPort;
  if (port === null) throw new Error('the SQLite worker loop runs only on a worker thread');
  const { path, options } = workerData as { path: string; options: SqliteOptions };
  let conn: ReturnType<typeof sqliteConnection> | null = null;
  let db: Db | null = null;
  let failedStatement: string | null = null;

  const open = () => {
    conn ??= sqliteConnection(path, options);
    return conn;
  };

  async function perform(m: WorkerRequest): Promise<unknown> {
    const c = open();
    if (m.op === 'procedure') {
      const fn = procedures[m.name];
      if (fn === undefined) throw new Error(`unknown procedure ${m.name}`);
      db ??= gatedDb(c, path);
      return fn(db, m.arg);
    }
    if (m.op === 'begin') {
      c.begin();
      failedStatement = null;
      return undefined;
    }
    if (m.op === 'commit') {
      if (failedStatement !== null) {
        c.rollbackIfOpen();
        throw new Error(`transaction rolled back: a statement failed (${failedStatement})`);
      }
      return c.commit();
    }
    if (m.op === 'rollbackIfOpen') return c.rollbackIfOpen();
    if (m.op === 'close') {
      c.close();
      conn = null;
      db = null;
      return undefined;
    }
    if (!('sql' in m)) throw new Error(`unknown operation ${m.op}`);
    if (m.tx) {
      if (!c.isTransaction()) throw new Error('no open transaction: its BEGIN failed');
      if (failedStatement !== null)
        throw new Error(`an earlier statement of this transaction failed (${failedStatement})`);
    }
    try {
      if (m.op === 'all') return c.all(m.sql, m.params);
      if (m.op === 'get') return c.get(m.sql, m.params);
      if (m.op === 'run') return c.run(m.sql, m.params);
      return c.exec(m.sql);
    } catch (error) {
      if (m.tx) failedStatement = (error as Error).message;
      throw error;
    }
  }

  // One at a time: a procedure awaits, and the next operation must not start inside it.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: WorkerRequest) => {
    queue = queue.then(async () => {
      let reply: WorkerReply;
      try {
        reply = { id: m.id, ok: true, value: await perform(m) };
      } catch (error) {
        const e = error as Error & { code?: string; errcode?: number; errstr?: string };
        reply = {
          id: m.id,
          ok: false,
          error: { message: e.message, code: e.code, errcode: e.errcode, errstr: e.errstr },
        };
      }
      port.postMessage(reply);
    });
  });
}
