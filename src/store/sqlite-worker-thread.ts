// The thread behind openSqliteInWorker (sqlite-worker.ts): one SQLite connection, operations run in the
// order they arrive, each answered with its result or its error. Nothing else lives here.
import { parentPort, workerData } from 'node:worker_threads';
import { type SqlConnection, type SqliteOptions, sqliteConnection } from './sqlite.ts';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.ts';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker-thread runs only as a worker thread');
const { path, options } = workerData as { path: string; options: SqliteOptions };
let conn: SqlConnection | null = null;

port.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    conn ??= sqliteConnection(path, options);
    let value: unknown;
    if (m.op === 'all') value = conn.all(m.sql, m.params);
    else if (m.op === 'get') value = conn.get(m.sql, m.params);
    else if (m.op === 'run') value = conn.run(m.sql, m.params);
    else if (m.op === 'exec') value = conn.exec(m.sql);
    else if (m.op === 'rollbackIfOpen') value = conn.rollbackIfOpen();
    else {
      conn.close();
      conn = null;
    }
    reply = { id: m.id, ok: true, value };
  } catch (error) {
    const e = error as Error & { code?: string; errcode?: number; errstr?: string };
    reply = { id: m.id, ok: false, error: { message: e.message, code: e.code, errcode: e.errcode, errstr: e.errstr } };
  }
  port.postMessage(reply);
});
