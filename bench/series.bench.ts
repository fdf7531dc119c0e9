// History series (issue 16): p95 of what each /api/series/* route reads and computes, over 1,000
// accounts with 30 days of hourly quota snapshots and a large monitoring store (filled inside SQLite
// with bench/monitor-fill.ts). SERIES_BENCH_EVENTS sets the monitoring events (default 1M; the issue's
// 10M takes about ten minutes to fill on a small shared machine). The pool series reads the stored
// pool summary; its one-off backfill from the 720k snapshots, a sweep's inserts with the summary kept
// up to date, and the pool forecast the route adds are rows of their own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForecast } from '../src/inspect/forecast.ts';
import { accountSeries, pickRange, poolSeriesFromSummary, SERIES_RANGES } from '../src/inspect/history-series.ts';
import { readMonitorSeries } from '../src/monitor/series.ts';
import { createMonitorService } from '../src/monitor/service.ts';
import { openStore } from '../src/store/open.ts';
import { probeFromSnapshot, SnapshotsRepo } from '../src/store/snapshots-repo.ts';
import { generateRecords } from '../test/support/monitor-events.ts';
import { fillEvents, prepareFill } from './monitor-fill.ts';
import type { BenchRow } from './types.ts';

const ACCOUNTS = 1000;
const DAYS = 30;
const HOUR = 3_600_000;
const EVENTS = Number(process.env.SERIES_BENCH_EVENTS ?? 1_000_000);
const RUNS = 20;

async function p95(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm caches, as a dashboard that is open is
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.ceil(times.length * 0.95) - 1];
}

