// Pool summary (issue 16): the pool over time without reading every account's snapshots. One row per
// minute in which a conclusive snapshot was fetched, holding the pool as it stood at that minute's end
// (every account's latest conclusive sample carried forward): accounts known, usable, and the sum and
// count of remaining % per window kind. `pool_members` is each account's part of the newest row, so a
// sweep's snapshots update the summary in O(1) each (SnapshotsRepo.insert). `pool_summary_state`
// marks the summary stale from a time (a snapshot stored out of order): the next read rebuilds it from
// the snapshots from there on. Its one row is written by the first rebuild: no row means stale from
// the start, so an existing store gets its whole history backfilled on the first pool-series read
// (and a freshly migrated database stays empty, as `db copy` wants its target).
import type { Migration } from '../db.ts';

const migration: Migration = {
  version: 4,
  name: 'pool-summary',
  sql: `
CREATE TABLE pool_summary (
  bucket_at BIGINT PRIMARY KEY,
  known INTEGER NOT NULL,
  usable INTEGER NOT NULL,
  sum_5h DOUBLE PRECISION NOT NULL,
  n_5h INTEGER NOT NULL,
  sum_weekly DOUBLE PRECISION NOT NULL,
  n_weekly INTEGER NOT NULL,
  sum_monthly DOUBLE PRECISION NOT NULL,
  n_monthly INTEGER NOT NULL
);

CREATE TABLE pool_members (
  account_id TEXT PRIMARY KEY,
  fetched_at BIGINT NOT NULL,
  usable INTEGER NOT NULL,
  rem_5h DOUBLE PRECISION,
  rem_weekly DOUBLE PRECISION,
  rem_monthly DOUBLE PRECISION
);

CREATE TABLE pool_summary_state (
  id INTEGER PRIMARY KEY,
  stale_from BIGINT
);
`,
};
export default migration;
