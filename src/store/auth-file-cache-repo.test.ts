// The parsed-account cache row: what is stored is plain ASCII (so SQLite hands back a one-byte string),
// and it reads back equal, masks, non-Latin names and characters outside the BMP included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { AuthFileCacheRepo } from './auth-file-cache-repo.ts';
import { openStore } from './open.ts';

const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-auth-file-cache-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

it('stores the cache as ASCII and reads back the same value', async () => {
  const db = await openStore({ dataDir: tmp });
  try {
    const repo = new AuthFileCacheRepo(db, () => 1);
    const value = { entries: [['/a/zoë.json', { token: 'eyJh…p-Es', name: 'Jürgen 李 🚀', quote: '"\\' }]] };
    await repo.set('files', value);
    const row = await db.get<{ value: string }>("SELECT value FROM auth_file_cache WHERE scope = 'files'");
    assert.match(row!.value, /^[\x20-\x7e]*$/, 'only printable ASCII is stored');
    assert.deepEqual(await repo.get('files'), value);
  } finally {
    await db.close();
  }
});
