// Request monitoring: partial indexes over failed events (about one in twenty) by account and by API
// key, newest first, so the realtime list filtered to one account's or key's failures (plus a model)
// finds its page without walking every failure of the range. Small: failed rows only.
import type { Migration } from '../db.ts';

const sql = (idTail: string) => `
CREATE INDEX mon_event_failed_account_ts ON mon_event (account_id, ts${idTail}) WHERE failed = 1;
CREATE INDEX mon_event_failed_api_key_ts ON mon_event (api_key_id, ts${idTail}) WHERE failed = 1;
`;

const migration: Migration = {
  version: 230,
  name: 'monitor-failed-group-index',
  // SQLite: the rowid (id) rides in every index, as in mon_event_ts (ts; since migration 250, (ts, dedupe_key)).
  sql: { sqlite: sql(''), postgres: sql(', id') },
};
export default migration;
