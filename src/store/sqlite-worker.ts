// A SQLite connection on its own worker thread, behind the same Db interface and transaction gate as
// openSqlite. node:sqlite blocks the thread that calls it; the collector's storage runs here so that
// popping and parsing the next batch go on while SQLite writes this one. Calls are answered in the
// order they were sent, so a caller may send many statements before awaiting any of them.
import { Worker } from 'node:worker_threads';
import type { RunResult, SqlValue } from './db.ts';
import { gatedDb, type SqlConnection, type SqliteDb, type SqliteOptions } from './sqlite.ts';

type Operation =
  | { op: 'all' | 'get' | 'run'; sql: string; params?: readonly SqlValue[]; tx?: true }
  | { op: 'exec'; sql: string; tx?: true }
  | { op: 'begin' | 'commit' | 'rollbackIfOpen' | 'close' }
  | { op: 'procedure'; name: string; arg: unknown };
export type WorkerRequest = Operation & { id: number };

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string; errcode?: number; errstr?: string } };

// The thread's own heap stays small: statements, a batch's parameters and rollup rows. Its young
// generation takes a batch's short-lived parameters (8 MB scavenged ~4× as often, for the same peak).
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 64 };

/**
 * A worker entry beside `base` (a module's import.meta.url): `name`.ts when run from the sources,
 * `name`.js in the built package, where every entry sits in dist/.
 */
export const threadEntry = (name: string, base: string): URL =>
  new URL(`./${name}.${base.endsWith('.ts') ? 'ts' : 'js'}`, base);

/**
 * `entry`: the thread's module (default the plain one); an entry that calls serveSqlite with
 * procedures (sqlite-worker-loop.ts) makes them callable through the returned Db's `procedure`.
 */
export function openSqliteInWorker(
  path: string,
  options: SqliteOptions = {},
  entry = threadEntry('sqlite-worker-thread', import.meta.url),
): SqliteDb {
  if (path === ':memory:') throw new Error('an in-memory database cannot be shared with a worker thread');
  const worker = new Worker(entry, { workerData: { path, options }, resourceLimits: RESOURCE_LIMITS });
  worker.unref();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let gone: Error | null = null;
  const failAll = (error: Error) => {
    gone = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on('message', (r: WorkerReply) => {
    const p = pending.get(r.id);
    if (p === undefined) return;
    pending.delete(r.id);
    // Only a thread with calls in flight may keep the process alive.
    if (pending.size === 0) worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(Object.assign(new Error(r.error.message), r.error));
  });
  worker.on('error', (error) => failAll(new Error(`sqlite worker failed: ${error.message}`)));
  worker.on('exit', (code) => failAll(new Error(`sqlite worker exited (code ${code})`)));

  const call = <T>(request: Operation, transfer?: readonly ArrayBuffer[]): Promise<T> => {
    if (gone !== null) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...request, id } satisfies WorkerRequest, transfer as ArrayBuffer[] | undefined);
    });
  };

  // `tx`: the statement belongs to the open transaction (the thread refuses it if that failed).
  const statements = (tx?: true): SqlConnection['inTransaction'] => ({
    all: (sql, params) => call({ op: 'all', sql, params, tx }),
    get: (sql, params) => call({ op: 'get', sql, params, tx }),
    run: (sql, params) => call<RunResult>({ op: 'run', sql, params, tx }),
    exec: (sql) => call({ op: 'exec', sql, tx }),
  });
  const conn: SqlConnection = {
    ...statements(),
    inTransaction: statements(true),
    begin: () => call({ op: 'begin' }),
    commit: () => call({ op: 'commit' }),
    rollbackIfOpen: () => call({ op: 'rollbackIfOpen' }),
    procedure: (name, arg, transfer) => call({ op: 'procedure', name, arg }, transfer),
    close: async () => {
      try {
        await call({ op: 'close' });
      } finally {
        await worker.terminate();
      }
    },
  };
  return gatedDb(conn, path);
}
