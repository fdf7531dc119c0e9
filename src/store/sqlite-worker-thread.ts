// The thread behind openSqliteInWorker (sqlite-worker.ts): one SQLite connection, operations run in the
// order they arrive, each answered with its result or its error. A transaction's statements may arrive
// before BEGIN's answer reached the caller, so they are refused when no transaction is open (BEGIN
// failed) or an earlier one of them failed, and COMMIT of such a transaction rolls it back.
import { parentPort, workerData } from 'node:worker_threads';
import { type SqliteOptions, sqliteConnection } from './sqlite.ts';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.ts';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker-thread runs only as a worker thread');
const { path, options } = workerData as { path: string; options: SqliteOptions };
let conn: ReturnType<typeof sqliteConnection> | null = null;
let failedStatement: string | null = null;

function perform(m: WorkerRequest): unknown {
  conn ??= sqliteConnection(path, options);
  if (m.op === 'begin') {
    conn.begin();
    failedStatement = null;
    return undefined;
  }
  if (m.op === 'commit') {
    if (failedStatement !== null) {
      conn.rollbackIfOpen();
      throw new Error(`transaction rolled back: a statement failed (${failedStatement})`);
    }
    return conn.commit();
  }
  if (m.op === 'rollbackIfOpen') return conn.rollbackIfOpen();
  if (m.op === 'close') {
    conn.close();
    conn = null;
    return undefined;
  }
  if (!('sql' in m)) throw new Error(`unknown operation ${m.op}`);
  if (m.tx) {
    if (!conn.isTransaction()) throw new Error('no open transaction: its BEGIN failed');
    if (failedStatement !== null)
      throw new Error(`an earlier statement of this transaction failed (${failedStatement})`);
  }
  try {
    if (m.op === 'all') return conn.all(m.sql, m.params);
    if (m.op === 'get') return conn.get(m.sql, m.params);
    if (m.op === 'run') return conn.run(m.sql, m.params);
    return conn.exec(m.sql);
  } catch (error) {
    if (m.tx) failedStatement = (error as Error).message;
    throw error;
  }
}

port.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: m.id, ok: true, value: perform(m) };
  } catch (error) {
    const e = error as Error & { code?: string; errcode?: number; errstr?: string };
    reply = { id: m.id, ok: false, error: { message: e.message, code: e.code, errcode: e.errcode, errstr: e.errstr } };
  }
  port.postMessage(reply);
});
