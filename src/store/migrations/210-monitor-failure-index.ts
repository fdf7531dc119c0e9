// Request monitoring: a partial index over failed events only (about one in twenty), so the views
// filtered to failures, a failure type or an error status read those rows instead of every event
// of the range. Small on disk (failed rows only) and free for successful inserts.
import type { Migration } from '../db.ts';

const sql = 'CREATE INDEX mon_event_failed_ts ON mon_event (ts, failure_type_id) WHERE failed = 1;';

const migration: Migration = {
  version: 210,
  name: 'monitor-failure-index',
  sql: { sqlite: sql, postgres: sql },
};
export default migration;
