// Request monitoring: the unique dedupe index becomes (ts, dedupe_key). The old index on dedupe_key
// alone took its keys (sha256 bits) in random order: every batch touched pages all over an index that
// grows with the table, which cost ~60% of the collector's SQLite time at 200k events and would grow
// with every million. Keyed by time first, a batch lands at the end of the index. A replayed record is
// still caught (it carries the same timestamp and key).
//
// Finding a request by id (the request-id filter) needs the key alone, so mon_key_lookup maps keys to
// events for the hours the compactor has closed (src/monitor/compact.ts fills one hour at a time,
// sorted); the hours after the compaction mark are found through the new index, which holds the key.
// The lookup keeps the key's high 32 bits only (4 bytes a row instead of 8, at 10M events the
// difference between 203 and ~197 B/event): the request-id filter checks the event's own key and
// request id, so a shared prefix only costs one more row read.
import type { Migration } from '../db.ts';

const sql = (tableTail: string, dropTimeIndex: string) => `
CREATE TABLE mon_key_lookup (
  key_high BIGINT NOT NULL,
  event_id BIGINT NOT NULL,
  PRIMARY KEY (key_high, event_id)
)${tableTail};
INSERT INTO mon_key_lookup (key_high, event_id)
  SELECT dedupe_key >> 32, id FROM mon_event
  WHERE ts < COALESCE((SELECT mark FROM mon_pair_mark WHERE id = 1), 0);
DROP INDEX mon_event_dedupe;
CREATE UNIQUE INDEX mon_event_dedupe ON mon_event (ts, dedupe_key);
${dropTimeIndex}`;

const migration: Migration = {
  version: 250,
  name: 'monitor-time-ordered-dedupe',
  // SQLite: the new index serves every time range the time index did (the rowid rides in both), so
  // that one goes, which keeps the lookup within the bytes per event it costs. PostgreSQL keeps
  // (ts, id) for the realtime list's keyset order.
  sql: { sqlite: sql(' WITHOUT ROWID', 'DROP INDEX mon_event_ts;\n'), postgres: sql('', '') },
};
export default migration;
