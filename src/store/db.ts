// One database interface, two implementations (SQLite via node:sqlite, PostgreSQL via pg).
// SQL is written once with `?` placeholders; the PostgreSQL implementation rewrites them to $1, $2, ….
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
}

export interface Db {
  readonly dialect: Dialect;
  /** SQLite: the database file (absent in memory and on PostgreSQL); a second connection may open it. */
  readonly file?: string;
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /** Runs several statements (no params), e.g. a migration. */
  exec(sql: string): Promise<void>;
  /** Everything inside runs on one connection in one transaction; rolled back if fn throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A versioned schema change. `sql` is portable, or given per dialect when it cannot be. */
export interface Migration {
  version: number;
  name: string;
  sql: string | Record<Dialect, string>;
}
