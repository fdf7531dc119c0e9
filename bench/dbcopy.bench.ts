// db copy round trip at scale: 1M quota snapshot rows SQLite → PostgreSQL → SQLite, timed per hop,
// with the per-table checksums compared end to end. Rows: DBCOPY_ROWS (default 1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyDatabase } from '../src/store/copy.ts';
import type { Db } from '../src/store/db.ts';
import { openStore } from '../src/store/open.ts';
import { startPostgres } from '../test/support/postgres.ts';
import type { BenchRow } from './types.ts';

const WINDOWS = JSON.stringify([
  {
    kind: '5h',
    scope: 'primary',
    limitName: null,
    usedPercent: 12,
    remainingPercent: 88,
    windowSeconds: 18000,
    resetAfterSeconds: 3600,
    resetsAt: '2027-01-15T10:00:00.000Z',
  },
  {
    kind: 'weekly',
    scope: 'secondary',
    limitName: null,
    usedPercent: 40,
    remainingPercent: 60,
    windowSeconds: 604800,
    resetAfterSeconds: 200000,
    resetsAt: '2027-01-17T08:00:00.000Z',
  },
]);
const CREDITS = JSON.stringify({ hasCredits: false, unlimited: false, balance: '0' });

async function fill(db: Db, rows: number): Promise<void> {
  const perStatement = 500;
  const tuple = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
  const sql = `INSERT INTO quota_snapshots (account_id, fetched_at, state, reason, http_status, error_code, plan, allowed,
    limit_reached, windows, credits, reset_after_seconds, source, transient) VALUES ${Array(perStatement).fill(tuple).join(', ')}`;
  for (let start = 0; start < rows; start += 50_000) {
    await db.transaction(async (tx) => {
      for (let i = start; i < Math.min(rows, start + 50_000); i += perStatement) {
        const params = [];
        for (let j = i; j < i + perStatement; j++) {
          const bad = j % 17 === 0;
          params.push(
            `acct-${j % 1000}`,
            1_800_000_000_000 + j * 1000,
            bad ? 'exhausted' : 'ok',
            bad ? 'usage_limit_reached' : 'quota_available',
            bad ? 429 : 200,
            bad ? 'usage_limit_reached' : null,
            'plus',
            1,
            bad ? 1 : 0,
            WINDOWS,
            CREDITS,
            bad ? 1234.5 : null,
            'network',
            j % 101 === 0 ? 1 : 0,
          );
        }
        await tx.run(sql, params);
      }
    });
  }
}

export default async function (): Promise<BenchRow[]> {
  const rows = Number(process.env.DBCOPY_ROWS ?? 1_000_000);
  const pg = await startPostgres();
  if (!pg) return [{ name: 'db copy round trip', value: 'skipped: no PostgreSQL', unit: '' }];
  const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-dbcopy-'));
  try {
    const a = await openStore({ dataDir: join(tmp, 'a') });
    const p = await openStore({ databaseUrl: await pg.createDatabase('bench') });
    const b = await openStore({ dataDir: join(tmp, 'b') });
    await fill(a, rows);
    let t = performance.now();
    const hop1 = await copyDatabase(a, p);
    const ms1 = performance.now() - t;
    t = performance.now();
    const hop2 = await copyDatabase(p, b);
    const ms2 = performance.now() - t;
    await Promise.all([a.close(), p.close(), b.close()]);
    const src = hop1.tables.find((x) => x.table === 'quota_snapshots')!;
    const end = hop2.tables.find((x) => x.table === 'quota_snapshots')!;
    const match = hop1.ok && hop2.ok && src.sourceChecksum === end.targetChecksum && end.targetRows === rows;
    return [
      { name: `db copy sqlite→postgres (${rows} snapshots)`, value: ms1 / 1000, unit: 's' },
      { name: 'db copy sqlite→postgres rate', value: Math.round(rows / (ms1 / 1000)), unit: 'rows/s' },
      { name: `db copy postgres→sqlite (${rows} snapshots)`, value: ms2 / 1000, unit: 's' },
      { name: 'db copy postgres→sqlite rate', value: Math.round(rows / (ms2 / 1000)), unit: 'rows/s' },
      {
        name: 'db copy round trip checksums',
        value: `${src.sourceChecksum} / ${end.targetChecksum}`,
        unit: '',
        target: 'equal',
        ok: match,
      },
    ];
  } finally {
    await pg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}
