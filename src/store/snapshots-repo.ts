// Quota snapshot history: every probe outcome per account, plus a pointer table (quota_latest) so the
// cached report reads one row per account instead of scanning history. This is the quota cache:
// `latestPerAccount()` answers without network, `history()` feeds forecasts.
import type { AccountState, Credits, ProbeReason, ProbeResult, QuotaWindow, SnapshotSource } from '../domain/quota.ts';
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';
import { PoolSummaryRepo } from './pool-summary-repo.ts';

export interface StoredSnapshot {
  id: number;
  accountId: string;
  /** ms since epoch */
  fetchedAt: number;
  state: AccountState;
  reason: ProbeReason | null;
  httpStatus: number | null;
  errorCode: string | null;
  /** Sanitized one-line message (never a token or raw body). */
  message: string | null;
  plan: string | null;
  allowed: boolean | null;
  limitReached: boolean | null;
  rateLimitReachedType: string | null;
  windows: QuotaWindow[];
  credits: Credits | null;
  resetAfterSeconds: number | null;
  retryAfterSeconds: number | null;
  source: SnapshotSource;
  transient: boolean;
  attempts: number | null;
  usagePath: string | null;
}

export type SnapshotInput = Omit<StoredSnapshot, 'id'>;

interface SnapshotRow {
  id: number;
  account_id: string;
  fetched_at: number;
  state: string;
  reason: string | null;
  http_status: number | null;
  error_code: string | null;
  message: string | null;
  plan: string | null;
  allowed: number | null;
  limit_reached: number | null;
  rate_limit_reached_type: string | null;
  windows: string;
  credits: string | null;
  reset_after_seconds: number | null;
  retry_after_seconds: number | null;
  source: string;
  transient: number;
  attempts: number | null;
  usage_path: string | null;
}

const num = (v: unknown): number | null => (v == null ? null : Number(v));
const bool = (v: unknown): boolean | null => (v == null ? null : Number(v) !== 0);
const flag = (v: boolean | null): number | null => (v == null ? null : v ? 1 : 0);

function toSnapshot(r: SnapshotRow): StoredSnapshot {
  return {
    id: Number(r.id),
    accountId: r.account_id,
    fetchedAt: Number(r.fetched_at),
    state: r.state as AccountState,
    reason: r.reason as ProbeReason | null,
    httpStatus: num(r.http_status),
    errorCode: r.error_code,
    message: r.message,
    plan: r.plan,
    allowed: bool(r.allowed),
    limitReached: bool(r.limit_reached),
    rateLimitReachedType: r.rate_limit_reached_type,
    windows: JSON.parse(r.windows) as QuotaWindow[],
    credits: r.credits == null ? null : (JSON.parse(r.credits) as Credits),
    resetAfterSeconds: num(r.reset_after_seconds),
    retryAfterSeconds: num(r.retry_after_seconds),
    source: r.source as SnapshotSource,
    transient: Number(r.transient) !== 0,
    attempts: num(r.attempts),
    usagePath: r.usage_path,
  };
}

/** What to store from a probe outcome. */
export function snapshotFromProbe(accountId: string, p: ProbeResult): SnapshotInput {
  const fetchedAt = Date.parse(p.fetchedAt);
  if (!Number.isFinite(fetchedAt)) throw new Error(`probe result for ${accountId} has an invalid fetchedAt`);
  return {
    accountId,
    fetchedAt,
    state: p.state,
    reason: p.reason,
    httpStatus: p.httpStatus,
    errorCode: p.errorCode,
    message: p.message,
    plan: p.snapshot?.plan ?? null,
    allowed: p.snapshot?.allowed ?? null,
    limitReached: p.snapshot?.limitReached ?? null,
    rateLimitReachedType: p.snapshot?.rateLimitReachedType ?? null,
    windows: p.snapshot?.windows ?? [],
    credits: p.snapshot?.credits ?? null,
    resetAfterSeconds: p.resetAfterSeconds,
    retryAfterSeconds: p.retryAfterSeconds,
    source: p.source,
    transient: p.transient,
    attempts: p.attempts,
    usagePath: p.usagePath,
  };
}

