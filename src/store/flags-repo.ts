// Flagged accounts for the health report's `flagged` list: why an account was flagged, how often it
// has been re-verified since, and when it was cleared (a wrongly flagged account clears on its next success).
import type { Clock } from '../domain/time.ts';
import type { Db } from './db.ts';

export interface AccountFlag {
  accountId: string;
  flaggedAt: number;
  flaggedReason: string;
  lastVerified: number | null;
  verificationCount: number;
  clearedAt: number | null;
}

interface FlagRow {
  account_id: string;
  flagged_at: number;
  flagged_reason: string;
  last_verified: number | null;
  verification_count: number;
  cleared_at: number | null;
}

const toFlag = (r: FlagRow): AccountFlag => ({
  accountId: r.account_id,
  flaggedAt: Number(r.flagged_at),
  flaggedReason: r.flagged_reason,
  lastVerified: r.last_verified == null ? null : Number(r.last_verified),
  verificationCount: Number(r.verification_count),
  clearedAt: r.cleared_at == null ? null : Number(r.cleared_at),
});

export class FlagsRepo {
  readonly db: Db;
  readonly clock: Clock;

  constructor(db: Db, clock: Clock = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  /**
   * Flags an account. An active flag keeps its flagged_at and count and takes the new reason;
   * a cleared one starts over.
   */
  async flag(accountId: string, reason: string, at: number = this.clock()): Promise<AccountFlag> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO account_flags (account_id, flagged_at, flagged_reason, last_verified, verification_count, cleared_at)
         VALUES (?, ?, ?, NULL, 0, NULL)
         ON CONFLICT (account_id) DO UPDATE SET
           flagged_at = CASE WHEN account_flags.cleared_at IS NULL THEN account_flags.flagged_at ELSE excluded.flagged_at END,
           verification_count = CASE WHEN account_flags.cleared_at IS NULL THEN account_flags.verification_count ELSE 0 END,
           last_verified = CASE WHEN account_flags.cleared_at IS NULL THEN account_flags.last_verified ELSE NULL END,
           flagged_reason = excluded.flagged_reason,
           cleared_at = NULL`,
        [accountId, at, reason],
      );
      return toFlag((await tx.get<FlagRow>('SELECT * FROM account_flags WHERE account_id = ?', [accountId]))!);
    });
  }

  /** Records that a flagged account was checked again and is still bad. No-op without an active flag. */
  async recordVerification(accountId: string, at: number = this.clock()): Promise<AccountFlag | undefined> {
    await this.db.run(
      `UPDATE account_flags SET last_verified = ?, verification_count = verification_count + 1
       WHERE account_id = ? AND cleared_at IS NULL`,
      [at, accountId],
    );
    return this.get(accountId);
  }

  /** Clears an active flag (kept as history). Returns false when there was none. */
  async clear(accountId: string, at: number = this.clock()): Promise<boolean> {
    const r = await this.db.run('UPDATE account_flags SET cleared_at = ? WHERE account_id = ? AND cleared_at IS NULL', [
      at,
      accountId,
    ]);
    return r.changes > 0;
  }

  async get(accountId: string): Promise<AccountFlag | undefined> {
    const row = await this.db.get<FlagRow>('SELECT * FROM account_flags WHERE account_id = ?', [accountId]);
    return row ? toFlag(row) : undefined;
  }

  /** Active flags (default) or all, including cleared ones. */
  async list(options: { includeCleared?: boolean } = {}): Promise<AccountFlag[]> {
    const where = options.includeCleared ? '' : 'WHERE cleared_at IS NULL';
    const rows = await this.db.query<FlagRow>(`SELECT * FROM account_flags ${where} ORDER BY flagged_at, account_id`);
    return rows.map(toFlag);
  }
}
