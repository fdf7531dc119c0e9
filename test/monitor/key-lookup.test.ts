// Dedupe keyed by (ts, dedupe_key) and the request-id lookup beside it (migration 250), on SQLite and
// on a real PostgreSQL server: a request is found by id in compacted hours, in late events for those
// hours and in the open tail; replays stay duplicates; retention takes the lookup rows with the events;
// a store from before the migration gets its compacted hours backfilled.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compactPairs } from '../../src/monitor/compact.ts';
import { pairMark } from '../../src/monitor/pairs.ts';
import { dedupeKeyOf } from '../../src/monitor/record.ts';
import { applyRetention } from '../../src/monitor/retention.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import type { Db } from '../../src/store/db.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { openStore } from '../../src/store/open.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const pg: PostgresServer | null = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'cf-keylookup-'));
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 12, 0, 13);
// 600 records 7 minutes apart: about 70 hours.
const records = [...generateRecords(600, { start: START, stepMs: 420_000, seed: 33 })];
const json = (rs: ReadonlyArray<Record<string, unknown>>) => rs.map((r) => JSON.stringify(r));

let made = 0;
/** Each backend makes a new, empty database and gives its URL. */
const backends: Array<{ name: string; newDatabase: () => Promise<string>; skip: string | false }> = [
  { name: 'sqlite', newDatabase: async () => `sqlite:${join(dir, `k${made++}.db`)}`, skip: false },
  {
    name: 'postgres',
    newDatabase: () => pg!.createDatabase(`keys${made++}`),
    skip: pg ? false : 'PostgreSQL unavailable (see message above)',
  },
];

const count = async (db: Db, sql: string, params: Array<string | number> = []) =>
  Number((await db.get<{ n: number }>(sql, params))?.n);

for (const backend of backends) {
  describe(`request keys on ${backend.name}`, () => {
    test('found by id before the mark, late and after it; replays are duplicates; retention takes them', {
      skip: backend.skip,
    }, async () => {
      const db = await openStore({ databaseUrl: await backend.newDatabase() });
      try {
        const now = START + 80 * HOUR;
        const mon = await createMonitorService({ db, clock: () => now });
        // Even records first, compacted up to hour 40; then the odd ones: late below the mark, open above.
        const even = records.filter((_, i) => i % 2 === 0);
        const odd = records.filter((_, i) => i % 2 === 1);
        await mon.ingest.ingestRaw(json(even));
        await compactPairs(db, START + 40 * HOUR);
        const mark = await pairMark(db);
        assert.ok(mark > START && mark < START + 41 * HOUR);
        await mon.ingest.ingestRaw(json(odd));
        const belowMark = await count(db, 'SELECT COUNT(*) AS n FROM mon_event WHERE ts < ?', [mark]);
        assert.ok(belowMark > 100 && belowMark < 500);
        assert.equal(await count(db, 'SELECT COUNT(*) AS n FROM mon_key_lookup'), belowMark);

        for (const r of records.filter((_, i) => i % 7 === 0)) {
          const page = await mon.queries.list({ requestId: r.request_id as string });
          assert.deepEqual(
            page.rows.map((x) => x.requestId),
            [r.request_id],
          );
        }
        assert.equal((await mon.queries.list({ requestId: 'req-nobody' })).rows.length, 0);

        const again = await mon.ingest.ingestRaw(json(records));
        assert.deepEqual([again.inserted, again.duplicates], [0, records.length]);
        // Duplicates inside one batch: the first stays, and the batch is matched back by key.
        const twice = [...generateRecords(3, { start: now - HOUR, stepMs: 1000, seed: 99 })];
        const mixed = await mon.ingest.ingestRaw(json([twice[0], twice[1], twice[0], twice[2], twice[1]]));
        assert.deepEqual([mixed.inserted, mixed.duplicates], [3, 2]);
        assert.equal((await mon.queries.summary({})).requests, records.length + 3);

        await applyRetention(db, { rawDays: 1, minuteRollupDays: 1, hourRollupDays: 30 }, START + 50 * HOUR);
        const left = await count(db, 'SELECT COUNT(*) AS n FROM mon_event');
        assert.ok(left < records.length);
        assert.equal(
          await count(db, 'SELECT COUNT(*) AS n FROM mon_key_lookup WHERE event_id NOT IN (SELECT id FROM mon_event)'),
          0,
        );
      } finally {
        await db.close();
      }
    });

    test('migration 250 keeps the events, backfills the compacted hours and dedupes by (ts, key)', {
      skip: backend.skip,
    }, async () => {
      const url = await backend.newDatabase();
      const db = await openStore({ databaseUrl: url, migrations: MIGRATIONS.filter((m) => m.version < 250) });
      const ts = (h: number) => START + h * HOUR;
      const insert = (to: Db, t: number, key: bigint, requestId: string) =>
        to.run(
          `INSERT INTO mon_event (ts, dedupe_key, status, failed, cache_state, input_tokens, output_tokens,
             reasoning_tokens, cached_tokens, cache_creation_tokens, total_tokens, request_id)
           VALUES (?, ?, 200, 0, 0, 1, 1, 0, 0, 0, 2, ?)`,
          [t, key, requestId],
        );
      for (let h = 0; h < 6; h++) await insert(db, ts(h), dedupeKeyOf(`old-${h}`, null), `old-${h}`);
      await db.run('INSERT INTO mon_pair_mark (id, mark) VALUES (1, ?)', [ts(3) - (ts(3) % HOUR)]);
      await db.close();

      const migrated = await openStore({ databaseUrl: url });
      try {
        assert.equal(await count(migrated, 'SELECT COUNT(*) AS n FROM mon_event'), 6);
        assert.equal(await count(migrated, 'SELECT COUNT(*) AS n FROM mon_key_lookup'), 3);
        const mon = await createMonitorService({ db: migrated, clock: () => ts(10) });
        for (let h = 0; h < 6; h++)
          assert.equal((await mon.queries.list({ requestId: `old-${h}` })).rows.length, 1, `old-${h}`);
        // The same key at the same time is a duplicate; at another time it is another event.
        await assert.rejects(insert(migrated, ts(1), dedupeKeyOf('old-1', null), 'old-1'));
        await insert(migrated, ts(4) + 1, dedupeKeyOf('old-4', null), 'old-4');
        assert.equal((await mon.queries.list({ requestId: 'old-4' })).rows.length, 2);
      } finally {
        await migrated.close();
      }
    });
  });
}
