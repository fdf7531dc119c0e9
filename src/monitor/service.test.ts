import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { openStore } from '../store/open.ts';
import { openSqlite } from '../store/sqlite.ts';
import { createMonitorService } from './service.ts';

test('writes never block reads: the views answer while an ingest transaction is open (WAL, reader connection)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-monwal-'));
  const path = join(dir, 'w.db');
  const writer = await openStore({ databaseUrl: `sqlite:${path}` });
  const reader = openSqlite(path);
  try {
    const mon = await createMonitorService({ db: writer, readDb: reader });
    const recs = [...generateRecords(50, { start: Date.UTC(2026, 10, 1), stepMs: 1000, seed: 4 })].map((r) =>
      JSON.stringify(r),
    );
    await mon.ingest.ingestRaw(recs.slice(0, 20));
    let seenDuringWrite = -1;
    await writer.transaction(async (tx) => {
      await tx.run("INSERT INTO mon_dict (kind, value) VALUES (99, 'held open')");
      // The writer holds SQLite's write lock right now; the reader still answers, from the last commit.
      seenDuringWrite = (await mon.queries.summary({})).requests;
    });
    assert.equal(seenDuringWrite, 20);
    await mon.ingest.ingestRaw(recs.slice(20));
    assert.equal((await mon.queries.summary({})).requests, 50);
    assert.equal((await mon.queries.list({}, { limit: 100 })).rows.length, 50);
  } finally {
    await reader.close();
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
