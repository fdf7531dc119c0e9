// Versioned schema migrations. Each pending migration runs in its own transaction together with the
// row that records it, so a failure leaves the schema at the last good version. On PostgreSQL an
// advisory lock serializes instances that start at the same time; SQLite's BEGIN IMMEDIATE does the same.
import type { Db, Dialect, Migration } from './db.ts';
import { MIGRATIONS } from './migrations/index.ts';

export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** Highest version now recorded. */
  current: number;
}

// Arbitrary constant key for pg_advisory_xact_lock: "cfmigrat" as hex-ish digits.
const PG_LOCK_KEY = 0x63666d67;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export function migrationSql(m: Migration, dialect: Dialect): string {
  return typeof m.sql === 'string' ? m.sql : m.sql[dialect];
}

/** Checks the list itself: unique, ascending versions, each with SQL for both dialects. */
export function validateMigrations(list: readonly Migration[]): void {
  let last = 0;
  for (const m of list) {
    if (!Number.isInteger(m.version) || m.version <= last) {
      throw new Error(`migration ${m.version} (${m.name}) is out of order: versions must be unique and ascending`);
    }
    if (typeof m.sql !== 'string' && (typeof m.sql.sqlite !== 'string' || typeof m.sql.postgres !== 'string')) {
      throw new Error(`migration ${m.version} (${m.name}) must give SQL for both sqlite and postgres`);
    }
    last = m.version;
  }
}

async function lock(tx: Db): Promise<void> {
  if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [PG_LOCK_KEY]);
}

export async function appliedVersions(db: Db): Promise<number[]> {
  const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}

export async function migrate(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): Promise<MigrateResult> {
  validateMigrations(migrations);
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(CREATE_TABLE);
  });
  const known = migrations.at(-1)?.version ?? 0;
  const before = await appliedVersions(db);
  const newest = before.at(-1) ?? 0;
  if (newest > known) {
    throw new Error(
      `the database schema is at version ${newest}, newer than this codex-fleet knows (${known}); upgrade codex-fleet`,
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (before.includes(m.version)) continue;
    await db.transaction(async (tx) => {
      await lock(tx);
      // Another instance may have applied it while we waited for the lock.
      const done = await tx.get('SELECT 1 AS one FROM schema_migrations WHERE version = ?', [m.version]);
      if (done) return;
      try {
        await tx.exec(migrationSql(m, tx.dialect));
      } catch (error) {
        throw new Error(`migration ${m.version} (${m.name}) failed on ${tx.dialect}: ${(error as Error).message}`);
      }
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        now(),
      ]);
      applied.push(m.version);
    });
  }
  const after = await appliedVersions(db);
  return { applied, current: after.at(-1) ?? 0 };
}
