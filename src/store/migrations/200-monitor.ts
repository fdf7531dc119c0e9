// Request monitoring storage. Kept small on purpose (target ≤ 200 bytes per event): repeated strings
// live once in dictionary tables and events hold integer ids; failure summaries and raw bodies sit in
// their own tables (raw bodies are never joined into API responses or exports); rollups keep views fast.
import type { Migration } from '../db.ts';

// 16 latency buckets (upper bounds in ms are in src/monitor/latency.ts); h15 is "above the last bound".
const buckets = Array.from({ length: 16 }, (_, i) => `h${i} BIGINT NOT NULL DEFAULT 0`).join(',\n  ');

const tables = (id: string, rollupTail: string, eventTsIndex: string) => `
CREATE TABLE mon_dict (
  id ${id},
  kind INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE UNIQUE INDEX mon_dict_kind_value ON mon_dict (kind, value);

CREATE TABLE mon_api_key (
  id ${id},
  hash TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE UNIQUE INDEX mon_api_key_hash ON mon_api_key (hash);

CREATE TABLE mon_event (
  id ${id},
  ts BIGINT NOT NULL,
  dedupe_key BIGINT NOT NULL,
  status INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  latency_ms INTEGER,
  ttft_ms INTEGER,
  provider_id INTEGER,
  executor_id INTEGER,
  model_id INTEGER,
  alias_id INTEGER,
  endpoint_id INTEGER,
  account_id INTEGER,
  auth_type_id INTEGER,
  api_key_id INTEGER,
  project_id INTEGER,
  failure_type_id INTEGER,
  effort_id INTEGER,
  tier_id INTEGER,
  cache_state INTEGER NOT NULL,
  input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  cache_creation_tokens BIGINT NOT NULL,
  total_tokens BIGINT NOT NULL,
  request_id TEXT
);
CREATE UNIQUE INDEX mon_event_dedupe ON mon_event (dedupe_key);
${eventTsIndex}

CREATE TABLE mon_failure (
  event_id BIGINT PRIMARY KEY,
  error_type TEXT,
  error_code TEXT,
  message TEXT
);

CREATE TABLE mon_failure_raw (
  event_id BIGINT PRIMARY KEY,
  body TEXT NOT NULL
);

CREATE TABLE mon_rollup (
  grain INTEGER NOT NULL,
  bucket BIGINT NOT NULL,
  dim INTEGER NOT NULL,
  dim_value INTEGER NOT NULL,
  provider_id INTEGER NOT NULL,
  model_id INTEGER NOT NULL,
  tier_id INTEGER NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0,
  failures BIGINT NOT NULL DEFAULT 0,
  lat_n BIGINT NOT NULL DEFAULT 0,
  lat_sum BIGINT NOT NULL DEFAULT 0,
  ttft_n BIGINT NOT NULL DEFAULT 0,
  ttft_sum BIGINT NOT NULL DEFAULT 0,
  input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  reasoning_tokens BIGINT NOT NULL DEFAULT 0,
  cached_tokens BIGINT NOT NULL DEFAULT 0,
  cache_creation_tokens BIGINT NOT NULL DEFAULT 0,
  total_tokens BIGINT NOT NULL DEFAULT 0,
  cache_hits BIGINT NOT NULL DEFAULT 0,
  ${buckets},
  PRIMARY KEY (grain, bucket, dim, dim_value, provider_id, model_id, tier_id)
)${rollupTail};

CREATE TABLE mon_quarantine (
  id ${id},
  received_at BIGINT NOT NULL,
  content_key BIGINT NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL
);
CREATE UNIQUE INDEX mon_quarantine_key ON mon_quarantine (content_key);
`;

const migration: Migration = {
  version: 200,
  name: 'monitor',
  sql: {
    // SQLite: the rowid is the id and rides in every index for free, so (ts) serves "newest first".
    sqlite: tables('INTEGER PRIMARY KEY', ' WITHOUT ROWID', 'CREATE INDEX mon_event_ts ON mon_event (ts);'),
    postgres: tables('BIGSERIAL PRIMARY KEY', '', 'CREATE INDEX mon_event_ts ON mon_event (ts, id);'),
  },
};
export default migration;
