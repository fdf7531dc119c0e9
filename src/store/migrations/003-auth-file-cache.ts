// The parsed-account cache (src/accounts/parsed-cache.ts): what each auth file held when it had a given
// size, mtime, ctime and inode, so a cached `report` reads one row instead of every file. One sealed row
// per scope (the entries hold tokens: a copied or dumped database holds them only encrypted). Derived
// data: deleting the rows only costs one slower run.
import type { Migration } from '../db.ts';

const migration: Migration = {
  version: 3,
  name: 'auth-file-cache',
  sql: `
CREATE TABLE auth_file_cache (
  scope TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
};
export default migration;
