// Pair-rollup compactor: builds mon_rollup_pair rows (src/monitor/pairs.ts) for each hour once it has
// closed, and the day rows once the day has, from the raw events of that bucket, fills the hour's
// key lookup (mon_key_lookup, migration 250), then moves the mark
// (mon_pair_mark: every bucket before it is compacted). The views read pair rows only before the mark.
// Events that arrive later for an already compacted bucket are folded in by the ingest transaction,
// so pair rows always equal the raw events of their bucket.
import type { Db } from '../store/db.ts';
import { GRAIN_DAY, GRAIN_HOUR, PAIRS, pairMark, pairRollupSql } from './pairs.ts';
import { ROLLUP_SUMS } from './rollup-sums.ts';

/**
 * Compacts every closed hour up to `now` (at most `maxHours` per call, so a catch-up over a long
 * history is spread over calls; each hour is its own transaction). Returns the hours compacted.
 */
export async function compactPairs(db: Db, now: number, maxHours = 24 * 40): Promise<number> {
  let mark = await pairMark(db);
  const target = now - (now % GRAIN_HOUR);
  if (mark === 0) {
    // Nothing stored yet: no mark, so history imported later is compacted, not folded event by event.
    const first = await db.get<{ t: number | null }>('SELECT MIN(ts) AS t FROM mon_event');
    if (first?.t == null) return 0;
    const t = Number(first.t);
    mark = Math.min(t - (t % GRAIN_DAY), target);
    await db.run(
      db.dialect === 'sqlite'
        ? 'INSERT INTO mon_pair_mark (id, mark) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET mark = excluded.mark'
        : 'INSERT INTO mon_pair_mark (id, mark) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET mark = EXCLUDED.mark',
      [mark],
    );
  }
  let hours = 0;
  while (mark < target && hours < maxHours) {
    const h = mark;
    await db.transaction(async (tx) => {
      // Re-read under the write lock: another compactor may have moved the mark meanwhile.
      if ((await pairMark(tx)) !== h) return;
      for (const pair of PAIRS) {
        if (pair.grains.includes(GRAIN_HOUR))
          await tx.run(pairRollupSql(ROLLUP_SUMS, GRAIN_HOUR, pair, true), [h, h + GRAIN_HOUR]);
      }
      const end = h + GRAIN_HOUR;
      // The hour's events become findable by key alone (migration 250), sorted so the lookup's pages
      // are written in order.
      await tx.run(
        'INSERT INTO mon_key_lookup (key_high, event_id) SELECT dedupe_key >> 32, id FROM mon_event WHERE ts >= ? AND ts < ? ORDER BY dedupe_key ON CONFLICT DO NOTHING',
        [h, end],
      );
      if (end % GRAIN_DAY === 0) {
        for (const pair of PAIRS) {
          if (pair.grains.includes(GRAIN_DAY))
            await tx.run(pairRollupSql(ROLLUP_SUMS, GRAIN_DAY, pair, true), [end - GRAIN_DAY, end]);
        }
      }
      await tx.run('UPDATE mon_pair_mark SET mark = ? WHERE id = 1 AND mark = ?', [end, h]);
    });
    mark = await pairMark(db);
    hours++;
  }
  return hours;
}
