import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateRecords } from '../../test/support/monitor-events.ts';
import type { Db } from '../store/db.ts';
import { openStore } from '../store/open.ts';
import { compactPairs } from './compact.ts';
import { estimateCost } from './cost.ts';
import { CACHE_STATES } from './event.ts';
import { eventConditions, resolveFilter } from './filters.ts';
import { PAIR_KEY, PAIRS, pairMark, pairRollupSql } from './pairs.ts';
import { DEFAULT_PRICES } from './prices.ts';
import { parseUsageRecord } from './record.ts';
import { ROLLUP_SUMS } from './rollup-sums.ts';
import { createMonitorService, type MonitorService } from './service.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 1, 0, 17);
const N = 3000;
let dir: string;
let db: Db;
let mon: MonitorService;
const records = [...generateRecords(N, { start: START, stepMs: 7000, seed: 7 })];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-monq-'));
  db = await openStore({ databaseUrl: `sqlite:${join(dir, 'm.db')}` });
  mon = await createMonitorService({ db, clock: () => START + 30 * HOUR });
  for (let i = 0; i < N; i += 500) await mon.ingest.ingestRaw(records.slice(i, i + 500).map((r) => JSON.stringify(r)));
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

// The expected answer, computed the slow obvious way from the parsed records.
function expected(pred: (r: Record<string, unknown>) => boolean) {
  let requests = 0;
  let failures = 0;
  let input = 0;
  let cost = 0;
  for (const r of records.filter(pred)) {
    const p = parseUsageRecord(r, { keyHashSecret: 'x' });
    assert.ok(p.ok);
    requests++;
    if (p.event.failed) failures++;
    input += p.event.tokens.input;
    cost +=
      estimateCost(
        DEFAULT_PRICES,
        { provider: p.event.provider, model: p.event.model, tier: p.event.serviceTier },
        p.event.tokens,
      ) ?? 0;
  }
  return { requests, failures, input, cost };
}

const inRange = (from: number, to: number) => (r: Record<string, unknown>) => {
  const t = Date.parse(r.timestamp as string);
  return t >= from && t < to;
};

test('summary over ragged hours (rollups + raw edges) matches a direct count', async () => {
  const from = START + 25 * 60_000;
  const to = START + 4 * HOUR + 13 * 60_000;
  const s = await mon.queries.summary({ from, to });
  const want = expected(inRange(from, to));
  assert.equal(s.source, 'mixed');
  assert.equal(s.requests, want.requests);
  assert.equal(s.failures, want.failures);
  assert.equal(s.tokens.input, want.input);
  assert.ok(Math.abs((s.costUsd ?? 0) - want.cost) < 1e-6);
  assert.ok(s.unpricedRequests > 0, 'sim-model is unpriced');
  assert.deepEqual(s.unpricedModels, ['sim-model']);
  assert.ok(s.latencyP50Ms !== null && s.latencyP95Ms !== null && s.latencyP50Ms <= s.latencyP95Ms);
});

test('rollup path and raw path agree (a max latency filter forces raw)', async () => {
  const f = { from: Date.UTC(2026, 10, 1, 1), to: Date.UTC(2026, 10, 1, 7) };
  const viaRollup = await mon.queries.summary(f);
  const viaRaw = await mon.queries.summary({ ...f, maxLatencyMs: 1e9 });
  assert.equal(viaRollup.source, 'rollup');
  assert.equal(viaRaw.source, 'raw');
  assert.equal(viaRollup.requests, viaRaw.requests);
  assert.equal(viaRollup.latencyP95Ms, viaRaw.latencyP95Ms);
  assert.equal(viaRollup.tokens.total, viaRaw.tokens.total);
  assert.ok(Math.abs((viaRollup.costUsd ?? 0) - (viaRaw.costUsd ?? 0)) < 1e-6);
});

