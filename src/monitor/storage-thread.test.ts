import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { openStore } from '../store/open.ts';
import type { InsertedEvent } from './ingest.ts';
import { createMonitorService } from './service.ts';
import { openStorageThread } from './storage-thread.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-storethread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const START = Date.UTC(2026, 10, 4, 1, 3);
const records = [...generateRecords(3000, { start: START, stepMs: 3000, failureRate: 0.2, seed: 12 })].map((r) =>
  JSON.stringify(r),
);
const batches = [records.slice(0, 1200), [...records.slice(1000, 2000), 'not json', '{"timestamp":1}'], records];

test('batches stored on the storage thread equal batches stored on this thread, and listeners hear the new events', async () => {
  const here = await openStore({ databaseUrl: `sqlite:${join(dir, 'here.db')}` });
  const there = await openStore({ databaseUrl: `sqlite:${join(dir, 'there.db')}` });
  const thread = openStorageThread(join(dir, 'there.db'));
  try {
    const clock = () => START + 10 * 3_600_000;
    const local = await createMonitorService({ db: here, clock });
    const remote = await createMonitorService({ db: there, clock });
    const heard: InsertedEvent[] = [];
    remote.emitter.on('events', (events: InsertedEvent[]) => heard.push(...events));
    const threaded = remote.ingest.storingThrough(thread.store);
    for (const batch of batches) {
      const a = await local.ingest.ingestRaw(batch);
      const b = await threaded.ingestRaw(batch);
      assert.deepEqual(b, a);
    }
    assert.deepEqual(remote.ingest.counters, local.ingest.counters);
    assert.equal(heard.length, records.length);
    assert.deepEqual(
      heard.map((x) => x.id),
      heard.map((_, i) => i + 1),
    );
    const heardById = await remote.queries.request(heard[1500].id);
    assert.equal(heardById?.requestId, heard[1500].event.requestId);
    for (const q of ['summary', 'accounts', 'apiKeys'] as const) {
      const norm = (x: unknown) =>
        JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? Math.round(v * 1e6) : v)));
      assert.deepEqual(norm(await remote.queries[q]({})), norm(await local.queries[q]({})), q);
    }
    const tables = ['mon_event', 'mon_failure', 'mon_failure_raw', 'mon_rollup', 'mon_quarantine'];
    for (const t of tables) {
      const n = async (db: typeof here) => Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))?.n);
      assert.equal(await n(there), await n(here), t);
    }
  } finally {
    await thread.db.close();
    await here.close();
    await there.close();
  }
});
