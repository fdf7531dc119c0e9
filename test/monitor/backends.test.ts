// The same monitoring storage checks on SQLite and on a real PostgreSQL server: migration, dedupe,
// rollups equal to raw sums, cursor paging, retention.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compactPairs } from '../../src/monitor/compact.ts';
import { applyRetention } from '../../src/monitor/retention.ts';
import { createMonitorService } from '../../src/monitor/service.ts';
import type { Db, SqlValue } from '../../src/store/db.ts';
import { openStore } from '../../src/store/open.ts';
import { generateRecords } from '../support/monitor-events.ts';
import { type PostgresServer, startPostgres } from '../support/postgres.ts';

const pg: PostgresServer | null = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'cf-monback-'));
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 10, 0, 7);
const records = [...generateRecords(2000, { start: START, stepMs: 9000, seed: 21 })].map((r) => JSON.stringify(r));

const backends: Array<{ name: string; open: () => Promise<Db>; skip: string | false }> = [
  { name: 'sqlite', open: () => openStore({ databaseUrl: `sqlite:${join(dir, 'b.db')}` }), skip: false },
  {
    name: 'postgres',
    open: async () => openStore({ databaseUrl: await pg!.createDatabase('monitor') }),
    skip: pg ? false : 'PostgreSQL unavailable (see message above)',
  },
];

for (const backend of backends) {
  describe(`monitor storage on ${backend.name}`, () => {
    test('ingest, dedupe, rollups = raw, paging, retention', { skip: backend.skip }, async () => {
      const db = await backend.open();
      try {
        const mon = await createMonitorService({ db, clock: () => START + 6 * HOUR });
        const first = await mon.ingest.ingestRaw(records);
        assert.equal(first.inserted, records.length);
        const again = await mon.ingest.ingestRaw(records.slice(0, 300));
        assert.deepEqual([again.inserted, again.duplicates], [0, 300]);

        const f = { from: Date.UTC(2026, 10, 10, 1), to: Date.UTC(2026, 10, 10, 4) };
        const viaRollup = await mon.queries.summary(f);
        const viaRaw = await mon.queries.summary({ ...f, maxLatencyMs: 1e9 });
        assert.equal(viaRollup.source, 'rollup');
        assert.equal(viaRaw.source, 'raw');
        assert.deepEqual(
          [viaRollup.requests, viaRollup.failures, viaRollup.tokens, viaRollup.latencyP95Ms],
          [viaRaw.requests, viaRaw.failures, viaRaw.tokens, viaRaw.latencyP95Ms],
        );
        assert.ok(Math.abs((viaRollup.costUsd ?? 0) - (viaRaw.costUsd ?? 0)) < 1e-6);

        const accounts = await mon.queries.accounts({});
        assert.equal(
          accounts.reduce((a, r) => a + r.requests, 0),
          records.length,
        );

        assert.ok((await compactPairs(db, START + 6 * HOUR)) >= 6);
        // Pair rollups (account × API key, cache state, failures only, min latency on a class bound)
        // answer like the raw path (maxLatencyMs: 1e9 forces it; every event has a latency) and like
        // a direct count over raw rows.
        const key = await db.get<{ id: number; hash: string }>('SELECT id, hash FROM mon_api_key ORDER BY id LIMIT 1');
        assert.ok(key);
        const account = accounts[0].key as string;
        const accountId = await db.get<{ id: number }>('SELECT id FROM mon_dict WHERE kind = 6 AND value = ?', [
          account,
        ]);
        const ragged = { from: START + 37 * 60_000, to: START + 5 * HOUR + 11 * 60_000 };
        const cells: Array<[Record<string, unknown>, string, SqlValue[]]> = [
          [{ account, apiKey: key.hash }, 'account_id = ? AND api_key_id = ?', [Number(accountId?.id), Number(key.id)]],
          [{ apiKey: key.hash }, 'api_key_id = ?', [Number(key.id)]],
          [{ cacheState: 'hit' }, 'cache_state = 1', []],
          [{ outcome: 'failure', account }, 'failed = 1 AND account_id = ?', [Number(accountId?.id)]],
          [{ minLatencyMs: 1000 }, 'latency_ms >= 1000', []],
          [{ status: 429, account }, 'status = 429 AND account_id = ?', [Number(accountId?.id)]],
          [{ failureType: 'usage_limit_reached' }, 'failed = 1 AND status = 429', []],
        ];
        for (const [extra, where, params] of cells) {
          for (const range of [ragged, {}] as Array<{ from?: number; to?: number }>) {
            const filter = { ...range, ...extra };
            const direct = await db.get<{ n: number }>(
              `SELECT COUNT(*) AS n FROM mon_event WHERE ${where}${range.from ? ' AND ts >= ? AND ts < ?' : ''}`,
              range.from ? [...params, range.from, range.to ?? 0] : params,
            );
            const s = await mon.queries.summary(filter);
            const raw = await mon.queries.summary({ ...filter, maxLatencyMs: 1e9 });
            assert.equal(s.requests, Number(direct?.n), JSON.stringify(filter));
            // Account × API key rows are by day: a range inside one day is raw edges only.
            if (!(range.from && 'apiKey' in extra && 'account' in extra))
              assert.notEqual(s.source, 'raw', JSON.stringify(filter));
            assert.deepEqual([s.failures, s.tokens, s.latencyP95Ms], [raw.failures, raw.tokens, raw.latencyP95Ms]);
            for (const view of ['accounts', 'apiKeys'] as const) {
              const rows = await mon.queries[view](filter);
              const rawRows = await mon.queries[view]({ ...filter, maxLatencyMs: 1e9 });
              const norm = (g: typeof rows) => g.map((x) => JSON.stringify([x.key, x.requests, x.tokens])).sort();
              assert.deepEqual(norm(rows), norm(rawRows), `${view} ${JSON.stringify(filter)}`);
            }
          }
        }

        const ids = new Set<number>();
        let cursor: string | null = null;
        do {
          const page = await mon.queries.list({ outcome: 'failure' }, { limit: 25, cursor });
          for (const r of page.rows) ids.add(r.id);
          cursor = page.nextCursor;
        } while (cursor);
        assert.equal(ids.size, (await mon.queries.summary({})).failures);

        const r = await applyRetention(
          db,
          { rawDays: 1, minuteRollupDays: 1, hourRollupDays: 30 },
          START + 2 * HOUR + 86_400_000,
        );
        assert.ok(r.deletedEvents > 0);
        const left = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event');
        assert.equal(Number(left?.n), records.length - r.deletedEvents);
        assert.equal((await mon.queries.summary({})).requests, records.length, 'hour rollups keep the totals');
      } finally {
        await db.close();
      }
    });
  });
}