test('account overview: failures per account add up; filters by one account', async () => {
  const rows = await mon.queries.accounts({});
  assert.equal(
    rows.reduce((a, r) => a + r.requests, 0),
    N,
  );
  assert.equal(
    rows.reduce((a, r) => a + r.failures, 0),
    expected(() => true).failures,
  );
  assert.ok(rows[0].failures >= rows[rows.length - 1].failures);
  const one = rows[0].key as string;
  const s = await mon.queries.summary({ account: one });
  assert.equal(s.requests, rows[0].requests);
  assert.equal(s.requests, expected((r) => r.auth_index === one).requests);
});

test('API key summary shows masked labels only', async () => {
  const rows = await mon.queries.apiKeys({});
  assert.ok(rows.length > 1);
  for (const r of rows) assert.match(r.key ?? '', /^sk-…[a-z]{4}$/);
  assert.ok(!JSON.stringify(rows).includes('sk-client-'));
});

test('list: newest first, cursor pages without gaps or repeats, filters combine', async () => {
  const seen = new Set<number>();
  let cursor: string | null = null;
  let last = Number.POSITIVE_INFINITY;
  const filter = { outcome: 'failure' as const, model: 'gpt-5-codex' };
  do {
    const page = await mon.queries.list(filter, { limit: 37, cursor });
    for (const r of page.rows) {
      assert.ok(!seen.has(r.id));
      seen.add(r.id);
      assert.ok(r.timestamp <= last);
      last = r.timestamp;
      assert.equal(r.failed, true);
      assert.equal(r.model, 'gpt-5-codex');
      assert.ok(r.failure?.statusCode);
    }
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(seen.size, expected((r) => r.failed === true && r.model === 'gpt-5-codex').requests);
});

test('request id filter and one-request detail: sanitized summary, no raw body', async () => {
  const failing = records.find((r) => r.failed && String((r.fail as { body: string }).body).includes('alice@'));
  assert.ok(failing);
  const page = await mon.queries.list({ requestId: failing.request_id as string });
  assert.equal(page.rows.length, 1);
  const detail = await mon.queries.request(page.rows[0].id);
  const text = JSON.stringify(detail);
  assert.ok(!text.includes('alice@example.com'));
  assert.match(text, /\[email\]/);
  assert.equal(
    (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_failure_raw WHERE event_id = ?', [page.rows[0].id]))?.n,
    1,
  );
});

test('unknown filter values match nothing; duplicates are not counted twice', async () => {
  assert.equal((await mon.queries.summary({ model: 'never-seen' })).requests, 0);
  const again = await mon.ingest.ingestRaw(records.slice(0, 100).map((r) => JSON.stringify(r)));
  assert.equal(again.inserted, 0);
  assert.equal(again.duplicates, 100);
  assert.equal((await mon.queries.summary({})).requests, N);
});

test('malformed records are quarantined once and counted, never crash', async () => {
  const bad = [
    '{"timestamp":',
    'null',
    '{"timestamp":"2026-01-01T00:00:00Z","model":"x","tokens":{"input_tokens":-1}}',
  ];
  const r1 = await mon.ingest.ingestRaw([...bad, JSON.stringify(records[0])]);
  assert.equal(r1.quarantined, 3);
  await mon.ingest.ingestRaw(bad);
  const q = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_quarantine');
  assert.equal(Number(q?.n), 3);
});

test('multi-day ranges: day + hour rollups + raw edges equal the raw answer', async () => {
  const d2 = mkdtempSync(join(tmpdir(), 'cf-monq-days-'));
  const db2 = await openStore({ databaseUrl: `sqlite:${join(d2, 'm.db')}` });
  try {
    const start = Date.UTC(2026, 10, 1, 3, 11);
    const mon2 = await createMonitorService({ db: db2, clock: () => start + 8 * 86_400_000 });
    const recs = [...generateRecords(2500, { start, stepMs: 250_000, seed: 31 })].map((r) => JSON.stringify(r));
    await mon2.ingest.ingestRaw(recs);
    const f = { from: Date.UTC(2026, 10, 2, 5, 17), to: Date.UTC(2026, 10, 6, 13, 42) };
    const viaRollup = await mon2.queries.summary(f);
    const viaRaw = await mon2.queries.summary({ ...f, maxLatencyMs: 1e9 });
    assert.equal(viaRollup.source, 'mixed');
    assert.deepEqual(
      [viaRollup.requests, viaRollup.failures, viaRollup.tokens, viaRollup.latencyP95Ms],
      [viaRaw.requests, viaRaw.failures, viaRaw.tokens, viaRaw.latencyP95Ms],
    );
    const days = await db2.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_rollup WHERE grain = 86400000');
    assert.ok(Number(days?.n) > 0);
    const accounts = await mon2.queries.accounts(f);
    assert.equal(
      accounts.reduce((a, r) => a + r.requests, 0),
      viaRaw.requests,
    );
  } finally {
    await db2.close();
    rmSync(d2, { recursive: true, force: true });
  }
});

test('failure filters read the partial index over failed events and count what a direct count finds', async () => {
  const from = START;
  const to = START + 20 * HOUR;
  const fail = records.find((r) => (r as { fail?: { status_code?: number } }).fail?.status_code === 429);
  assert.ok(fail, 'the fixture has a 429');
  const s429 = await mon.queries.summary({ from, to, status: 429 });
  const direct = await db.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM mon_event WHERE ts >= ? AND ts < ? AND status = 429',
    [from, to],
  );
  assert.equal(s429.requests, Number(direct?.n));
  assert.ok(s429.requests > 0);
  const failures = await mon.queries.accounts({ from, to, outcome: 'failure' });
  const directFailures = await db.get<{ n: number }>(
    'SELECT COUNT(*) AS n FROM mon_event WHERE ts >= ? AND ts < ? AND failed = 1',
    [from, to],
  );
  assert.equal(
    failures.reduce((n, g) => n + g.requests, 0),
    Number(directFailures?.n),
  );
  const plan = await db.query<{ detail: string }>(
    'EXPLAIN QUERY PLAN SELECT COUNT(*) FROM mon_event e WHERE e.ts >= ? AND e.ts < ? AND e.failed = 1 AND e.status = ?',
    [from, to, 429],
  );
  assert.ok(
    plan.some((p) => p.detail.includes('mon_event_failed_ts')),
    JSON.stringify(plan),
  );
  // The realtime list of one account's failures (migration 230) walks that account's failures only.
  const accountPlan = await db.query<{ detail: string }>(
    `EXPLAIN QUERY PLAN SELECT e.id FROM mon_event e WHERE e.ts >= ? AND e.ts < ? AND e.model_id = ?
     AND e.account_id = ? AND e.failed = 1 ORDER BY e.ts DESC, e.id DESC LIMIT 51`,
    [from, to, 1, 1],
  );
  assert.ok(
    accountPlan.some((p) => p.detail.includes('mon_event_failed_account_ts')),
    JSON.stringify(accountPlan),
  );
  const one = failures[0];
  const page = await mon.queries.list({ from, to, account: one.key as string, outcome: 'failure' }, { limit: 1000 });
  assert.equal(page.rows.length, one.requests);
});

test('a min latency of 10 s or more reads the partial index over slow events and counts what a direct count finds', async () => {
  const from = START;
  const to = START + 20 * HOUR;
  for (const min of [10_000, 12_345]) {
    const direct = await db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM mon_event WHERE ts >= ? AND ts < ? AND latency_ms >= ?',
      [from, to, min],
    );
    assert.ok(Number(direct?.n) > 0, 'the fixture has slow requests');
    const byAccount = await mon.queries.accounts({ from, to, minLatencyMs: min });
    assert.equal(
      byAccount.reduce((n, g) => n + g.requests, 0),
      Number(direct?.n),
    );
    assert.equal((await mon.queries.summary({ from, to, minLatencyMs: min })).requests, Number(direct?.n));
  }
  // The SQL the views build for such a filter (src/monitor/filters.ts) names the index's condition.
  const cond = eventConditions(await resolveFilter(mon.queries.dict, { minLatencyMs: 12_345 }), from, to);
  const plan = await db.query<{ detail: string }>(
    `EXPLAIN QUERY PLAN SELECT e.account_id, COUNT(*) FROM mon_event e WHERE ${cond.sql} GROUP BY e.account_id`,
    cond.params,
  );
  assert.ok(
    plan.some((p) => p.detail.includes('mon_event_slow_ts')),
    JSON.stringify(plan),
  );
  // Below the bound the condition is not implied, so it is not added (the index would miss rows).
  const low = eventConditions(await resolveFilter(mon.queries.dict, { minLatencyMs: 5000 }), from, to);
  assert.ok(!low.sql.includes('>= 10000'), low.sql);
});

