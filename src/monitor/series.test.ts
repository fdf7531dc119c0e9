// Monitoring series: the pure bucketing rule (table test), and the store read over real SQLite, whose
// bucket sums must equal the summary view's totals on both the rollup and the raw-event path.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import { pickRange } from '../inspect/history-series.ts';
import type { Db } from '../store/db.ts';
import { openStore } from '../store/open.ts';
import { compactPairs } from './compact.ts';
import { pairMark } from './pairs.ts';
import { DEFAULT_PRICES } from './prices.ts';
import { bucketSeries, grainFor, readMonitorSeries, type SeriesRow } from './series.ts';
import { createMonitorService, type MonitorService } from './service.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 10, 1, 0, 17);
let dir: string;
let db: Db;
let mon: MonitorService;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-monseries-'));
  db = await openStore({ databaseUrl: `sqlite:${join(dir, 'm.db')}` });
  mon = await createMonitorService({ db, clock: () => START + 30 * HOUR });
  const records = [...generateRecords(3000, { start: START, stepMs: 20_000, seed: 3, failureRate: 0.1 })];
  for (let i = 0; i < records.length; i += 500)
    await mon.ingest.ingestRaw(records.slice(i, i + 500).map((r) => JSON.stringify(r)));
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (bucket: number, requests: number, failures: number, fast: number, slow: number): SeriesRow => ({
  bucket,
  provider: 'codex',
  model: 'gpt-5-codex',
  alias: null,
  tier: null,
  requests,
  failures,
  inputTokens: 1000,
  outputTokens: 100,
  reasoningTokens: 0,
  cachedTokens: 0,
  totalTokens: 1100,
  // bucket 0 (≤50 ms) and bucket 10 (≤5 s)
  hist: Array.from({ length: 16 }, (_, i) => (i === 0 ? fast : i === 10 ? slow : 0)),
});

test('grainFor: the largest rollup grain that divides the step', () => {
  for (const [step, grain] of [
    [MIN, MIN],
    [15 * MIN, MIN],
    [HOUR, HOUR],
    [6 * HOUR, HOUR],
    [24 * HOUR, 24 * HOUR],
  ])
    assert.equal(grainFor(step), grain);
  assert.throws(() => grainFor(1500), /whole number of minutes/);
});

test('bucketSeries: rows summed into aligned buckets; percentiles from the merged histogram; gaps are zero', () => {
  const w = { from: 0, to: 3 * HOUR, stepMs: HOUR };
  const s = bucketSeries(
    w,
    [row(0, 10, 1, 10, 0), row(0, 10, 0, 0, 10), row(2 * HOUR, 4, 4, 0, 4), row(9 * HOUR, 99, 0, 99, 0)],
    [
      { bucket: 0, status: 429, failures: 1 },
      { bucket: 2 * HOUR, status: 500, failures: 4 },
    ],
    DEFAULT_PRICES,
    'rollup',
  );
  assert.deepEqual(s.t, [0, HOUR, 2 * HOUR]);
  assert.deepEqual(s.requests, [20, 0, 4]);
  assert.deepEqual(s.failures, [1, 0, 4]);
  assert.deepEqual(s.failuresByStatus, { 429: [1, 0, 0], 500: [0, 0, 4] });
  assert.deepEqual(s.tokens, [2200, 0, 1100]);
  assert.equal(s.latencyP50Ms === null, false);
  assert.ok((s.latencyP95Ms[0] ?? 0) > (s.latencyP50Ms[0] ?? 0), 'p95 above p50 when half the requests are slow');
  assert.equal(s.latencyP50Ms[1], null);
  assert.equal(s.costUsd[1], null);
  assert.ok((s.costUsd[0] ?? 0) > 0);
});

test('readMonitorSeries: bucket sums equal the summary on the rollup path and on the raw path', async () => {
  // 15-minute steps (minute rollups) and 3-hour steps (hour rollups with every dimension).
  for (const maxPoints of [100, 10])
    for (const filter of [{}, { outcome: 'failure' as const }, { model: 'gpt-5-codex' }, { status: 429 }]) {
      const w = pickRange(START, START + 17 * HOUR, maxPoints);
      const s = await readMonitorSeries(mon, filter, w);
      // The answer's own window: a filtered window of minute steps is widened to whole hours.
      const sum = await mon.queries.summary({ ...filter, from: s.from, to: s.to });
      const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
      assert.equal(total(s.requests), sum.requests, `requests for ${JSON.stringify(filter)}`);
      assert.equal(total(s.failures), sum.failures, `failures for ${JSON.stringify(filter)}`);
      assert.equal(total(s.tokens), sum.tokens.total);
      assert.equal(s.source, 'outcome' in filter ? 'raw' : 'rollup');
      if ('status' in filter && w.stepMs < HOUR) assert.equal(s.stepMs, HOUR, 'read at hour steps from the rollups');
      const byStatus = Object.values(s.failuresByStatus).flat();
      assert.equal(total(byStatus), sum.failures, 'failures by status add up');
      assert.ok(sum.requests > 0);
    }
});

test('readMonitorSeries: one account or API key takes failures by status from the pair rollups before the mark, raw after', async () => {
  const accounts = await mon.queries.accounts({ from: START, to: START + 30 * HOUR });
  const keys = await mon.queries.apiKeys({ from: START, to: START + 30 * HOUR });
  const account = accounts.find((a) => a.failures > 1)?.key;
  const apiKey = keys.find((k) => k.failures > 1)?.key;
  assert.ok(account && apiKey, 'the fixture has an account and a key with failures');
  const filters = [{ account }, { apiKey }];
  const w = pickRange(START, START + 17 * HOUR, 10); // 3-hour steps: hour rollups
  const before = await Promise.all(filters.map((f) => readMonitorSeries(mon, f, w)));
  // Compact up to 9 h in: the first buckets come from pair rows, the rest from raw failed events.
  await compactPairs(db, START + 9 * HOUR);
  assert.ok((await pairMark(db)) > w.from, 'some buckets compacted');
  for (const [i, f] of filters.entries()) {
    const s = await readMonitorSeries(mon, f, w);
    const sum = await mon.queries.summary({ ...f, from: s.from, to: s.to });
    const byStatus = Object.values(s.failuresByStatus).flat();
    assert.equal(
      byStatus.reduce((x, y) => x + y, 0),
      sum.failures,
      `failures by status add up for ${JSON.stringify(f)}`,
    );
    assert.deepEqual(s.failuresByStatus, before[i].failuresByStatus, 'the same answer as from raw events alone');
  }
});
