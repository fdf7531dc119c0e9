// Table tests of the pure history-series rules: range steps, per-account buckets and resets, pool counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QuotaWindow } from '../domain/quota.ts';
import type { AccountForecast } from './forecast.ts';
import {
  accountSeries,
  applyPoolMember,
  emptyPoolTotals,
  type HistorySample,
  PoolSummaryBuilder,
  pickRange,
  poolMember,
  poolSeries,
  poolSeriesFromSummary,
} from './history-series.ts';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 0, 5);

function win(kind: '5h' | 'weekly', remaining: number, resetsAt: number): QuotaWindow {
  return {
    kind,
    scope: kind === '5h' ? 'primary' : 'secondary',
    limitName: null,
    usedPercent: 100 - remaining,
    remainingPercent: remaining,
    windowSeconds: kind === '5h' ? 18_000 : 604_800,
    resetAfterSeconds: null,
    resetsAt: new Date(resetsAt).toISOString(),
  };
}
const sample = (accountId: string, at: number, rem5h: number, reset5h: number, state = 'ok'): HistorySample => ({
  accountId,
  fetchedAt: at,
  state: state as HistorySample['state'],
  transient: false,
  windows: [win('5h', rem5h, reset5h), win('weekly', 80, T0 + 6 * D)],
});

test('pickRange: the smallest step that keeps the range within maxPoints, bounds aligned', () => {
  const cases: Array<[number, number, number]> = [
    [H, 240, 60_000],
    [D, 240, 15 * 60_000],
    [7 * D, 240, H],
    [30 * D, 240, 6 * H], // 3 h would be 241 buckets once the unaligned start is rounded down
    [30 * D, 200, 6 * H],
    [30 * D, 1000, H],
  ];
  for (const [span, max, step] of cases) {
    const r = pickRange(T0 + 1234, T0 + 1234 + span, max);
    assert.equal(r.stepMs, step, `span ${span / H}h, max ${max}`);
    assert.equal(r.from % step, 0);
    assert.ok((r.to - r.from) / step <= max, 'never more buckets than asked, after alignment');
  }
  assert.throws(() => pickRange(T0, T0), /from must be before to/);
});

test('accountSeries: last sample per bucket, null gaps, a reset marker where the window moved on', () => {
  const range = { from: T0, to: T0 + 6 * H, stepMs: H };
  const samples = [
    sample('a', T0 + 10 * 60_000, 90, T0 + 2 * H),
    sample('a', T0 + 50 * 60_000, 70, T0 + 2 * H),
    sample('a', T0 + 3 * H, 100, T0 + 7 * H), // after the reset at T0+2h
    { ...sample('a', T0 + 4 * H, 0, T0 + 7 * H), transient: true }, // a transient failure says nothing
  ];
  const s = accountSeries('a', samples, range, null);
  assert.deepEqual(s.t.length, 6);
  assert.deepEqual(s.remaining['5h'], [70, null, null, 100, null, null]);
  assert.deepEqual(s.remaining.weekly, [80, null, null, 80, null, null]);
  assert.deepEqual(s.resets, [{ kind: '5h', at: T0 + 2 * H }]);
  assert.deepEqual(s.projections, []);
});

test('accountSeries: the projection runs at the burn rate until the run-out before the reset', () => {
  const range = { from: T0, to: T0 + 6 * H, stepMs: H };
  const forecast: AccountForecast = {
    accountId: 'a',
    name: 'a',
    usable: true,
    exhaustedNow: false,
    runsOutAt: T0 + 8 * H,
    capacityReturnsAt: T0 + 10 * H,
    confidence: 'high',
    windows: [
      {
        kind: '5h',
        usedPercent: 60,
        sampledAt: T0 + 4 * H,
        samples: 5,
        spanMinutes: 120,
        burnRatePerHour: 10,
        resetsAt: T0 + 10 * H,
        exhaustsAt: T0 + 8 * H,
        exhausted: false,
        alarm: true,
        confidence: 'high',
        note: '',
      },
    ],
  };
  const s = accountSeries('a', [], range, forecast);
  // The horizon is a quarter of the range past its end (T0+7.5h), before the run-out.
  assert.deepEqual(s.projections[0].points, [
    [T0 + 4 * H, 40],
    [T0 + 7.5 * H, 5],
  ]);
  assert.equal(s.projections[0].runsOutAt, T0 + 8 * H);
  assert.equal(s.runsOutAt, T0 + 8 * H);
});

test('poolSeries: latest sample per account carried forward; usable counts and mean remaining', () => {
  const range = { from: T0, to: T0 + 4 * H, stepMs: H };
  const samples = [
    sample('a', T0 + 30 * 60_000, 50, T0 + 5 * H),
    sample('b', T0 + H + 60_000, 30, T0 + 5 * H),
    sample('a', T0 + 2 * H + 60_000, 0, T0 + 5 * H, 'exhausted'),
    sample('c', T0 + 3 * H, 10, T0 + 5 * H, 'auth_invalid'),
  ];
  const p = poolSeries(samples, range, null);
  assert.deepEqual(p.known, [1, 2, 2, 3]);
  assert.deepEqual(p.usable, [1, 2, 1, 1]);
  assert.deepEqual(p.meanRemaining['5h'], [50, 40, 15, 13.3]);
  assert.deepEqual(p.meanRemaining.monthly, [null, null, null, null]);
  assert.deepEqual(poolSeries([], range, null).usable, [null, null, null, null]);
});

