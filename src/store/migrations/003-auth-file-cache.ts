// The parsed-account cache (src/accounts/parsed-cache.ts): what each auth file held when it had a given
// size, mtime, ctime and inode, so a cached `report` reads one row instead of every file. One JSON row per
// scope, tokens masked (no secret). Derived data: deleting the rows only costs one slower run.
import type { Migration } from '../db.ts';

const migration: Migration = {
  version: 3,
  name: 'auth-file-cache',
  sql: `
CREATE TABLE auth_file_cache (
  scope TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
};
export default migration;
