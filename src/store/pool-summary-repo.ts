// The stored pool summary (migration 4): what the pool series reads instead of every account's
// snapshots. Each conclusive snapshot updates the newest row in O(1) as it is stored (record, called
// by SnapshotsRepo.insert inside its transaction); a snapshot older than the newest row, or a store
// that predates the table, marks the summary stale from that time and the next read rebuilds it from
// the snapshots (that is also the backfill). The pool rule itself is inspect/history-series.ts.
import type { AccountState, QuotaWindow } from '../domain/quota.ts';
import type { Clock } from '../domain/time.ts';
import {
  applyPoolMember,
  POOL_SUMMARY_GRAIN_MS,
  type PoolMember,
  PoolSummaryBuilder,
  type PoolSummaryRow,
  poolMember,
} from '../inspect/history-series.ts';
import type { Db, SqlValue } from './db.ts';

interface SummaryRow {
  bucket_at: number;
  known: number;
  usable: number;
  sum_5h: number;
  n_5h: number;
  sum_weekly: number;
  n_weekly: number;
  sum_monthly: number;
  n_monthly: number;
}

interface MemberRow {
  account_id: string;
  fetched_at: number;
  usable: number;
  rem_5h: number | null;
  rem_weekly: number | null;
  rem_monthly: number | null;
}

/** What the summary needs of a conclusive snapshot. */
export interface PoolSample {
  accountId: string;
  fetchedAt: number;
  state: AccountState;
  windows: readonly QuotaWindow[];
}

const grainOf = (ms: number) => Math.floor(ms / POOL_SUMMARY_GRAIN_MS) * POOL_SUMMARY_GRAIN_MS;
const numOrNull = (v: unknown) => (v == null ? null : Number(v));

function toRow(r: SummaryRow): PoolSummaryRow {
  return {
    bucketAt: Number(r.bucket_at),
    known: Number(r.known),
    usable: Number(r.usable),
    sum: { '5h': Number(r.sum_5h), weekly: Number(r.sum_weekly), monthly: Number(r.sum_monthly) },
    count: { '5h': Number(r.n_5h), weekly: Number(r.n_weekly), monthly: Number(r.n_monthly) },
  };
}

function summaryParams(r: PoolSummaryRow): SqlValue[] {
  return [
    r.bucketAt,
    r.known,
    r.usable,
    r.sum['5h'],
    r.count['5h'],
    r.sum.weekly,
    r.count.weekly,
    r.sum.monthly,
    r.count.monthly,
  ];
}

function toMember(r: MemberRow): PoolMember {
  return {
    usable: Number(r.usable) !== 0,
    remaining: { '5h': numOrNull(r.rem_5h), weekly: numOrNull(r.rem_weekly), monthly: numOrNull(r.rem_monthly) },
  };
}

function memberParams(accountId: string, fetchedAt: number, m: PoolMember): SqlValue[] {
  return [accountId, fetchedAt, m.usable ? 1 : 0, m.remaining['5h'], m.remaining.weekly, m.remaining.monthly];
}

const SUMMARY_COLUMNS = 'bucket_at, known, usable, sum_5h, n_5h, sum_weekly, n_weekly, sum_monthly, n_monthly';
const UPSERT_SUMMARY = `INSERT INTO pool_summary (${SUMMARY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (bucket_at) DO UPDATE SET known = excluded.known, usable = excluded.usable,
  sum_5h = excluded.sum_5h, n_5h = excluded.n_5h, sum_weekly = excluded.sum_weekly, n_weekly = excluded.n_weekly,
  sum_monthly = excluded.sum_monthly, n_monthly = excluded.n_monthly`;
const MEMBER_COLUMNS = 'account_id, fetched_at, usable, rem_5h, rem_weekly, rem_monthly';
const UPSERT_MEMBER = `INSERT INTO pool_members (${MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET fetched_at = excluded.fetched_at, usable = excluded.usable,
  rem_5h = excluded.rem_5h, rem_weekly = excluded.rem_weekly, rem_monthly = excluded.rem_monthly`;

// Arbitrary constant key for pg_advisory_xact_lock ("pool").
const PG_LOCK_KEY = 0x706f6f6c;
/** Snapshots read per page while rebuilding (bounded memory for any history). */
const REBUILD_PAGE = 20_000;
/** Rows per multi-row INSERT while rebuilding. */
const INSERT_BATCH = 200;

