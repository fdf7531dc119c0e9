// Seats: an account is a workspace plus the seat's user (src/accounts/identity.ts), no longer the
// workspace alone. Adds the user to `accounts`, and lists every account stored under a bare workspace
// id (the only kind of id the first schema knew) in `seat_attribution` as pending. The rows recorded
// under such an id are moved to the seat's new id the first time the accounts are loaded and exactly
// one seat of that workspace is there (SeatAttributionRepo.attribute): which seat a workspace has
// cannot be known from the database alone, only from the tokens in the auth files. Nothing is deleted.
import type { Migration } from '../db.ts';

const migration: Migration = {
  version: 2,
  name: 'seats',
  sql: `
ALTER TABLE accounts ADD COLUMN user_id TEXT;

CREATE TABLE seat_attribution (
  legacy_id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  email TEXT,
  source_path TEXT,
  status TEXT NOT NULL,
  seat_id TEXT,
  note TEXT,
  updated_at BIGINT NOT NULL
);

INSERT INTO seat_attribution (legacy_id, workspace_id, email, source_path, status, updated_at)
SELECT id, account_id, email, source_path, 'pending', updated_at FROM accounts
WHERE account_id IS NOT NULL AND id = account_id AND source_kind <> 'cpa';
`,
};
export default migration;
