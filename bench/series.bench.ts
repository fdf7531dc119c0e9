// History series (issue 16): p95 of what each /api/series/* route reads and computes, over 1,000
// accounts with 30 days of hourly quota snapshots and a large monitoring store (filled inside SQLite
// with bench/monitor-fill.ts). SERIES_BENCH_EVENTS sets the monitoring events (default 1M; the issue's
// 10M takes about ten minutes to fill on a small shared machine). The pool series reads the stored
// pool summary; its one-off backfill from the 720k snapshots, a sweep's inserts with the summary kept
// up to date are rows of their own. The account and pool series are timed as a dashboard sees them:
// through the real HTTP server, first call after a sweep and warm (accountPoolHttpRows).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickRange, SERIES_RANGES } from '../src/inspect/history-series.ts';
import { readMonitorSeries } from '../src/monitor/series.ts';
import { createMonitorService } from '../src/monitor/service.ts';
import { openStore } from '../src/store/open.ts';
import { SnapshotsRepo } from '../src/store/snapshots-repo.ts';
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
    const cases: Array<[string, () => Promise<unknown>]> = [];
    // The account and pool series are timed through HTTP in accountPoolHttpRows (below).
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
    rows.push(...(await accountPoolHttpRows()));
    return rows;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The account and pool series as a dashboard sees them: the real server and core over the simulator's
 * 1,000 accounts, 30 days of hourly snapshots per account filled behind them, timed through HTTP. Rows:
 * p50/p95 of the first call after a real sweep (the pool forecast then has new snapshots) and of warm
 * calls. Floor in the same run: GET /api/session (the server's cheapest route).
 */
export async function accountPoolHttpRows(): Promise<BenchRow[]> {
  const { startDemoServer } = await import('../test/support/demo-server.ts');
  const { ApiClient } = await import('../test/support/fleet-server.ts');
  const log = (m: string) => process.stderr.write(`series bench (http): ${m}\n`);
  const s = await startDemoServer(ACCOUNTS);
  try {
    const api = await new ApiClient(s.url).start();
    await api.json('POST', '/api/refresh?wait=true');
    const core = s.service as unknown as import('../src/core/fleet-service.ts').FleetService;
    const db = core.fleet.repos.db;
    const now = Date.now();
    const start = now - DAYS * 24 * HOUR;
    // Every account's last 30 days, one snapshot an hour before the real sweep's (as a long-running
    // server holds them), windows filling and resetting; the pool summary rebuilt from them once.
    const windows = (used5: string, usedW: string) =>
      `'[{"kind":"5h","scope":"primary","limitName":null,"usedPercent":' || (${used5}) || ',"remainingPercent":' || (100 - (${used5})) || ',"windowSeconds":18000,"resetAfterSeconds":null,"resetsAt":null},{"kind":"weekly","scope":"secondary","limitName":null,"usedPercent":' || (${usedW}) || ',"remainingPercent":' || (100 - (${usedW})) || ',"windowSeconds":604800,"resetAfterSeconds":null,"resetsAt":null}]'`;
    await db.transaction(async (tx) => {
      await tx.run(
        `WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < ${DAYS * 24 - 1}),
         a(id, n) AS (SELECT account_id, ROW_NUMBER() OVER (ORDER BY account_id) FROM quota_latest)
         INSERT INTO quota_snapshots (account_id, fetched_at, state, reason, plan, windows, source, transient, attempts)
         SELECT a.id, ? + k * ${HOUR} + n * 1000, 'ok', 'quota_available', 'plus',
           ${windows('((k + n) % 5) * 20', '((k + n) % 168) * 100 / 168')}, 'network', 0, 1
         FROM a, h`,
        [start - HOUR],
      );
    });
    await core.fleet.repos.snapshots.pool.rebuild();
    const ids = (await core.fleet.accounts()).accounts.map((a) => a.id);
    log(`${ids.length} accounts, ${await core.fleet.repos.snapshots.count()} snapshots`);
    const get = async (path: string) => {
      const t = performance.now();
      const res = await api.request('GET', path);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      return performance.now() - t;
    };
    const pool = '/api/series/pool?range=7d';
    const account = (i: number, range = '7d') =>
      `/api/series/accounts/${encodeURIComponent(ids[i % ids.length])}?range=${range}`;
    const first = { pool: [] as number[], account: [] as number[] };
    const warm = { pool: [] as number[], account: [] as number[], floor: [] as number[] };
    const month = { pool: [] as number[], account: [] as number[] };
    const sweeps: number[] = [];
    const SWEEPS = Number(process.env.SERIES_BENCH_SWEEPS) || 8;
    for (let round = 0; round < SWEEPS; round++) {
      const t = performance.now();
      await api.json('POST', '/api/refresh?wait=true');
      sweeps.push(performance.now() - t);
      log(`sweep ${round + 1}/${SWEEPS}: ${sweeps[round].toFixed(0)} ms`);
      // Alternate which series is first after the sweep, so each is timed cold.
      if (round % 2 === 0) {
        first.pool.push(await get(pool));
        first.account.push(await get(account(round * 37)));
      } else {
        first.account.push(await get(account(round * 37)));
        first.pool.push(await get(pool));
      }
      for (let i = 0; i < 10; i++) {
        warm.pool.push(await get(pool));
        warm.account.push(await get(account(round * 37 + i + 1)));
        warm.floor.push(await get('/api/session'));
        month.pool.push(await get('/api/series/pool?range=30d'));
        month.account.push(await get(account(round * 37 + i + 1, '30d')));
      }
    }
    const pct = (list: number[], q: number) => {
      const sorted = [...list].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    };
    const label = `${ACCOUNTS} accounts, ${DAYS} days of hourly snapshots, HTTP`;
    const rows: BenchRow[] = [];
    for (const [what, list] of [
      ['pool 7d, first call after a sweep', first.pool],
      ['account 7d, first call after a sweep', first.account],
      ['pool 7d, warm', warm.pool],
      ['account 7d, warm', warm.account],
      ['pool 30d, warm', month.pool],
      ['account 30d, warm', month.account],
    ] as const) {
      rows.push({ name: `GET series ${what} p50 (${label})`, value: pct(list, 0.5), unit: 'ms', target: 'info' });
      const v = pct(list, 0.95);
      rows.push({ name: `GET series ${what} p95 (${label})`, value: v, unit: 'ms', target: '≤ 200', ok: v <= 200 });
    }
    // The first sweep after the fill includes the one full read of every account's 8-day history.
    rows.push({
      name: `POST /api/refresh?wait=true, first sweep (${label})`,
      value: sweeps[0],
      unit: 'ms',
      target: 'info',
    });
    rows.push({
      name: `POST /api/refresh?wait=true, later sweeps p50 (${label})`,
      value: pct(sweeps.slice(1), 0.5),
      unit: 'ms',
      target: 'info',
    });
    rows.push({
      name: `floor: GET /api/session p95 (${label})`,
      value: pct(warm.floor, 0.95),
      unit: 'ms',
      target: 'info',
    });
    return rows;
  } finally {
    await s.close();
  }
}