async function insertMany(tx: Db, table: string, columns: string, width: number, rows: SqlValue[][]) {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = rows.slice(i, i + INSERT_BATCH);
    const values = batch.map(() => `(${new Array(width).fill('?').join(', ')})`).join(', ');
    await tx.run(`INSERT INTO ${table} (${columns}) VALUES ${values}`, batch.flat());
  }
}

export class PoolSummaryRepo {
  readonly db: Db;
  readonly clock: Clock;
  readonly #pageSize: number;

  /** pageSize: snapshots read per page while rebuilding (tests make it small to cross pages). */
  constructor(db: Db, clock: Clock = Date.now, options: { pageSize?: number } = {}) {
    this.db = db;
    this.clock = clock;
    this.#pageSize = options.pageSize ?? REBUILD_PAGE;
  }

  /**
   * Serializes summary writers (PostgreSQL: a transaction-scoped advisory lock; SQLite's single writer
   * does it) and says where the summary is stale: no state row yet means from the start.
   */
  async #staleFrom(tx: Db): Promise<number | null> {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [PG_LOCK_KEY]);
    const row = await tx.get<{ stale_from: number | null }>('SELECT stale_from FROM pool_summary_state WHERE id = 1');
    return row ? numOrNull(row.stale_from) : 0;
  }

  async #markStale(tx: Db, at: number): Promise<void> {
    await tx.run(
      'UPDATE pool_summary_state SET stale_from = CASE WHEN stale_from IS NULL OR stale_from > ? THEN ? ELSE stale_from END WHERE id = 1',
      [at, at],
    );
  }

  /** Folds one conclusive snapshot in; call inside the transaction that stores it. */
  async record(tx: Db, s: PoolSample): Promise<void> {
    const bucketAt = grainOf(s.fetchedAt);
    const stale = await this.#staleFrom(tx);
    if (stale != null) {
      if (bucketAt < stale) await this.#markStale(tx, bucketAt);
      return;
    }
    const newest = await tx.get<SummaryRow>('SELECT * FROM pool_summary ORDER BY bucket_at DESC LIMIT 1');
    if (newest && bucketAt < Number(newest.bucket_at)) {
      // Stored out of order: the rows after it no longer hold; rebuilt on the next read.
      await this.#markStale(tx, bucketAt);
      return;
    }
    const old = await tx.get<MemberRow>('SELECT * FROM pool_members WHERE account_id = ?', [s.accountId]);
    if (old && Number(old.fetched_at) > s.fetchedAt) return; // a newer sample of it is already counted
    const member = poolMember(s);
    const totals = applyPoolMember(
      newest ? toRow(newest) : await this.#rebuiltTotals(tx),
      old ? toMember(old) : null,
      member,
    );
    await tx.run(UPSERT_MEMBER, memberParams(s.accountId, s.fetchedAt, member));
    await tx.run(UPSERT_SUMMARY, summaryParams({ bucketAt, ...totals }));
  }

  /** The totals of the stored members (only needed when no summary row exists yet). */
  async #rebuiltTotals(tx: Db) {
    const rows = await tx.query<MemberRow>('SELECT * FROM pool_members');
    return new PoolSummaryBuilder(
      rows.map((r) => [r.account_id, { fetchedAt: Number(r.fetched_at), member: toMember(r) }]),
    ).totals;
  }

  /**
   * The rows a pool series over [fromMs, toMs) in stepMs buckets needs: the newest row per bucket and
   * the newest row before fromMs (the pool carried in). Brings the summary up to date first.
   */
  async series(fromMs: number, toMs: number, stepMs: number): Promise<PoolSummaryRow[]> {
    if (!(Number.isSafeInteger(stepMs) && stepMs > 0))
      throw new Error('pool summary: stepMs must be a positive integer');
    await this.refresh();
    const before = await this.db.get<SummaryRow>(
      'SELECT * FROM pool_summary WHERE bucket_at < ? ORDER BY bucket_at DESC LIMIT 1',
      [fromMs],
    );
    const rows = await this.db.query<SummaryRow>(
      `SELECT * FROM pool_summary WHERE bucket_at IN (
         SELECT MAX(bucket_at) FROM pool_summary WHERE bucket_at >= ? AND bucket_at < ? GROUP BY bucket_at / ${stepMs})
       ORDER BY bucket_at`,
      [fromMs, toMs],
    );
    return [...(before ? [before] : []), ...rows].map(toRow);
  }

  /**
   * Brings the summary up to date: rebuilds it where it is stale, and drops accounts whose snapshots
   * are gone (removed or renamed) from the pool as of now. Returns the snapshots read by a rebuild.
   */
  async refresh(): Promise<number> {
    const state = await this.db.get<{ stale_from: number | null }>(
      'SELECT stale_from FROM pool_summary_state WHERE id = 1',
    );
    let read = 0;
    if (!state || state.stale_from != null) read = await this.rebuild();
    await this.#dropGone();
    return read;
  }

  /** Rebuilds the summary from where it is stale (the backfill, for a store older than the table). */
  async rebuild(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const stale = await this.#staleFrom(tx);
      if (stale == null) return 0;
      const from = grainOf(stale);
      await tx.run('DELETE FROM pool_summary WHERE bucket_at >= ?', [from]);
      // Each account's latest conclusive snapshot before `from`: one index seek per account.
      const start =
        from <= 0
          ? []
          : await tx.query<{ account_id: string; fetched_at: number; state: string; windows: string }>(
              `SELECT s.account_id, s.fetched_at, s.state, s.windows FROM quota_snapshots s WHERE s.id IN (
                 SELECT (SELECT q.id FROM quota_snapshots q WHERE q.account_id = l.account_id AND q.fetched_at < ?
                   AND q.transient = 0 ORDER BY q.fetched_at DESC, q.id DESC LIMIT 1)
                 FROM quota_latest l)`,
              [from],
            );
      const builder = new PoolSummaryBuilder(
        start.map((r) => [
          r.account_id,
          {
            fetchedAt: Number(r.fetched_at),
            member: poolMember({ state: r.state as AccountState, windows: JSON.parse(r.windows) as QuotaWindow[] }),
          },
        ]),
      );
      let read = 0;
      let after: [number, number] = [from, -1];
      for (;;) {
        const page = await tx.query<{
          id: number;
          account_id: string;
          fetched_at: number;
          state: string;
          windows: string;
        }>(
          `SELECT id, account_id, fetched_at, state, windows FROM quota_snapshots
           WHERE transient = 0 AND (fetched_at > ? OR (fetched_at = ? AND id > ?))
           ORDER BY fetched_at, id LIMIT ${this.#pageSize}`,
          [after[0], after[0], after[1]],
        );
        for (const r of page) {
          builder.add({
            accountId: r.account_id,
            fetchedAt: Number(r.fetched_at),
            state: r.state as AccountState,
            windows: JSON.parse(r.windows) as QuotaWindow[],
          });
        }
        read += page.length;
        const done = page.length < this.#pageSize;
        // The newest row stays in the builder until the end: a later page may still add to its bucket.
        const rows = done ? builder.take() : builder.takeClosed();
        await insertMany(tx, 'pool_summary', SUMMARY_COLUMNS, 9, rows.map(summaryParams));
        if (done) break;
        const last = page.at(-1)!;
        after = [Number(last.fetched_at), Number(last.id)];
      }
      await tx.run('DELETE FROM pool_members');
      await insertMany(
        tx,
        'pool_members',
        MEMBER_COLUMNS,
        6,
        [...builder.members].map(([id, m]) => memberParams(id, m.fetchedAt, m.member)),
      );
      await tx.run(
        'INSERT INTO pool_summary_state (id, stale_from) VALUES (1, NULL) ON CONFLICT (id) DO UPDATE SET stale_from = NULL',
      );
      return read;
    });
  }

  /** Accounts counted in the pool whose snapshots are gone leave it now (a new row at this minute). */
  async #dropGone(): Promise<void> {
    const gone = await this.db.query<{ account_id: string }>(
      `SELECT m.account_id FROM pool_members m LEFT JOIN quota_latest l ON l.account_id = m.account_id
       WHERE l.account_id IS NULL`,
    );
    if (gone.length === 0) return;
    await this.db.transaction(async (tx) => {
      if ((await this.#staleFrom(tx)) != null) return; // the next read rebuilds anyway
      const members = await tx.query<MemberRow>('SELECT * FROM pool_members');
      const newest = await tx.get<SummaryRow>('SELECT * FROM pool_summary ORDER BY bucket_at DESC LIMIT 1');
      const goneIds = new Set(gone.map((g) => g.account_id));
      const builder = new PoolSummaryBuilder(
        members
          .filter((r) => !goneIds.has(r.account_id))
          .map((r) => [r.account_id, { fetchedAt: Number(r.fetched_at), member: toMember(r) }]),
      );
      const at = Math.max(grainOf(this.clock()), newest ? Number(newest.bucket_at) : 0);
      for (const id of goneIds) await tx.run('DELETE FROM pool_members WHERE account_id = ?', [id]);
      await tx.run(UPSERT_SUMMARY, summaryParams({ bucketAt: at, ...builder.totals }));
    });
  }
}