test('pair rollups (account × API key, cache state, failures only) answer every view like raw rows and a direct count', async () => {
  const d2 = mkdtempSync(join(tmpdir(), 'cf-monq-pairs-'));
  const db2 = await openStore({ databaseUrl: `sqlite:${join(d2, 'm.db')}` });
  try {
    const start = Date.UTC(2026, 10, 1, 3, 11);
    const mon2 = await createMonitorService({ db: db2, clock: () => start + 8 * 86_400_000 });
    const recs = [...generateRecords(3000, { start, stepMs: 200_000, seed: 57, failureRate: 0.2 })];
    // Half before compaction, half after it: those land in compacted buckets and are folded in by
    // the ingest transaction (late events), the rest were compacted from raw rows.
    const late = recs.filter((_, i) => i % 2 === 1);
    await mon2.ingest.ingestRaw(recs.filter((_, i) => i % 2 === 0).map((r) => JSON.stringify(r)));
    assert.ok((await compactPairs(db2, start + 8 * 86_400_000)) > 7 * 24);
    const mark = await pairMark(db2);
    assert.equal(mark, Date.UTC(2026, 10, 9, 3));
    for (let i = 0; i < late.length; i += 400)
      await mon2.ingest.ingestRaw(late.slice(i, i + 400).map((r) => JSON.stringify(r)));
    const q = mon2.queries;
    const accounts = await q.accounts({});
    const keys = await q.apiKeys({});
    const account = accounts[0].key as string;
    assert.ok(keys.length > 1);
    // By hash: masked labels can repeat (sk-…ijkl) and would not name one key.
    const key = await db2.get<{ hash: string; label: string }>(
      'SELECT hash, label FROM mon_api_key ORDER BY id LIMIT 1',
    );
    assert.ok(key);
    const apiKey = key.hash;
    const range = { from: Date.UTC(2026, 10, 2, 5, 17), to: Date.UTC(2026, 10, 6, 13, 42) };
    const filters = [
      { account, apiKey },
      { apiKey },
      { account },
      { cacheState: 'hit' as const },
      { cacheState: 'miss' as const, account },
      { outcome: 'failure' as const },
      { outcome: 'failure' as const, apiKey },
      { minLatencyMs: 0 },
      { minLatencyMs: 1000 },
      { minLatencyMs: 10_000, account },
      { minLatencyMs: 2000, apiKey },
      { minLatencyMs: 1234 },
      { status: 429, account },
      { status: 200, apiKey },
      { failureType: 'usage_limit_reached' },
      { failureType: 'usage_limit_reached', account },
    ];
    const views = ['summary', 'accounts', 'apiKeys', 'models'] as const;
    const shape = (t: { requests: number; failures: number; tokens: unknown; latencyP95Ms: number | null }) => [
      t.requests,
      t.failures,
      t.tokens,
      t.latencyP95Ms,
    ];
    let viaPairs = 0;
    for (const f0 of filters) {
      for (const f of [{ ...range, ...f0 }, f0]) {
        // maxLatencyMs: 1e9 keeps every event (all have a latency) but forces the raw path: the reference.
        const raw = { ...f, maxLatencyMs: 1e9 };
        for (const v of views) {
          if (v === 'summary') {
            const got = await q.summary(f);
            const want = await q.summary(raw);
            assert.equal(want.source, 'raw');
            if (got.source !== 'raw') viaPairs++;
            assert.deepEqual(shape(got), shape(want), `summary ${JSON.stringify(f)}`);
            assert.ok(Math.abs((got.costUsd ?? 0) - (want.costUsd ?? 0)) < 1e-6);
            continue;
          }
          const got = await q[v](f);
          const want = await q[v](raw);
          // Masked key labels can repeat (sk-…ijkl), so compare the sorted rows, not a map by label.
          const byKey = (rows: typeof got) => rows.map((g) => JSON.stringify([g.key, shape(g)])).sort();
          assert.deepEqual(byKey(got), byKey(want), `${v} ${JSON.stringify(f)}`);
        }
      }
    }
    assert.ok(viaPairs >= filters.length, `pair rollups answered ${viaPairs} summaries`);
    // A direct count over raw rows for the two-dimension and cache-state cells.
    const ids = await db2.get<{ a: number; k: number }>(
      `SELECT (SELECT id FROM mon_dict WHERE kind = 6 AND value = ?) AS a,
              (SELECT id FROM mon_api_key WHERE hash = ?) AS k`,
      [account, apiKey],
    );
    const direct = await db2.get<{ n: number; hits: number }>(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN cache_state = 1 THEN 1 ELSE 0 END) AS hits
       FROM mon_event WHERE ts >= ? AND ts < ? AND account_id = ? AND api_key_id = ?`,
      [range.from, range.to, ids?.a ?? null, ids?.k ?? null],
    );
    const both = await q.summary({ ...range, account, apiKey });
    assert.equal(both.requests, Number(direct?.n));
    assert.notEqual(both.source, 'raw');
    const perKey = await q.apiKeys({ ...range, account });
    assert.ok(perKey.some((g) => g.key === key.label && g.requests === Number(direct?.n)));
    const hits = await db2.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM mon_event WHERE ts >= ? AND ts < ? AND cache_state = ?',
      [range.from, range.to, CACHE_STATES.indexOf('hit')],
    );
    assert.equal((await q.summary({ ...range, cacheState: 'hit' })).requests, Number(hits?.n));
    const slow = await db2.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM mon_event WHERE ts >= ? AND ts < ? AND latency_ms >= 1000',
      [range.from, range.to],
    );
    const slowView = await q.summary({ ...range, minLatencyMs: 1000 });
    assert.equal(slowView.requests, Number(slow?.n));
    assert.notEqual(slowView.source, 'raw');
    const all = await db2.get<{ n: number }>('SELECT COUNT(*) AS n FROM mon_event WHERE latency_ms IS NOT NULL');
    assert.equal(Number(all?.n), recs.length, 'every fixture event has a latency, so maxLatencyMs: 1e9 keeps all');
    // The bulk SQL (migration backfill, benchmark fill) builds exactly the rows the collector folded.
    const dump = () =>
      db2.query(`SELECT * FROM mon_rollup_pair ORDER BY ${PAIR_KEY.join(', ')}`).then((r) => JSON.stringify(r));
    const folded = await dump();
    await db2.exec('DELETE FROM mon_rollup_pair');
    for (const p of PAIRS) for (const g of p.grains) await db2.run(pairRollupSql(ROLLUP_SUMS, g, p), [0]);
    await db2.run('DELETE FROM mon_rollup_pair WHERE bucket + grain > ?', [mark]);
    assert.equal(await dump(), folded);
  } finally {
    await db2.close();
    rmSync(d2, { recursive: true, force: true });
  }
});