/** A stored snapshot as a ProbeResult answered from the cache. */
export function probeFromSnapshot(s: StoredSnapshot): ProbeResult {
  const fetchedAt = new Date(s.fetchedAt).toISOString();
  const hasSnapshot = s.windows.length > 0 || s.plan != null || s.credits != null || s.allowed != null;
  return {
    state: s.state,
    reason: s.reason ?? 'unexpected_status',
    httpStatus: s.httpStatus,
    errorCode: s.errorCode,
    message: s.message,
    snapshot: hasSnapshot
      ? {
          plan: s.plan,
          allowed: s.allowed,
          limitReached: s.limitReached,
          rateLimitReachedType: s.rateLimitReachedType,
          windows: s.windows,
          credits: s.credits ?? { hasCredits: null, unlimited: null, balance: null },
          fetchedAt,
        }
      : null,
    resetAfterSeconds: s.resetAfterSeconds,
    retryAfterSeconds: s.retryAfterSeconds,
    transient: s.transient,
    source: 'cache',
    fetchedAt,
    attempts: s.attempts ?? 0,
    usagePath: s.usagePath,
  };
}

const INSERT = `INSERT INTO quota_snapshots (account_id, fetched_at, state, reason, http_status, error_code, message,
  plan, allowed, limit_reached, rate_limit_reached_type, windows, credits, reset_after_seconds, retry_after_seconds,
  source, transient, attempts, usage_path)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;

// Only moves forward in time, so an out-of-order insert never hides a newer result.
const POINT_LATEST = `INSERT INTO quota_latest (account_id, snapshot_id, fetched_at, conclusive_id, conclusive_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET
  snapshot_id = CASE WHEN excluded.fetched_at >= quota_latest.fetched_at THEN excluded.snapshot_id ELSE quota_latest.snapshot_id END,
  fetched_at = CASE WHEN excluded.fetched_at >= quota_latest.fetched_at THEN excluded.fetched_at ELSE quota_latest.fetched_at END,
  conclusive_id = CASE WHEN excluded.conclusive_id IS NOT NULL
      AND (quota_latest.conclusive_at IS NULL OR excluded.conclusive_at >= quota_latest.conclusive_at)
    THEN excluded.conclusive_id ELSE quota_latest.conclusive_id END,
  conclusive_at = CASE WHEN excluded.conclusive_id IS NOT NULL
      AND (quota_latest.conclusive_at IS NULL OR excluded.conclusive_at >= quota_latest.conclusive_at)
    THEN excluded.conclusive_at ELSE quota_latest.conclusive_at END`;

export interface LatestOptions {
  /**
   * true (default): the latest conclusive result per account; a transient failure (Cloudflare,
   * 5xx, timeout) says nothing about the account, so it only shows when nothing conclusive exists.
   * false: the latest attempt, whatever it was.
   */
  conclusive?: boolean;
}

export class SnapshotsRepo {
  readonly db: Db;
  readonly clock: Clock;
  /** The pool over time, kept up to date as conclusive snapshots are stored (the pool series reads it). */
  readonly pool: PoolSummaryRepo;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
    this.pool = new PoolSummaryRepo(db, clock);
  }

  /** Stores one snapshot and moves the latest pointers; returns its id. */
  async insert(s: SnapshotInput): Promise<number> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<{ id: number }>(INSERT, [
        s.accountId,
        s.fetchedAt,
        s.state,
        s.reason,
        s.httpStatus,
        s.errorCode,
        s.message,
        s.plan,
        flag(s.allowed),
        flag(s.limitReached),
        s.rateLimitReachedType,
        JSON.stringify(s.windows),
        s.credits == null ? null : JSON.stringify(s.credits),
        s.resetAfterSeconds,
        s.retryAfterSeconds,
        s.source,
        s.transient ? 1 : 0,
        s.attempts,
        s.usagePath,
      ]);
      const id = Number(row!.id);
      await tx.run(POINT_LATEST, [
        s.accountId,
        id,
        s.fetchedAt,
        s.transient ? null : id,
        s.transient ? null : s.fetchedAt,
      ]);
      if (!s.transient) await this.pool.record(tx, s);
      return id;
    });
  }

  async insertProbe(accountId: string, result: ProbeResult): Promise<number> {
    return this.insert(snapshotFromProbe(accountId, result));
  }

  /** One snapshot per account that has any (see LatestOptions). */
  async latestPerAccount(options: LatestOptions = {}): Promise<StoredSnapshot[]> {
    const pointer = options.conclusive === false ? 'l.snapshot_id' : 'COALESCE(l.conclusive_id, l.snapshot_id)';
    const rows = await this.db.query<SnapshotRow>(
      `SELECT s.* FROM quota_latest l JOIN quota_snapshots s ON s.id = ${pointer} ORDER BY s.account_id`,
    );
    return rows.map(toSnapshot);
  }

  async latest(accountId: string, options: LatestOptions = {}): Promise<StoredSnapshot | undefined> {
    const pointer = options.conclusive === false ? 'l.snapshot_id' : 'COALESCE(l.conclusive_id, l.snapshot_id)';
    const row = await this.db.get<SnapshotRow>(
      `SELECT s.* FROM quota_latest l JOIN quota_snapshots s ON s.id = ${pointer} WHERE l.account_id = ?`,
      [accountId],
    );
    return row ? toSnapshot(row) : undefined;
  }

  /** The newest snapshot's id (0 when none): a cheap "has anything been stored since" marker. */
  async lastId(): Promise<number> {
    const row = await this.db.get<{ id: number | string | null }>('SELECT MAX(id) AS id FROM quota_snapshots');
    return Number(row?.id ?? 0);
  }

  /** Snapshots of one account fetched at or after sinceMs, oldest first (for forecasts). */
  async history(accountId: string, sinceMs: number, limit = 10_000): Promise<StoredSnapshot[]> {
    const rows = await this.db.query<SnapshotRow>(
      'SELECT * FROM quota_snapshots WHERE account_id = ? AND fetched_at >= ? ORDER BY fetched_at, id LIMIT ?',
      [accountId, sinceMs, limit],
    );
    return rows.map(toSnapshot);
  }

  /**
   * Non-transient snapshots stored after snapshot `afterId` and fetched at or after sinceMs, oldest
   * first: what a forecast kept in memory reads after a sweep instead of every account's history.
   */
  async storedAfter(afterId: number, sinceMs: number): Promise<StoredSnapshot[]> {
    const rows = await this.db.query<SnapshotRow>(
      'SELECT * FROM quota_snapshots WHERE id > ? AND fetched_at >= ? AND transient = 0 ORDER BY fetched_at, id',
      [afterId, sinceMs],
    );
    return rows.map(toSnapshot);
  }

  /**
   * The last conclusive snapshot per account per stepMs-long bucket of [fromMs, toMs), oldest first:
   * what history charts need, bounded by accounts × buckets however often accounts were probed.
   */
  async sampled(fromMs: number, toMs: number, stepMs: number, accountId?: string): Promise<StoredSnapshot[]> {
    if (!(Number.isSafeInteger(stepMs) && stepMs > 0)) throw new Error(`sampled: stepMs must be a positive integer`);
    const one = accountId === undefined ? '' : 'AND account_id = ?';
    const params = accountId === undefined ? [fromMs, toMs] : [fromMs, toMs, accountId];
    const rows = await this.db.query<SnapshotRow>(
      `SELECT s.* FROM quota_snapshots s WHERE s.id IN (
         SELECT MAX(id) FROM quota_snapshots WHERE fetched_at >= ? AND fetched_at < ? AND transient = 0 ${one}
         GROUP BY account_id, fetched_at / ${stepMs})
       ORDER BY s.fetched_at, s.id`,
      params,
    );
    return rows.map(toSnapshot);
  }

  /** Deletes snapshots older than maxAgeMs, always keeping each account's latest ones. Returns rows deleted. */
  async prune(maxAgeMs: number): Promise<number> {
    if (!(maxAgeMs >= 0)) throw new Error(`prune: maxAgeMs must be a non-negative number, got ${maxAgeMs}`);
    const cutoff = this.clock() - maxAgeMs;
    const r = await this.db.run(
      `DELETE FROM quota_snapshots WHERE fetched_at < ?
         AND id NOT IN (SELECT snapshot_id FROM quota_latest)
         AND id NOT IN (SELECT conclusive_id FROM quota_latest WHERE conclusive_id IS NOT NULL)`,
      [cutoff],
    );
    return r.changes;
  }

  async count(accountId?: string): Promise<number> {
    const row =
      accountId === undefined
        ? await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM quota_snapshots')
        : await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM quota_snapshots WHERE account_id = ?', [
            accountId,
          ]);
    return Number(row?.n ?? 0);
  }
}
