// The collector's pipeline over a real SQLite store, with an in-memory queue standing in for Redis
// (the RESP source itself is tested against a real redis-server in test/monitor/collector-redis.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { waitFor } from '../../test/support/wait.ts';
import { LeaseStore } from '../store/lease.ts';
import { openStore } from '../store/open.ts';
import { Collector, secondSpoolPath } from './collector.ts';
import type { UsageSource } from './collectors/types.ts';
import { createMonitorService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'cf-collector-'));
after(() => rmSync(dir, { recursive: true, force: true }));

class ArrayQueue implements UsageSource {
  readonly kind = 'resp' as const;
  readonly queueId = 'mem:usage';
  readonly items: string[];
  constructor(items: string[]) {
    this.items = items;
  }
  async pop(max: number): Promise<string[]> {
    return this.items.splice(0, max);
  }
  async close(): Promise<void> {}
}

const records = (n: number, seed: number) =>
  [...generateRecords(n, { start: Date.UTC(2026, 10, 1), stepMs: 1000, seed })].map((r) => JSON.stringify(r));

async function setup(name: string, queued: string[]) {
  const db = await openStore({ databaseUrl: `sqlite:${join(dir, `${name}.db`)}` });
  const mon = await createMonitorService({ db });
  const queue = new ArrayQueue(queued);
  const spoolPath = join(dir, `${name}.jsonl`);
  const collector = new Collector({
    source: queue,
    ingest: mon.ingest,
    leases: new LeaseStore(db),
    spoolPath,
    popSize: 100,
    maxBatch: 300,
  });
  const stored = async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event'))?.n);
  return { db, mon, queue, collector, spoolPath, stored };
}

test('a batch commits while the next is gathered; settle() waits for it; the queue drains exactly', async () => {
  const s = await setup('pipeline', records(1000, 1));
  try {
    assert.equal((await s.collector.start()).ok, true);
    assert.equal(await s.collector.runOnce(), 300);
    await s.collector.settle();
    assert.equal(s.collector.stats.inserted, 300);
    let total = 300;
    for (let n = await s.collector.runOnce(); n > 0; n = await s.collector.runOnce()) total += n;
    assert.equal(total, 1000);
    // The cycle that found the queue empty waited for the last commit.
    assert.equal(await s.stored(), 1000);
    assert.equal(s.collector.stats.spoolPending, 0);
  } finally {
    await s.collector.stop();
    await s.db.close();
  }
});

test('on start, what a killed run left in either spool file is stored once', async () => {
  const left = records(40, 2);
  const s = await setup('replay', []);
  // A run killed while batch k committed (spool 1) and batch k+1 was spooled (spool 2).
  writeFileSync(s.spoolPath, `${left.slice(0, 25).join('\n')}\n`);
  writeFileSync(secondSpoolPath(s.spoolPath), `${left.slice(20).join('\n')}\n{"torn`);
  try {
    const started = await s.collector.start();
    assert.deepEqual(started, { ok: true, replayed: 45 });
    assert.equal(await s.stored(), 40, 'the 5 records in both files are stored once');
    assert.equal(s.collector.stats.tornSpoolLines, 1);
    assert.equal(s.collector.stats.spoolPending, 0);
  } finally {
    await s.collector.stop();
    await s.db.close();
  }
});

test('a commit that fails while the next batch is popped loses nothing: the loop replays both spools', async () => {
  const s = await setup('failure', records(900, 3));
  const ingestParsed = s.mon.ingest.ingestParsed.bind(s.mon.ingest);
  let calls = 0;
  s.mon.ingest.ingestParsed = async (batch) => {
    if (++calls === 2) throw new Error('disk I/O error');
    return ingestParsed(batch);
  };
  try {
    assert.equal((await s.collector.start()).ok, true);
    const loop = s.collector.run();
    await waitFor(
      async () => {
        const n = await s.stored();
        return n === 900 || { ok: false, seen: `${n} stored, ${s.queue.items.length} queued` };
      },
      { what: 'all 900 records stored after the failed commit' },
    );
    await s.collector.stop();
    await loop;
    assert.equal(await s.stored(), 900);
    assert.equal(s.collector.stats.errors, 1);
    assert.equal(s.collector.stats.lastError, 'disk I/O error');
  } finally {
    await s.collector.stop();
    await s.db.close();
  }
});

test('secondSpoolPath sits beside the first', () => {
  assert.equal(secondSpoolPath('/d/monitor-spool-abc.jsonl'), '/d/monitor-spool-abc.2.jsonl');
  assert.equal(secondSpoolPath('/d/spool'), '/d/spool.2');
});
