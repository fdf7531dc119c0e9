// Retention: raw events (and their failure rows and quarantined records) older than N days go, in
// small chunks so readers never wait long; rollups live longer. Then the WAL is checkpointed and,
// where SQLite's incremental auto-vacuum is on, free pages are returned to the file system.
import type { Db } from '../store/db.ts';
import { GRAIN_DAY, GRAIN_HOUR, GRAIN_MINUTE } from './ingest.ts';
import type { RetentionSettings } from './settings.ts';

const DAY = 86_400_000;
const CHUNK = 5000;

export interface RetentionResult {
  deletedEvents: number;
  deletedRollups: number;
  deletedQuarantined: number;
  /** Pages returned to the file system (SQLite with auto_vacuum=INCREMENTAL), else 0. */
  freedPages: number;
}

export async function applyRetention(db: Db, r: RetentionSettings, now: number): Promise<RetentionResult> {
  const rawCutoff = now - r.rawDays * DAY;
  let deletedEvents = 0;
  for (;;) {
    const ids = (
      await db.query<{ id: number }>('SELECT id FROM mon_event WHERE ts < ? ORDER BY ts LIMIT ?', [rawCutoff, CHUNK])
    ).map((x) => Number(x.id));
    if (ids.length === 0) break;
    const list = ids.map(() => '?').join(',');
    await db.transaction(async (tx) => {
      await tx.run(`DELETE FROM mon_failure_raw WHERE event_id IN (${list})`, ids);
      await tx.run(`DELETE FROM mon_failure WHERE event_id IN (${list})`, ids);
      // The lookup is keyed by the dedupe key's high bits (migration 250): found through the events' keys.
      await tx.run(
        `DELETE FROM mon_key_lookup WHERE key_high IN (SELECT dedupe_key >> 32 FROM mon_event WHERE id IN (${list})) AND event_id IN (${list})`,
        [...ids, ...ids],
      );
      deletedEvents += (await tx.run(`DELETE FROM mon_event WHERE id IN (${list})`, ids)).changes;
    });
    if (ids.length < CHUNK) break;
  }
  const deletedQuarantined = (await db.run('DELETE FROM mon_quarantine WHERE received_at < ?', [rawCutoff])).changes;
  let deletedRollups = (
    await db.run('DELETE FROM mon_rollup WHERE grain = ? AND bucket < ?', [
      GRAIN_MINUTE,
      now - r.minuteRollupDays * DAY,
    ])
  ).changes;
  deletedRollups += (
    await db.run('DELETE FROM mon_rollup WHERE grain IN (?, ?) AND bucket < ?', [
      GRAIN_HOUR,
      GRAIN_DAY,
      now - r.hourRollupDays * DAY,
    ])
  ).changes;
  // Pair rollups (hour and day grain only) live as long as the hour rollups.
  deletedRollups += (await db.run('DELETE FROM mon_rollup_pair WHERE bucket < ?', [now - r.hourRollupDays * DAY]))
    .changes;
  let freedPages = 0;
  if (db.dialect === 'sqlite') {
    const mode = await db.get<{ auto_vacuum: number }>('PRAGMA auto_vacuum');
    if (Number(mode?.auto_vacuum) === 2) {
      const before = await db.get<{ freelist_count: number }>('PRAGMA freelist_count');
      await db.exec('PRAGMA incremental_vacuum');
      const after = await db.get<{ freelist_count: number }>('PRAGMA freelist_count');
      freedPages = Number(before?.freelist_count ?? 0) - Number(after?.freelist_count ?? 0);
    }
    // Without auto-vacuum the freed pages are reused by new events, so the file stops growing.
    await db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }
  return { deletedEvents, deletedRollups, deletedQuarantined, freedPages };
}
