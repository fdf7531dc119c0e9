// SQLite implementation of Db on node:sqlite (DatabaseSync). Calls are synchronous underneath; the
// async surface only exists so the same code runs on PostgreSQL, and so a connection can live on a
// worker thread (sqlite-worker.ts) behind the same gate. One connection per Db: while a transaction is
// open, calls from outside it wait, so they never land inside someone else's transaction. Calls made
// through the outer Db from inside the transaction's callback (e.g. a repository built on the outer Db)
// join that transaction instead of waiting for it forever.
import { AsyncLocalStorage } from 'node:async_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Db, RunResult, SqlValue } from './db.ts';

export interface SqliteOptions {
  /** How long a writer waits for another process's lock before SQLITE_BUSY (ms). */
  busyTimeoutMs?: number;
  /** Prepared statements kept per connection; the cache is dropped when it grows past this. */
  statementCacheSize?: number;
}

type Params = readonly SqlValue[];
type MaybePromise<T> = T | Promise<T>;

interface Statements {
  all<T>(sql: string, params?: Params): MaybePromise<T[]>;
  get<T>(sql: string, params?: Params): MaybePromise<T | undefined>;
  run(sql: string, params?: Params): MaybePromise<RunResult>;
  exec(sql: string): MaybePromise<void>;
}

/** One connection's raw operations, ungated: run on this thread (sqliteConnection) or on a worker. */
export interface SqlConnection extends Statements {
  /** BEGIN IMMEDIATE. Here it throws at once; on a worker its answer may come after the statements. */
  begin(): MaybePromise<void>;
  /** COMMIT; on a worker, a transaction one of whose statements failed is rolled back instead. */
  commit(): MaybePromise<void>;
  /** Rolls back if a transaction is still open (a failed COMMIT may have ended it already). */
  rollbackIfOpen(): MaybePromise<void>;
  /**
   * The statements of the open transaction. A worker refuses them when no transaction is open (its
   * BEGIN failed) or one of them failed, so they can be sent without waiting for BEGIN's answer.
   */
  readonly inTransaction: Statements;
  close(): MaybePromise<void>;
  /** A named procedure of a worker thread (sqlite-worker.ts), run there on its own connection. */
  procedure?(name: string, arg: unknown, transfer?: readonly ArrayBuffer[]): Promise<unknown>;
}

/** A SQLite Db; over a worker thread it can also run that thread's procedures. */
export interface SqliteDb extends Db {
  /** Runs `name` on the worker, outside any transaction of this Db (it waits for an open one). */
  procedure<T>(name: string, arg: unknown, transfer?: readonly ArrayBuffer[]): Promise<T>;
}

/** Opens a connection with the store's settings and a statement cache (also used on the worker). */
export function sqliteConnection(
  path: string,
  options: SqliteOptions = {},
): SqlConnection & { isTransaction(): boolean } {
  const conn = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 5000 });
  if (path !== ':memory:') conn.exec('PRAGMA journal_mode = WAL');
  conn.exec('PRAGMA synchronous = NORMAL');
  conn.exec('PRAGMA foreign_keys = ON');
  conn.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);

  const cacheSize = options.statementCacheSize ?? 500;
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = conn.prepare(sql);
      if (cache.size >= cacheSize) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const statements: Statements = {
    all: <T>(sql: string, params?: Params): T[] =>
      (params && params.length > 0 ? prepare(sql).all(...(params as never[])) : prepare(sql).all()) as T[],
    get: <T>(sql: string, params?: Params): T | undefined =>
      (params && params.length > 0 ? prepare(sql).get(...(params as never[])) : prepare(sql).get()) as T | undefined,
    run: (sql: string, params?: Params): RunResult => {
      const r = params && params.length > 0 ? prepare(sql).run(...(params as never[])) : prepare(sql).run();
      return { changes: Number(r.changes) };
    },
    exec: (sql: string) => conn.exec(sql),
  };
  return {
    ...statements,
    inTransaction: statements,
    isTransaction: () => conn.isTransaction,
    begin: () => conn.exec('BEGIN IMMEDIATE'),
    commit: () => conn.exec('COMMIT'),
    rollbackIfOpen: () => {
      if (conn.isTransaction) conn.exec('ROLLBACK');
    },
    close: () => {
      cache.clear();
      conn.close();
    },
  };
}

export function openSqlite(path: string, options: SqliteOptions = {}): SqliteDb {
  return gatedDb(sqliteConnection(path, options), path === ':memory:' ? undefined : path);
}

/** The Db over one connection: transactions are serialized and outside calls wait for them. */
export function gatedDb(conn: SqlConnection, file?: string): SqliteDb {
  let closed = false;
  let busy: Promise<void> | null = null; // settled when the open transaction ends
  const context = new AsyncLocalStorage<Promise<void>>(); // which transaction a call runs inside
  const blocked = (): boolean => closed || (busy !== null && context.getStore() !== busy);
  const idle = async (): Promise<void> => {
    while (busy !== null) await busy;
    if (closed) throw new Error('database is closed');
  };

  const tx: Db = {
    dialect: 'sqlite',
    file,
    query: async (sql, params) => conn.inTransaction.all(sql, params),
    get: async (sql, params) => conn.inTransaction.get(sql, params),
    run: async (sql, params) => conn.inTransaction.run(sql, params),
    exec: async (sql) => conn.inTransaction.exec(sql),
    // Nested transactions reuse the open one: an error propagates and the outermost rolls back.
    transaction: (fn) => fn(tx),
    close: async () => {
      throw new Error('cannot close the database from inside a transaction');
    },
  };

  const db: SqliteDb = {
    dialect: 'sqlite',
    file,
    async procedure<T>(name: string, arg: unknown, transfer?: readonly ArrayBuffer[]): Promise<T> {
      if (blocked()) await idle();
      if (conn.procedure === undefined) throw new Error(`no procedure ${name}: this connection is not on a worker`);
      return (await conn.procedure(name, arg, transfer)) as T;
    },
    async query(sql, params) {
      if (blocked()) await idle();
      return conn.all(sql, params);
    },
    async get(sql, params) {
      if (blocked()) await idle();
      return conn.get(sql, params);
    },
    async run(sql, params) {
      if (blocked()) await idle();
      return conn.run(sql, params);
    },
    async exec(sql) {
      if (blocked()) await idle();
      await conn.exec(sql);
    },
    async transaction(fn) {
      if (busy !== null && context.getStore() === busy) return fn(tx);
      // Inline wait: no await may sit between seeing `busy` empty and claiming it.
      while (busy !== null) await busy;
      if (closed) throw new Error('database is closed');
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      busy = mine;
      try {
        // IMMEDIATE takes the write lock now, so two processes never deadlock upgrading read locks.
        // Here a failed BEGIN throws at once; a worker's answer is awaited before COMMIT, and until
        // then the worker refuses the transaction's statements if it failed.
        const begun = Promise.resolve(conn.begin());
        begun.catch(() => {});
        try {
          const result = await context.run(mine, () => fn(tx));
          await begun;
          await conn.commit();
          return result;
        } catch (error) {
          await conn.rollbackIfOpen();
          await begun; // a failed BEGIN (say SQLITE_BUSY) is the cause of whatever failed after it
          throw error;
        }
      } finally {
        busy = null;
        release();
      }
    },
    async close() {
      if (closed) return;
      await idle();
      closed = true;
      await conn.close();
    },
  };
  return db;
}
