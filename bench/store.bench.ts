// Store hot paths: batched inserts through Db (what bulk ingest relies on), snapshot inserts through
// the repository, and the cached-report read (latest snapshot of 1000 accounts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRepos } from '../src/store/index.ts';
import { openStore } from '../src/store/open.ts';
import type { BenchRow } from './types.ts';

export default async function (): Promise<BenchRow[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-store-bench-'));
  const db = await openStore({ dataDir: tmp, env: {} });
  try {
    await db.exec(
      'CREATE TABLE bench_events (id INTEGER PRIMARY KEY, ts BIGINT, request_id TEXT, model INTEGER, tokens INTEGER, cost DOUBLE PRECISION)',
    );
    const rows = 300_000;
    let t = performance.now();
    for (let i = 0; i < rows; i += 1000) {
      await db.transaction(async (tx) => {
        for (let j = i; j < i + 1000; j++) {
          await tx.run('INSERT INTO bench_events (ts, request_id, model, tokens, cost) VALUES (?, ?, ?, ?, ?)', [
            1_800_000_000_000 + j,
            `req-${j}`,
            j % 12,
            j % 5000,
            j / 1000,
          ]);
        }
      });
    }
    const insertRate = rows / ((performance.now() - t) / 1000);

    const repos = createRepos(db);
    const snaps = 20_000;
    t = performance.now();
    await db.transaction(async () => {
      for (let i = 0; i < snaps; i++) {
        await repos.snapshots.insert({
          accountId: `acct-${i % 1000}`,
          fetchedAt: 1_800_000_000_000 + i * 1000,
          state: 'ok',
          reason: 'quota_available',
          httpStatus: 200,
          errorCode: null,
          message: null,
          plan: 'plus',
          allowed: true,
          limitReached: false,
          rateLimitReachedType: null,
          windows: [],
          credits: null,
          resetAfterSeconds: null,
          retryAfterSeconds: null,
          source: 'network',
          transient: false,
          attempts: 1,
          usagePath: '/wham/usage',
        });
      }
    });
    const snapRate = snaps / ((performance.now() - t) / 1000);

    const reps = 20;
    t = performance.now();
    let n = 0;
    for (let i = 0; i < reps; i++) n = (await repos.snapshots.latestPerAccount()).length;
    const latestMs = (performance.now() - t) / reps;
    return [
      {
        name: 'sqlite batched insert (1000/tx, 6 cols)',
        value: Math.round(insertRate),
        unit: 'rows/s',
        target: '≥ 50000',
        ok: insertRate >= 50_000,
      },
      { name: 'sqlite snapshot insert (repo, 1 tx)', value: Math.round(snapRate), unit: 'rows/s' },
      { name: `latestPerAccount (${n} accounts, 20k history)`, value: latestMs, unit: 'ms' },
    ];
  } finally {
    await db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
