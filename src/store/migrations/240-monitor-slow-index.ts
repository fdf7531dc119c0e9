// Request monitoring: a partial index over slow events (latency ≥ SLOW_LATENCY_MS), newest first, so a
// "min latency ≥ 10 s" filter reads only those rows for the stretches no rollup covers (the ragged
// edges of a range, the hours not yet compacted, the realtime list) instead of every event there.
// Small: slow rows only. Queries also name the bound as a literal (src/monitor/filters.ts), so a
// planner that does not look at bound values (PostgreSQL's generic plans) can still prove it applies.
import { SLOW_LATENCY_MS } from '../../monitor/pairs.ts';
import type { Migration } from '../db.ts';

const sql = (idTail: string) =>
  `CREATE INDEX mon_event_slow_ts ON mon_event (ts${idTail}) WHERE latency_ms >= ${SLOW_LATENCY_MS};`;

const migration: Migration = {
  version: 240,
  name: 'monitor-slow-index',
  // SQLite: the rowid (id) rides in every index, as in mon_event_ts (ts; since migration 250, (ts, dedupe_key)).
  sql: { sqlite: sql(''), postgres: sql(', id') },
};
export default migration;
