// Inspection runs and their results, the action queue, disable ownership and the audit log.
// Results and evidence are JSON text: they are read whole, never filtered inside.
import type { Migration } from '../db.ts';

const migration: Migration = {
  version: 100,
  name: 'inspection-actions',
  sql: `
CREATE TABLE inspection_runs (
  id TEXT PRIMARY KEY,
  trigger TEXT NOT NULL,
  source TEXT,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  counts TEXT NOT NULL DEFAULT '{}',
  log TEXT NOT NULL DEFAULT '[]',
  holder TEXT,
  error TEXT
);
CREATE INDEX inspection_runs_started_idx ON inspection_runs (started_at);

CREATE TABLE inspection_results (
  run_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  account_name TEXT NOT NULL,
  action TEXT NOT NULL,
  state TEXT NOT NULL,
  inspected_at BIGINT NOT NULL,
  result TEXT NOT NULL,
  PRIMARY KEY (run_id, account_id)
);
CREATE INDEX inspection_results_account_idx ON inspection_results (account_id, inspected_at);

CREATE TABLE actions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  account_name TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  origin TEXT NOT NULL,
  reason TEXT NOT NULL,
  evidence TEXT NOT NULL DEFAULT '{}',
  run_id TEXT,
  created_at BIGINT NOT NULL,
  decided_at BIGINT,
  decided_by TEXT,
  result TEXT
);
CREATE INDEX actions_status_idx ON actions (status, created_at);
CREATE INDEX actions_account_idx ON actions (account_id, status);

CREATE TABLE disable_ownership (
  account_id TEXT PRIMARY KEY,
  disabled_by TEXT NOT NULL,
  actor TEXT,
  reason TEXT NOT NULL,
  state TEXT,
  disabled_at BIGINT NOT NULL,
  until_at BIGINT
);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  account_id TEXT,
  account_name TEXT,
  reason TEXT NOT NULL,
  evidence TEXT NOT NULL DEFAULT '{}',
  result TEXT NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
`,
};
export default migration;
