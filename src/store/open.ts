// Picks and opens the store: SQLite in the data directory by default, PostgreSQL when a URL is given.
// Where it lives is resolved from flags and environment once, in core/config.ts (resolveStoreLocation);
// this module takes the values. Creates the directory (0700) and brings the schema up to date.
import { isAbsolute, join, resolve } from 'node:path';
import { fs } from '../runtime/fs.ts';
import type { Db, Migration } from './db.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { redactUrl } from './redact-url.ts';
import { attachSecretKeys, secretKeys } from './secret-box.ts';
import { SettingsRepo } from './settings-repo.ts';
import { openSqlite } from './sqlite.ts';

const { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } = fs;

export const DB_FILE_NAME = 'codex-fleet.db';

export interface StoreOptions {
  /** Directory for the SQLite file (and the secret key file); default ./data. */
  dataDir?: string;
  /** postgres://… (or sqlite:<path>); else SQLite in dataDir. An empty string means unset. */
  databaseUrl?: string | null;
  /** Run pending migrations (default true). */
  migrate?: boolean;
  migrations?: readonly Migration[];
  /** Where the secret key may come from (CODEX_FLEET_SECRET_KEY); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** Parses `postgres://…`, `postgresql://…`, `sqlite:<path>` or `sqlite::memory:`. */
export function parseDatabaseSpec(spec: string): DatabaseTarget {
  const s = spec.trim();
  if (s.startsWith('postgres://') || s.startsWith('postgresql://')) return { kind: 'postgres', url: s };
  if (s.startsWith('sqlite:')) {
    const path = s.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '')
      throw new Error(`database "${spec}" has no file: use sqlite:<path>, e.g. sqlite:./data/codex-fleet.db`);
    return { kind: 'sqlite', path };
  }
  const shown = s.includes('://') ? redactUrl(s) : s;
  throw new Error(`unsupported database "${shown}": use postgres://user:pass@host:5432/db or sqlite:<path>`);
}

export function resolveDataDir(dataDir: string | undefined): string {
  const dir = dataDir ?? './data';
  return isAbsolute(dir) ? dir : resolve(dir);
}

/** Creates the directory with mode 0700 if missing and checks that we can write into it. */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new Error(
      `cannot create data directory ${dir}: ${(error as Error).message}. Set --data-dir or CODEX_FLEET_DATA_DIR`,
    );
  }
  if (!statSync(dir).isDirectory()) throw new Error(`data directory ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new Error(
      `data directory ${dir} is not writable. Fix its permissions or set --data-dir / CODEX_FLEET_DATA_DIR`,
    );
  }
}

/** Opens a database from a parsed target, without migrating. `mustExist`: never create a new SQLite file. */
export async function openDatabase(target: DatabaseTarget, options: { mustExist?: boolean } = {}): Promise<Db> {
  if (target.kind === 'postgres') {
    // pg is loaded only when PostgreSQL is used: SQLite-only commands start faster without it.
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(target.url);
  }
  if (options.mustExist && target.path !== ':memory:' && !existsSync(target.path)) {
    throw new Error(`SQLite database ${target.path} does not exist`);
  }
  if (target.path !== ':memory:') {
    ensureDataDir(resolve(target.path, '..'));
    // Other rooms keep management keys here: the file (and the -wal/-shm files SQLite derives from it) is 0600.
    try {
      closeSync(openSync(target.path, 'a', 0o600));
      chmodSync(target.path, 0o600);
    } catch (error) {
      throw new Error(`cannot create SQLite database ${target.path}: ${(error as Error).message}`);
    }
  }
  try {
    return openSqlite(target.path);
  } catch (error) {
    throw new Error(`cannot open SQLite database ${target.path}: ${(error as Error).message}`);
  }
}

export function resolveTarget(options: Pick<StoreOptions, 'dataDir' | 'databaseUrl'> = {}): DatabaseTarget {
  if (options.databaseUrl) return parseDatabaseSpec(options.databaseUrl);
  return { kind: 'sqlite', path: join(resolveDataDir(options.dataDir), DB_FILE_NAME) };
}

/** The store every command and the server use: opened, migrated, ready. */
export async function openStore(options: StoreOptions = {}): Promise<Db> {
  const db = await openDatabase(resolveTarget(options));
  const env = options.env ?? process.env;
  // Stored credentials are sealed with a key kept outside the database (env or the data dir).
  attachSecretKeys(db, secretKeys({ dataDir: resolveDataDir(options.dataDir), env }));
  if (options.migrate !== false) {
    try {
      await migrate(db, options.migrations ?? MIGRATIONS);
      if (!options.migrations && (await new SettingsRepo(db).sealLegacySecrets()) > 0 && db.dialect === 'sqlite') {
        // The clear copy would otherwise linger in free pages and the WAL until SQLite reuses them.
        await db.exec('VACUUM');
        await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      }
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
  }
  return db;
}
