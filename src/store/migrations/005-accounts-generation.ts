// Accounts generation: a counter that every write to `accounts` bumps, whoever writes (this code, an older
// codex-fleet, an operator's SQL), so a load of the accounts can tell that nothing was written since it
// last compared them, without reading every row (AccountsRepo.writeChanged). The same row records that
// comparison: the text of what was compared (the sources, AccountsRepo's sourceRows) and the generation the
// rows matched it at. The text, not a hash: equal texts cannot collide, and node:crypto costs a cached
// report more to load than the comparison it saves. A bump drops the text (it is stale from then on), so
// only the first write after a comparison rewrites it. The record lives beside the counter because it
// means nothing against another database's counter. Derived data: no row means "compare", and `db copy`
// skips the table (the target's triggers count its own writes). The trigger's upsert creates the row.
import type { Migration } from '../db.ts';

const table = `
CREATE TABLE accounts_generation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation BIGINT NOT NULL,
  checked_generation BIGINT,
  checked_sources TEXT
);
`;

const bump = `INSERT INTO accounts_generation (id, generation) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET generation = accounts_generation.generation + 1, checked_sources = NULL;`;

const sqliteTrigger = (event: string) => `
CREATE TRIGGER accounts_generation_${event.toLowerCase()} AFTER ${event} ON accounts FOR EACH ROW BEGIN
  ${bump}
END;
`;

// PostgreSQL bumps BEFORE each statement, so a writer takes the counter's row before any account row:
// every writer of `accounts` locks in the same order (no deadlock), and whoever holds the counter's row
// knows nobody else has uncommitted account writes. TRUNCATE skips row triggers, so it is named too.
const postgres = `${table}
CREATE FUNCTION accounts_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${bump}
  RETURN NULL;
END
$$;

CREATE TRIGGER accounts_generation_bump BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION accounts_generation_bump();
`;

const migration: Migration = {
  version: 5,
  name: 'accounts-generation',
  sql: {
    sqlite: table + ['INSERT', 'UPDATE', 'DELETE'].map(sqliteTrigger).join(''),
    postgres,
  },
};
export default migration;