test('poolMember: usable when ok and no main window it reports is at 0%', () => {
  const cases: Array<[string, HistorySample['state'], QuotaWindow[], boolean, Array<number | null>]> = [
    ['ok, both windows left', 'ok', [win('5h', 40, T0), win('weekly', 80, T0)], true, [40, 80, null]],
    ['ok, 5h at 0%', 'ok', [win('5h', 0, T0), win('weekly', 80, T0)], false, [0, 80, null]],
    ['ok, no windows known', 'ok', [], true, [null, null, null]],
    ['exhausted', 'exhausted', [win('5h', 10, T0)], false, [10, null, null]],
    ['auth_invalid', 'auth_invalid', [], false, [null, null, null]],
    [
      'a code-review window does not count',
      'ok',
      [{ ...win('5h', 0, T0), scope: 'code_review' as QuotaWindow['scope'] }],
      true,
      [null, null, null],
    ],
  ];
  for (const [name, state, windows, usable, rem] of cases) {
    const m = poolMember({ state, windows });
    assert.equal(m.usable, usable, name);
    assert.deepEqual([m.remaining['5h'], m.remaining.weekly, m.remaining.monthly], rem, name);
  }
});

test('applyPoolMember: an account joins, changes, and is counted once', () => {
  const a1 = poolMember({ state: 'ok', windows: [win('5h', 50, T0)] });
  const a2 = poolMember({ state: 'exhausted', windows: [win('5h', 0, T0), win('weekly', 20, T0)] });
  const b = poolMember({ state: 'ok', windows: [win('5h', 30, T0)] });
  const steps: Array<
    [string, ReturnType<typeof poolMember> | null, ReturnType<typeof poolMember>, number, number, number, number]
  > = [
    // name, before, after, known, usable, sum 5h, count weekly
    ['a joins', null, a1, 1, 1, 50, 0],
    ['b joins', null, b, 2, 2, 80, 0],
    ['a runs out', a1, a2, 2, 1, 30, 1],
  ];
  let t = emptyPoolTotals();
  for (const [name, before, after, known, usable, sum5h, nWeekly] of steps) {
    const next = applyPoolMember(t, before, after);
    assert.notEqual(next, t, 'a new object: the totals passed in are not changed');
    t = next;
    assert.deepEqual([t.known, t.usable, t.sum['5h'], t.count.weekly], [known, usable, sum5h, nWeekly], name);
  }
});

test('PoolSummaryBuilder: one row per minute holding a sample, each the pool at that minute; an older sample of an account counts for nothing', () => {
  const b = new PoolSummaryBuilder();
  b.add(sample('a', T0 + 1_000, 50, T0 + 5 * H));
  b.add(sample('b', T0 + 30_000, 30, T0 + 5 * H));
  b.add(sample('a', T0 + 20_000, 0, T0 + 5 * H, 'exhausted')); // a again, newer: it replaces a's part
  b.add(sample('b', T0 + 10_000, 99, T0 + 5 * H)); // older than b's latest: ignored
  b.add(sample('a', T0 + 3 * 60_000, 70, T0 + 5 * H));
  assert.deepEqual(
    b.takeClosed().map((r) => [r.bucketAt, r.known, r.usable, r.sum['5h']]),
    [[T0, 2, 1, 30]],
  );
  assert.deepEqual(
    b.take().map((r) => [r.bucketAt, r.known, r.usable, r.sum['5h']]),
    [[T0 + 3 * 60_000, 2, 2, 100]],
  );
  assert.deepEqual(b.take(), []);
});

test('poolSeriesFromSummary: newest row before each bucket ends, carried in and forward, null before the first', () => {
  const row = (bucketAt: number, known: number, usable: number, sum5h: number) => ({
    ...emptyPoolTotals(),
    bucketAt,
    known,
    usable,
    sum: { '5h': sum5h, weekly: 0, monthly: 0 },
    count: { '5h': known, weekly: 0, monthly: 0 },
  });
  const range = { from: T0, to: T0 + 4 * H, stepMs: H };
  const cases: Array<[string, ReturnType<typeof row>[], Array<number | null>, Array<number | null>]> = [
    ['empty', [], [null, null, null, null], [null, null, null, null]],
    ['starts in bucket 1', [row(T0 + H + 60_000, 2, 1, 50)], [null, 1, 1, 1], [null, 25, 25, 25]],
    [
      'carried in from before the range',
      [row(T0 - H, 3, 3, 30), row(T0 + 2 * H, 3, 0, 0)],
      [3, 3, 0, 0],
      [10, 10, 0, 0],
    ],
    [
      'the newest row of a bucket wins',
      [row(T0, 1, 1, 10), row(T0 + 59 * 60_000, 1, 0, 20)],
      [0, 0, 0, 0],
      [20, 20, 20, 20],
    ],
    [
      'a pool emptied to no accounts shows null',
      [row(T0, 1, 1, 10), row(T0 + H, 0, 0, 0)],
      [1, null, null, null],
      [10, null, null, null],
    ],
  ];
  for (const [name, rows, usable, mean5h] of cases) {
    const p = poolSeriesFromSummary(rows, range, null);
    assert.deepEqual(p.usable, usable, name);
    assert.deepEqual(p.meanRemaining['5h'], mean5h, name);
    assert.deepEqual(p.meanRemaining.weekly, [null, null, null, null], name);
  }
});
