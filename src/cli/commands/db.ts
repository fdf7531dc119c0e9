// `codex-fleet db migrate|status|copy`: schema upgrades and moving an installation between SQLite and
// PostgreSQL. Thin: the work is in src/store (migrate.ts, copy.ts).
import type { Command } from 'commander';
import { resolveStoreLocation } from '../../core/config.ts';
import { type CopyProgress, copyDatabase, countRows, listTables } from '../../store/copy.ts';
import type { Db } from '../../store/db.ts';
import { appliedVersions, migrate } from '../../store/migrate.ts';
import { openDatabase, openStore, parseDatabaseSpec, resolveTarget } from '../../store/open.ts';
import { redactUrl } from '../../store/postgres.ts';
import { jsonOutput } from '../json-output.ts';
import { addStoreOptions } from '../shared-args.ts';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

interface CopyFlags {
  from: string;
  to: string;
  force?: boolean;
  batchSize: string;
  json?: boolean;
}

const describeTarget = (flags: StoreFlags): string => {
  const t = resolveTarget(resolveStoreLocation(flags));
  return t.kind === 'sqlite' ? `sqlite:${t.path}` : redactUrl(t.url);
};

async function withDb<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function progressPrinter(json: boolean | undefined): (p: CopyProgress) => void {
  if (json) return () => {};
  const tty = process.stderr.isTTY;
  return (p) => {
    const pct = p.total === 0 ? 100 : Math.floor((p.copied / p.total) * 100);
    const line = `${p.table}: ${p.copied}/${p.total} rows (${pct}%)`;
    if (tty) process.stderr.write(`\r\u001b[2K${line}${p.copied >= p.total ? '\n' : ''}`);
    else if (p.copied >= p.total) process.stderr.write(`${line}\n`);
  };
}

export function register(program: Command): void {
  const db = program.command('db').description('database schema and migration between SQLite and PostgreSQL');

  const storeOptions = (cmd: Command) => addStoreOptions(cmd).option('--json', 'machine-readable output');

  storeOptions(db.command('migrate').description('create or upgrade the database schema')).action(
    async (flags: StoreFlags) => {
      const store = await openStore({ ...resolveStoreLocation(flags), migrate: false });
      const result = await withDb(store, (d) => migrate(d));
      if (flags.json) console.log(jsonOutput({ database: describeTarget(flags), ...result }));
      else if (result.applied.length === 0)
        console.log(`${describeTarget(flags)}: schema up to date (version ${result.current})`);
      else
        console.log(`${describeTarget(flags)}: applied ${result.applied.join(', ')}; now at version ${result.current}`);
    },
  );

  storeOptions(db.command('status').description('schema version and rows per table')).action(
    async (flags: StoreFlags) => {
      const store = await openStore({ ...resolveStoreLocation(flags), migrate: false });
      const status = await withDb(store, async (d) => {
        const versions = await appliedVersions(d).catch(() => [] as number[]);
        const tables: Record<string, number> = {};
        for (const t of await listTables(d)) tables[t] = await countRows(d, t);
        return { database: describeTarget(flags), dialect: d.dialect, versions, tables };
      });
      if (flags.json) console.log(jsonOutput(status));
      else {
        console.log(`${status.database} (${status.dialect}): migrations ${status.versions.join(', ') || 'none'}`);
        for (const [t, n] of Object.entries(status.tables))
          console.log(`  ${t.padEnd(28)} ${String(n).padStart(10)} rows`);
      }
    },
  );

  db.command('copy')
    .description(
      'copy every table between databases (stop running instances first), verified by row counts and checksums',
    )
    .requiredOption('--from <db>', 'source: sqlite:<path> or postgres://…')
    .requiredOption('--to <db>', 'target: sqlite:<path> or postgres://…')
    .option('--force', 'replace the contents of a non-empty target')
    .option('--batch-size <n>', 'rows per batch', '5000')
    .option('--json', 'machine-readable report')
    .action(async (flags: CopyFlags) => {
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
        throw new Error(`--batch-size must be a whole number from 1 to 100000, got "${flags.batchSize}"`);
      }
      const from = await openDatabase(parseDatabaseSpec(flags.from), { mustExist: true });
      try {
        const to = await openDatabase(parseDatabaseSpec(flags.to));
        try {
          // Both sides at the current schema, so every table and column lines up.
          await migrate(from);
          await migrate(to);
          const live = await from.query<{ name: string; holder: string }>(
            'SELECT name, holder FROM leases WHERE expires_at > ?',
            [Date.now()],
          );
          for (const l of live) {
            console.error(
              `warning: lease "${l.name}" is held by ${l.holder}: an instance is still writing to the source`,
            );
          }
          const report = await copyDatabase(from, to, {
            batchSize,
            force: flags.force,
            onProgress: progressPrinter(flags.json),
          });
          if (flags.json) console.log(jsonOutput(report));
          else {
            for (const t of report.tables) {
              const mark = t.ok ? 'ok' : 'MISMATCH';
              console.log(
                `${mark.padEnd(8)} ${t.table.padEnd(28)} ${String(t.targetRows).padStart(10)} rows  ${t.targetChecksum}`,
              );
            }
            console.log(
              report.ok ? `copied ${report.rows} rows, all tables verified` : 'copy NOT verified: see MISMATCH rows',
            );
          }
          if (!report.ok) process.exitCode = 1;
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
