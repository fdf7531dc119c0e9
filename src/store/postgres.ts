// PostgreSQL implementation of Db on pg's Pool. SQL is written with `?` placeholders and rewritten to
// $1, $2, … once per distinct statement. A transaction holds one pooled client for its whole life;
// calls made through the outer Db from inside the transaction's callback run on that client too.
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { Db, RunResult, SqlValue } from './db.ts';
import { redactUrl } from './redact-url.ts';

export { redactUrl };

export interface PostgresOptions {
  /** Connections in the pool. */
  max?: number;
  connectTimeoutMs?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

// BIGINT (COUNT, SUM of INTEGER, ms timestamps) as number when it fits exactly, else bigint.
const parseInt8 = (v: string): number | bigint => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : BigInt(v);
};
// NUMERIC (SUM of BIGINT, AVG): like SQLite, fractions become doubles; whole numbers are exact
// (number when safe, else bigint).
const parseNumeric = (v: string): number | bigint | string => {
  if (/^-?\d+$/.test(v)) return parseInt8(v);
  const n = Number(v);
  return Number.isFinite(n) ? n : v; // NaN / Infinity stay as PostgreSQL spelled them
};
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return parseInt8;
    if (oid === NUMERIC_OID) return parseNumeric;
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Rewrites `?` placeholders to `$n`, leaving `?` alone inside '…' strings, "…" identifiers,
 * $tag$…$tag$ bodies and comments.
 */
export function rewritePlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = skipQuoted(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl === -1 ? sql.length : nl;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const end = close === -1 ? sql.length : close + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? ' ')) {
      const tag = /^\$([A-Za-z_]\w*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? sql.length : close + tag[0].length;
        out += sql.slice(i, end);
        i = end;
      } else {
        out += c;
        i++;
      }
    } else if (c === '?') {
      n++;
      out += `$${n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote)
        i += 2; // doubled quote is an escaped quote
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/** The URL without its password, for error messages and logs. */

const toParam = (v: SqlValue): unknown => {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
};

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * A transaction's client, one statement at a time in the order they were sent: callers may send
 * several before awaiting any (pg deprecates overlapping queries on one client). After a failure the
 * statements still queued are refused, not sent; `last` (ROLLBACK) always runs, after all of them.
 */
function inOrder(client: pg.PoolClient): { target: Queryable; last(sql: string): Promise<unknown> } {
  let tail: Promise<unknown> = Promise.resolve();
  let failed: Error | null = null;
  const enqueue = <T>(work: () => Promise<T>, always: boolean): Promise<T> => {
    const run = tail.then(() => {
      if (failed !== null && !always)
        throw new Error(`an earlier statement of this transaction failed: ${failed.message}`);
      return work().catch((error: Error) => {
        failed ??= error;
        throw error;
      });
    });
    tail = run.catch(() => {});
    return run;
  };
  const query = ((text: string, values?: unknown[]) =>
    enqueue(() => client.query(text, values), false)) as unknown as pg.Pool['query'];
  return { target: { query }, last: (sql) => enqueue(() => client.query(sql), true) };
}

function makeOps(target: Queryable, rewrite: (sql: string) => string) {
  const q = async (sql: string, params?: readonly SqlValue[]) =>
    params && params.length > 0
      ? target.query(rewrite(sql), params.map(toParam))
      : target.query(sql.includes('?') ? rewrite(sql) : sql);
  return {
    query: async <T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> => (await q(sql, params)).rows as T[],
    get: async <T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> =>
      (await q(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]): Promise<RunResult> => ({
      changes: (await q(sql, params)).rowCount ?? 0,
    }),
    // Several statements, no params: pg sends them with the simple protocol in one round trip.
    exec: async (sql: string): Promise<void> => {
      await target.query(sql);
    },
  };
}

/** Opens a pool and checks that the server answers, with an error that says what to fix. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Db> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `invalid PostgreSQL URL ${JSON.stringify(redactUrl(url))}: expected postgres://user:pass@host:5432/db`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`invalid PostgreSQL URL ${redactUrl(url)}: the scheme must be postgres:// or postgresql://`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that crashes the process.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    const e = error as NodeJS.ErrnoException;
    const why = e.code ? `${e.code}: ${e.message}` : e.message;
    throw new Error(
      `cannot connect to PostgreSQL at ${redactUrl(url)} (${why}). Is the server running and the URL right?`,
    );
  }

  const rewrites = new Map<string, string>();
  const rewrite = (sql: string): string => {
    let r = rewrites.get(sql);
    if (r === undefined) {
      r = rewritePlaceholders(sql);
      if (rewrites.size >= 2000) rewrites.clear();
      rewrites.set(sql, r);
    }
    return r;
  };

  let closed = false;
  // The open transaction of the current async context; `done` stops late fire-and-forget calls from
  // using a client that has gone back to the pool.
  const context = new AsyncLocalStorage<{ tx: Db; done: boolean }>();
  const poolOps = makeOps(pool, rewrite);
  const current = (): Pick<Db, 'query' | 'get' | 'run' | 'exec'> => {
    const open = context.getStore();
    return open && !open.done ? open.tx : poolOps;
  };
  const db: Db = {
    dialect: 'postgres',
    query: (sql, params) => current().query(sql, params),
    get: (sql, params) => current().get(sql, params),
    run: (sql, params) => current().run(sql, params),
    exec: (sql) => current().exec(sql),
    async transaction(fn) {
      const open = context.getStore();
      if (open && !open.done) return fn(open.tx);
      const client = await pool.connect();
      const ordered = inOrder(client);
      const ops = makeOps(ordered.target, rewrite);
      const tx: Db = {
        dialect: 'postgres',
        ...ops,
        // Nested transactions reuse the open one: an error propagates and the outermost rolls back.
        transaction: (inner) => inner(tx),
        close: async () => {
          throw new Error('cannot close the database from inside a transaction');
        },
      };
      const scope = { tx, done: false };
      let broken: Error | undefined;
      try {
        await ops.exec('BEGIN');
        const result = await context.run(scope, () => fn(tx));
        await ops.exec('COMMIT');
        return result;
      } catch (error) {
        try {
          await ordered.last('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error; // connection is unusable: do not return it to the pool
        }
        throw error;
      } finally {
        scope.done = true;
        client.release(broken);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return db;
}
