// Every account's latest attempt and latest conclusive snapshot, read with as few queries as possible:
// what a cached report, the metrics and the dashboard show. The two are the same row unless the last
// attempt was transient, so the rows are read once and only the accounts whose pointers differ cost more.
import type { Db } from './db.ts';
import type { SnapshotsRepo, StoredSnapshot } from './snapshots-repo.ts';

export interface LatestSnapshots {
  /** Latest attempt per account, conclusive or not. */
  attempts: StoredSnapshot[];
  /** Latest conclusive snapshot per account (the attempt itself when no conclusive one is recorded apart). */
  conclusive: StoredSnapshot[];
}

/** Above this many differing accounts, one more full query is cheaper than one query per account. */
const PER_ACCOUNT_LIMIT = 32;

export async function latestSnapshots(db: Db, snapshots: SnapshotsRepo): Promise<LatestSnapshots> {
  const attempts = await snapshots.latestPerAccount({ conclusive: false });
  const differing = await db.query<{ account_id: string }>(
    'SELECT account_id FROM quota_latest WHERE conclusive_id IS NOT NULL AND conclusive_id <> snapshot_id',
  );
  if (differing.length === 0) return { attempts, conclusive: attempts };
  if (differing.length > PER_ACCOUNT_LIMIT) {
    return { attempts, conclusive: await snapshots.latestPerAccount({ conclusive: true }) };
  }
  const other = new Map<string, StoredSnapshot>();
  for (const { account_id: id } of differing) {
    const s = await snapshots.latest(id, { conclusive: true });
    if (s) other.set(id, s);
  }
  return { attempts, conclusive: attempts.map((a) => other.get(a.accountId) ?? a) };
}
