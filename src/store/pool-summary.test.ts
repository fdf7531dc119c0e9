// The stored pool summary (migration 4) on SQLite and a real PostgreSQL: kept up to date as snapshots
// are stored, rebuilt when a snapshot arrives out of order, backfilled for a store whose snapshots
// predate it, and always the same series as the pure rule over the raw samples.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type PostgresServer, startPostgres } from '../../test/support/postgres.ts';
import type { AccountState, QuotaWindow } from '../domain/quota.ts';
import { poolSeries, poolSeriesFromSummary, type SeriesRange } from '../inspect/history-series.ts';
import type { Db } from './db.ts';
import { openStore } from './open.ts';
import { PoolSummaryRepo } from './pool-summary-repo.ts';
import { type SnapshotInput, SnapshotsRepo } from './snapshots-repo.ts';

const pgServer: PostgresServer | null = await startPostgres();
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-pool-summary-'));
after(async () => {
  await pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
const backends: Array<{ name: string; open: () => Promise<Db>; skip: boolean }> = [
  { name: 'sqlite', open: () => openStore({ dataDir: join(tmp, `db${++n}`) }), skip: false },
  {
    name: 'postgres',
    open: async () => openStore({ databaseUrl: await pgServer!.createDatabase(`pool${++n}`) }),
    skip: pgServer === null,
  },
];

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function windows(rem5h: number, remWeekly: number): QuotaWindow[] {
  const w = (kind: '5h' | 'weekly', scope: string, rem: number, seconds: number): QuotaWindow => ({
    kind,
    scope: scope as QuotaWindow['scope'],
    limitName: null,
    usedPercent: 100 - rem,
    remainingPercent: rem,
    windowSeconds: seconds,
    resetAfterSeconds: null,
    resetsAt: null,
  });
  return [w('5h', 'primary', rem5h, 18_000), w('weekly', 'secondary', remWeekly, 604_800)];
}

function snap(accountId: string, fetchedAt: number, rem5h: number, state: AccountState = 'ok', transient = false) {
  return {
    accountId,
    fetchedAt,
    state,
    reason: null,
    httpStatus: 200,
    errorCode: null,
    message: null,
    plan: 'plus',
    allowed: true,
    limitReached: false,
    rateLimitReachedType: null,
    windows: windows(rem5h, 90 - (fetchedAt - T0) / H),
    credits: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    source: 'network',
    transient,
    attempts: 1,
    usagePath: null,
  } satisfies SnapshotInput;
}

/** Six accounts over 12 hours: sweeps every 20 minutes, some exhausted, some transient failures. */
function history(): SnapshotInput[] {
  const out: SnapshotInput[] = [];
  for (let k = 0; k < 36; k++)
    for (let a = 0; a < 6; a++) {
      const at = T0 + k * 20 * 60_000 + a * 7_000;
      const rem = (k * 7 + a * 13) % 101;
      const state: AccountState = a === 5 && k > 20 ? 'auth_invalid' : rem === 0 ? 'exhausted' : 'ok';
      out.push(snap(`acct-${a}`, at, rem, state, (k + a) % 9 === 0));
    }
  return out;
}

const RANGES: SeriesRange[] = [
  { from: T0, to: T0 + 12 * H, stepMs: H },
  { from: T0 - H, to: T0 + 13 * H, stepMs: 15 * 60_000 },
  { from: T0 + 4 * H, to: T0 + 8 * H, stepMs: 60_000 }, // starts with the pool carried in
];

/** The pure rule over every stored sample: what the summary must equal. */
function expected(samples: SnapshotInput[], r: SeriesRange) {
  const upTo = samples.filter((s) => s.fetchedAt < r.to);
  return poolSeries(upTo, r, null);
}

async function summarySeries(repo: SnapshotsRepo, r: SeriesRange) {
  return poolSeriesFromSummary(await repo.pool.series(r.from, r.to, r.stepMs), r, null);
}

for (const backend of backends) {
  describe(`pool summary (${backend.name})`, { skip: backend.skip ? 'PostgreSQL unavailable' : false }, () => {
    it('kept up to date by inserts in order: the same series as the rule over the samples', async () => {
      const db = await backend.open();
      try {
        const repo = new SnapshotsRepo(db, () => T0 + 13 * H);
        const samples = history();
        for (const s of samples) await repo.insert(s);
        // A fresh store has no state row: stale from the start (the backfill); the first read rebuilds.
        assert.equal(await db.get('SELECT stale_from FROM pool_summary_state'), undefined);
        assert.equal(await repo.pool.refresh(), samples.filter((s) => !s.transient).length);
        for (const s of snapsAfter()) await repo.insert(s);
        const all = [...samples, ...snapsAfter()];
        assert.equal(
          (await db.get<{ stale_from: number | null }>('SELECT stale_from FROM pool_summary_state'))?.stale_from,
          null,
        );
        for (const r of [...RANGES, { from: T0, to: T0 + 16 * H, stepMs: 30 * 60_000 }]) {
          assert.deepEqual(await summarySeries(repo, r), expected(all, r), `range ${JSON.stringify(r)}`);
        }
        const last = await summarySeries(repo, { from: T0 + 15 * H, to: T0 + 16 * H, stepMs: H });
        assert.deepEqual(last.known, [6]);
        assert.deepEqual(last.usable, [5]); // acct-5 is auth_invalid
      } finally {
        await db.close();
      }
    });

    it('an out-of-order snapshot marks it stale and the next read rebuilds it', async () => {
      const db = await backend.open();
      try {
        const repo = new SnapshotsRepo(db, () => T0 + 13 * H);
        const samples = history();
        await repo.pool.refresh();
        for (const s of samples) await repo.insert(s);
        // Every one of them went through the O(1) path: the same series, nothing stale.
        for (const r of RANGES) assert.deepEqual(await summarySeries(repo, r), expected(samples, r));
        const late = snap('acct-2', T0 + 3 * H + 5 * 60_000, 0, 'exhausted');
        await repo.insert(late);
        const state = await db.get<{ stale_from: number }>('SELECT stale_from FROM pool_summary_state');
        assert.equal(Number(state?.stale_from), T0 + 3 * H + 5 * 60_000);
        for (const r of RANGES) assert.deepEqual(await summarySeries(repo, r), expected([...samples, late], r));
        const after = await db.get<{ stale_from: number | null }>('SELECT stale_from FROM pool_summary_state');
        assert.equal(after?.stale_from, null);
      } finally {
        await db.close();
      }
    });

    it('backfills a store whose snapshots were there before the summary', async () => {
      const db = await backend.open();
      try {
        const repo = new SnapshotsRepo(db, () => T0 + 13 * H);
        const samples = history();
        for (const s of samples) await repo.insert(s);
        // As a store migrated from before version 4 is: snapshots, no summary, stale from 0.
        await db.exec('DELETE FROM pool_summary; DELETE FROM pool_members; DELETE FROM pool_summary_state');
        const series = await summarySeries(repo, RANGES[0]);
        assert.deepEqual(series, expected(samples, RANGES[0]));
        assert.ok(series.known.every((k) => k === 6));
        // One row per minute that holds a conclusive sample (each sweep spans 35 s: one or two minutes).
        const minutes = new Set(samples.filter((s) => !s.transient).map((s) => Math.floor(s.fetchedAt / 60_000)));
        const rows = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM pool_summary');
        assert.equal(Number(rows?.n), minutes.size);
      } finally {
        await db.close();
      }
    });

    it('a rebuild read in small pages gives the same rows', async () => {
      const db = await backend.open();
      try {
        const repo = new SnapshotsRepo(db, () => T0 + 13 * H);
        const samples = history();
        for (const s of samples) await repo.insert(s);
        const small = new PoolSummaryRepo(db, () => T0 + 13 * H, { pageSize: 5 });
        const read = await small.refresh();
        assert.equal(read, samples.filter((s) => !s.transient).length);
        for (const r of RANGES) {
          assert.deepEqual(
            poolSeriesFromSummary(await small.series(r.from, r.to, r.stepMs), r, null),
            expected(samples, r),
          );
        }
      } finally {
        await db.close();
      }
    });

    it('an account whose snapshots are gone leaves the pool from now on', async () => {
      const db = await backend.open();
      try {
        const now = T0 + 13 * H;
        const repo = new SnapshotsRepo(db, () => now);
        await repo.pool.refresh();
        for (const s of history()) await repo.insert(s);
        await db.run('DELETE FROM quota_latest WHERE account_id = ?', ['acct-0']);
        await db.run('DELETE FROM quota_snapshots WHERE account_id = ?', ['acct-0']);
        const r = { from: T0 + 11 * H, to: T0 + 14 * H, stepMs: H };
        const series = await summarySeries(repo, r);
        assert.deepEqual(series.known, [6, 6, 5], 'the pool as it stood, then without the removed account');
      } finally {
        await db.close();
      }
    });
  });
}

/** A later sweep of every account, in order. */
function snapsAfter(): SnapshotInput[] {
  return Array.from({ length: 6 }, (_, a) =>
    snap(`acct-${a}`, T0 + 15 * H + a * 1000, 40 + a, a === 5 ? 'auth_invalid' : 'ok'),
  );
}
