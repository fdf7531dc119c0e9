// Table tests of the pure history-series rules: range steps, per-account buckets and resets, pool counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QuotaWindow } from '../domain/quota.ts';
import type { AccountForecast } from './forecast.ts';
import { accountSeries, type HistorySample, pickRange, poolSeries } from './history-series.ts';

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
