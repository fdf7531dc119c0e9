// Core store: accounts and their token state, quota snapshot history (the quota cache), flags,
// settings and leases. No foreign keys on account_id: snapshots and flags may arrive for accounts
// another source registers later; AccountsRepo.remove deletes the dependent rows itself.
import type { Migration } from '../db.ts';

const common = `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  plan TEXT,
  account_id TEXT,
  format TEXT NOT NULL,
  source_kind TEXT NOT NULL,
  source_path TEXT,
  source_index INTEGER,
  disabled INTEGER NOT NULL DEFAULT 0,
  added_at BIGINT,
  last_used BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX accounts_name_idx ON accounts (name);

CREATE TABLE token_state (
  account_id TEXT PRIMARY KEY,
  access_expires_at BIGINT,
  last_refresh BIGINT,
  refresh_failures INTEGER NOT NULL DEFAULT 0,
  last_refresh_error TEXT,
  last_refresh_at BIGINT,
  updated_at BIGINT NOT NULL
);

CREATE INDEX quota_snapshots_account_idx ON quota_snapshots (account_id, fetched_at);
CREATE INDEX quota_snapshots_fetched_idx ON quota_snapshots (fetched_at);

CREATE TABLE quota_latest (
  account_id TEXT PRIMARY KEY,
  snapshot_id BIGINT NOT NULL,
  fetched_at BIGINT NOT NULL,
  conclusive_id BIGINT,
  conclusive_at BIGINT
);

CREATE TABLE account_flags (
  account_id TEXT PRIMARY KEY,
  flagged_at BIGINT NOT NULL,
  flagged_reason TEXT NOT NULL,
  last_verified BIGINT,
  verification_count INTEGER NOT NULL DEFAULT 0,
  cleared_at BIGINT
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL
);
`;

const snapshots = (idColumn: string) => `
CREATE TABLE quota_snapshots (
  id ${idColumn},
  account_id TEXT NOT NULL,
  fetched_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  http_status INTEGER,
  error_code TEXT,
  message TEXT,
  plan TEXT,
  allowed INTEGER,
  limit_reached INTEGER,
  rate_limit_reached_type TEXT,
  windows TEXT NOT NULL DEFAULT '[]',
  credits TEXT,
  reset_after_seconds DOUBLE PRECISION,
  retry_after_seconds DOUBLE PRECISION,
  source TEXT NOT NULL,
  transient INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER,
  usage_path TEXT
);
`;

const migration: Migration = {
  version: 1,
  name: 'core',
  sql: {
    sqlite: snapshots('INTEGER PRIMARY KEY') + common,
    postgres: snapshots('BIGSERIAL PRIMARY KEY') + common,
  },
};
export default migration;