export default async function seriesBench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'codex-fleet-series-bench-'));
  const db = await openStore({ databaseUrl: `sqlite:${join(dir, 'series.db')}` });
  try {
    const now = Date.UTC(2026, 11, 1);
    const start = now - DAYS * 24 * HOUR;
    // Quota: one snapshot per account per hour for 30 days (720k rows), windows filling and resetting.
    // (SQLite's || binds tighter than * and /, hence the parentheses around each number.)
    const windows = (u5: string, uW: string, used5 = `(${u5})`, usedW = `(${uW})`) =>
      `'[{"kind":"5h","scope":"primary","limitName":null,"usedPercent":' || ${used5} || ',"remainingPercent":' || (100 - ${used5}) || ',"windowSeconds":18000,"resetAfterSeconds":null,"resetsAt":null},{"kind":"weekly","scope":"secondary","limitName":null,"usedPercent":' || ${usedW} || ',"remainingPercent":' || (100 - ${usedW}) || ',"windowSeconds":604800,"resetAfterSeconds":null,"resetsAt":null}]'`;
    await db.transaction(async (tx) => {
      await tx.run(
        `WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n < ${ACCOUNTS - 1}),
         h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < ${DAYS * 24 - 1})
         INSERT INTO quota_snapshots (account_id, fetched_at, state, reason, plan, windows, source, transient, attempts)
         SELECT 'acct-' || n, ? + k * ${HOUR} + n * 1000, 'ok', 'quota_available', 'plus',
           ${windows('((k + n) % 5) * 20', '((k + n) % 168) * 100 / 168')}, 'network', 0, 1
         FROM a, h`,
        [start],
      );
      await tx.run(
        `INSERT INTO quota_latest (account_id, snapshot_id, fetched_at, conclusive_id, conclusive_at)
         SELECT account_id, MAX(id), MAX(fetched_at), MAX(id), MAX(fetched_at) FROM quota_snapshots GROUP BY account_id`,
      );
    });
    let clock = now;
    const snapshots = new SnapshotsRepo(db, () => clock);
    // The snapshots above were written behind the repository's back, as a store older than the pool
    // summary holds them: the first read backfills the summary.
    const backfillStart = performance.now();
    const backfilled = await snapshots.pool.refresh();
    const backfillMs = performance.now() - backfillStart;

    // Monitoring: a real ingest creates the dictionary, then the bulk fill spreads EVENTS over 30 days.
    const mon = await createMonitorService({ db, clock: () => now });
    await mon.ingest.ingestRaw(
      [...generateRecords(2000, { start: start, stepMs: 1000, seed: 9, accounts: 200 })].map((r) => JSON.stringify(r)),
    );
    const ids = await prepareFill(db);
    const step = (DAYS * 24 * HOUR) / EVENTS;
    for (let done = 0; done < EVENTS; done += 100_000) {
      await fillEvents(db, ids, done, Math.min(100_000, EVENTS - done), start, step);
      if (done % 1_000_000 === 0) process.stderr.write(`series bench: ${done} events\n`);
    }
    const account = (await mon.queries.accounts({ from: now - 24 * HOUR, to: now }))[0]?.key ?? undefined;

    const range = (name: keyof typeof SERIES_RANGES) => pickRange(now - SERIES_RANGES[name], now);
    // The pool route's default: 60 buckets (it reads accounts × buckets rows).
    const poolRange = (name: keyof typeof SERIES_RANGES) => pickRange(now - SERIES_RANGES[name], now, 60);
    const cases: Array<[string, () => Promise<unknown>]> = [];
    for (const r of ['24h', '7d', '30d'] as const) {
      cases.push([
        `account quota, ${r}`,
        async () =>
          accountSeries(
            'acct-7',
            await snapshots.sampled(range(r).from, range(r).to, range(r).stepMs, 'acct-7'),
            range(r),
            null,
          ),
      ]);
    }
    for (const r of ['24h', '7d', '30d'] as const) {
      cases.push([
        `pool (${ACCOUNTS} accounts), ${r}`,
        async () =>
          poolSeriesFromSummary(
            await snapshots.pool.series(poolRange(r).from, poolRange(r).to, poolRange(r).stepMs),
            poolRange(r),
            null,
          ),
      ]);
    }
    // What FleetService.poolSeries adds: fleet.forecast() reads 8 days of every account's history.
    cases.push([
      `pool forecast (${ACCOUNTS} accounts, 8 days of history)`,
      async () => {
        const histories = [];
        for (let n = 0; n < ACCOUNTS; n++) {
          const rows = await snapshots.history(`acct-${n}`, now - 8 * 24 * HOUR);
          histories.push({
            accountId: `acct-${n}`,
            name: `acct-${n}`,
            snapshots: rows.map((r) => probeFromSnapshot(r).snapshot).filter((x) => x != null),
          });
        }
        return buildForecast(histories, { now });
      },
    ]);
    for (const r of ['24h', '7d', '30d'] as const)
      cases.push([`monitoring, ${r}`, () => readMonitorSeries(mon, {}, range(r))]);
    // The page's filters go with its range: one account over its default 24 h and over 7 days.
    for (const r of ['24h', '7d'] as const)
      cases.push([`monitoring, ${r}, one account`, () => readMonitorSeries(mon, { account }, range(r))]);
    cases.push([
      `monitoring, 24h, failures only (raw events)`,
      () => readMonitorSeries(mon, { outcome: 'failure' }, range('24h')),
    ]);

    const rows: BenchRow[] = [
      {
        name: `series: pool summary backfill, first read (${backfilled} snapshots, once per store)`,
        value: backfillMs,
        unit: 'ms',
      },
    ];
    // A sweep: every account's snapshot stored one by one, the summary updated with each.
    const sweep = await snapshots.latestPerAccount();
    const sweepStart = performance.now();
    clock = now + 60_000;
    for (const [n, s] of sweep.entries()) {
      const { id: _id, ...input } = s;
      await snapshots.insert({ ...input, fetchedAt: now + n * 10 });
    }
    const sweepMs = performance.now() - sweepStart;
    rows.push({
      name: `series: a sweep's ${sweep.length} snapshot inserts, summary kept up to date`,
      value: sweepMs,
      unit: 'ms',
    });
    const label = EVENTS >= 1e6 ? `${EVENTS / 1e6}M` : `${EVENTS / 1e3}k`;
    for (const [name, fn] of cases) {
      const ms = await p95(fn);
      rows.push({
        name: `series p95: ${name} (${label} events)`,
        value: ms,
        unit: 'ms',
        target: '≤ 200',
        ok: ms <= 200,
      });
    }
    return rows;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
