// Request monitoring: pair rollups (see src/monitor/pairs.ts) so the views filtered by a second
// dimension (account × API key), by cache state or by "failures only" read pre-aggregated rows for
// whole buckets instead of every raw event of the range. The compactor (src/monitor/compact.ts) fills
// them for closed hours and days, starting from the oldest stored event.

import { PAIR_KEY } from '../../monitor/pairs.ts';
import { ROLLUP_SUMS } from '../../monitor/rollup-sums.ts';
import type { Migration } from '../db.ts';

const table = (tail: string) => `
CREATE TABLE mon_rollup_pair (
  grain INTEGER NOT NULL,
  bucket BIGINT NOT NULL,
  dim INTEGER NOT NULL,
  dim_value INTEGER NOT NULL,
  dim2 INTEGER NOT NULL,
  dim2_value INTEGER NOT NULL,
  provider_id INTEGER NOT NULL,
  model_id INTEGER NOT NULL,
  tier_id INTEGER NOT NULL,
  ${ROLLUP_SUMS.map((s) => `${s} BIGINT NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (${PAIR_KEY.join(', ')})
)${tail};

-- Every hour before mark has its pair rows (and every day ending at or before it); 0: none yet.
CREATE TABLE mon_pair_mark (
  id INTEGER PRIMARY KEY,
  mark BIGINT NOT NULL
);
`;

const migration: Migration = {
  version: 220,
  name: 'monitor-pair-rollups',
  sql: { sqlite: table(' WITHOUT ROWID'), postgres: table('') },
};
export default migration;
