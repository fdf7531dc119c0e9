import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QuotaSnapshot, WindowKind } from '../domain/quota.ts';
import {
  type AccountForecast,
  buildForecast,
  burnRate,
  forecastPool,
  forecastWindow,
  renderForecastText,
  samplesSinceReset,
} from './forecast.ts';
import { HOUR, MIN, makeSnapshot, T0 } from './test-fixtures.ts';

/** Snapshots of one window: [hours relative to T0, used %], all with the same absolute reset. */
function series(kind: WindowKind, points: Array<[number, number]>, resetAt: number | null): QuotaSnapshot[] {
  return points.map(([h, used]) => {
    const at = T0 + h * HOUR;
    return makeSnapshot([{ kind, used, resetIn: resetAt == null ? null : (resetAt - at) / 1000 }], at);
  });
}

describe('burn rate and reset segmentation', () => {
  it('least squares over samples', () => {
    const s = samplesSinceReset(
      series(
        '5h',
        [
          [-2, 10],
          [-1, 20],
          [0, 30],
        ],
        T0 + HOUR,
      ),
      '5h',
    );
    assert.equal(burnRate(s), 10);
    const noisy = samplesSinceReset(
      series(
        '5h',
        [
          [-3, 10],
          [-2, 22],
          [-1, 28],
          [0, 40],
        ],
        T0 + HOUR,
      ),
      '5h',
    );
    assert.ok(Math.abs((burnRate(noisy) as number) - 9.6) < 1e-9);
    assert.equal(burnRate(s.slice(0, 1)), null);
  });
  it('only samples since the last reset count: a drop in used %', () => {
    const snaps = [
      ...series(
        '5h',
        [
          [-4, 70],
          [-3.5, 90],
        ],
        T0 - 3 * HOUR,
      ),
      ...series(
        '5h',
        [
          [-1, 5],
          [0, 15],
        ],
        T0 + 4 * HOUR,
      ),
    ];
    const s = samplesSinceReset(snaps, '5h');
    assert.deepEqual(
      s.map((x) => x.used),
      [5, 15],
    );
  });
  it('a reset time that moved to a new window starts a new segment even without a drop', () => {
    const snaps = [
      ...series('weekly', [[-30, 20]], T0 - 20 * HOUR),
      ...series(
        'weekly',
        [
          [-2, 30],
          [0, 40],
        ],
        T0 + 100 * HOUR,
      ),
    ];
    assert.deepEqual(
      samplesSinceReset(snaps, 'weekly').map((x) => x.used),
      [30, 40],
    );
  });
  it('jitter in the reset time is not a new window', () => {
    const a = makeSnapshot([{ kind: '5h', used: 10, resetIn: 3600 }], T0 - HOUR);
    const b = makeSnapshot([{ kind: '5h', used: 20, resetIn: 3 }], T0 - 2000); // reset 2 s later than a's
    assert.equal(samplesSinceReset([a, b], '5h').length, 2);
  });
});

describe('forecastWindow', () => {
  const rows: Array<{
    name: string;
    kind: WindowKind & ('5h' | 'weekly' | 'monthly');
    points: Array<[number, number]>;
    resetAt: number | null;
    alarm: boolean;
    exhausted?: boolean;
    exhaustsAt?: number | null;
    confidence?: string;
    note: RegExp;
  }> = [
    {
      name: '5h window that resets before it would run out: no alarm',
      kind: '5h',
      points: [
        [-2, 40],
        [-1, 50],
        [0, 60],
      ],
      resetAt: T0 + HOUR,
      alarm: false,
      exhaustsAt: T0 + 4 * HOUR,
      note: /runs out in 4h, after its reset in 1h: no alarm/,
    },
    {
      name: '5h window that runs out first: alarm',
      kind: '5h',
      points: [
        [-2, 40],
        [-1, 50],
        [0, 60],
      ],
      resetAt: T0 + 4.5 * HOUR,
      alarm: true,
      exhaustsAt: T0 + 4 * HOUR,
      note: /runs out in 4h, before its reset in 4h 30m/,
    },
    {
      name: 'weekly burning fast: alarm',
      kind: 'weekly',
      points: [
        [-6, 10],
        [-4, 20],
        [-2, 30],
        [0, 40],
      ],
      resetAt: T0 + 72 * HOUR,
      alarm: true,
      exhaustsAt: T0 + 12 * HOUR,
      confidence: 'medium',
      note: /runs out in 12h, before/,
    },
    {
      name: 'many samples over hours: high confidence',
      kind: 'weekly',
      points: [
        [-5, 10],
        [-4, 11],
        [-3, 12],
        [-2, 13],
        [-1, 14],
        [0, 15],
      ],
      resetAt: T0 + 24 * HOUR,
      alarm: false,
      confidence: 'high',
      note: /no alarm/,
    },
    {
      name: 'not burning',
      kind: 'weekly',
      points: [
        [-2, 30],
        [-1, 30],
        [0, 30],
      ],
      resetAt: T0 + 24 * HOUR,
      alarm: false,
      exhaustsAt: null,
      note: /not burning/,
    },
    {
      name: 'one sample: too few samples, no alarm',
      kind: '5h',
      points: [[0, 50]],
      resetAt: T0 + HOUR,
      alarm: false,
      confidence: 'none',
      note: /too few samples \(1 over 0s\)/,
    },
    {
      name: 'two samples: low confidence',
      kind: '5h',
      points: [
        [-0.5, 50],
        [0, 60],
      ],
      resetAt: T0 + 6 * HOUR,
      alarm: true,
      confidence: 'low',
      note: /before/,
    },
    {
      name: 'exhausted now',
      kind: 'weekly',
      points: [
        [-1, 95],
        [0, 100],
      ],
      resetAt: T0 + 30 * HOUR,
      alarm: true,
      exhausted: true,
      note: /exhausted; capacity returns at its reset in 1d 6h/,
    },
    {
      name: 'reset passed since the last sample',
      kind: '5h',
      points: [
        [-3, 90],
        [-2, 99],
      ],
      resetAt: T0 - HOUR,
      alarm: false,
      confidence: 'none',
      note: /reset since the last sample/,
    },
    {
      name: 'unknown reset and burning: alarm',
      kind: 'monthly',
      points: [
        [-2, 10],
        [0, 20],
      ],
      resetAt: null,
      alarm: true,
      note: /before an unknown reset/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const w = forecastWindow(series(row.kind, row.points, row.resetAt), row.kind, T0);
      assert.ok(w);
      assert.equal(w.alarm, row.alarm, w.note);
      assert.equal(w.exhausted, row.exhausted ?? false);
      if (row.exhaustsAt !== undefined) assert.equal(w.exhaustsAt, row.exhaustsAt);
      if (row.confidence) assert.equal(w.confidence, row.confidence);
      assert.match(w.note, row.note);
    });
  }
  it('no samples for a window: no forecast (unknown, not zero)', () => {
    assert.equal(forecastWindow(series('weekly', [[0, 10]], T0 + HOUR), '5h', T0), null);
  });
});

describe('pool', () => {
  const acc = (name: string, over: Partial<AccountForecast>): AccountForecast => ({
    accountId: name,
    name,
    usable: true,
    windows: [{} as AccountForecast['windows'][number]],
    exhaustedNow: false,
    runsOutAt: null,
    capacityReturnsAt: null,
    confidence: 'high',
    ...over,
  });
  const rows: Array<{
    name: string;
    accounts: AccountForecast[];
    runsOutAt: number | null;
    capacityReturnsAt: number | null;
    note: RegExp;
  }> = [
    {
      name: 'outage between the last run-out and the first return',
      accounts: [
        acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + 3 * HOUR }),
        acc('b', { runsOutAt: T0 + HOUR, capacityReturnsAt: T0 + 10 * HOUR }),
      ],
      runsOutAt: T0 + HOUR,
      capacityReturnsAt: T0 + 3 * HOUR,
      note: /pool runs out in 1h; capacity returns in 3h/,
    },
    {
      name: 'an account comes back before the other runs out: no outage',
      accounts: [
        acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + HOUR }),
        acc('b', { runsOutAt: T0 + 2 * HOUR, capacityReturnsAt: T0 + 5 * HOUR }),
      ],
      runsOutAt: null,
      capacityReturnsAt: null,
      note: /does not run out/,
    },
    {
      name: 'one account never runs out: no outage',
      accounts: [acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + HOUR }), acc('b', {})],
      runsOutAt: null,
      capacityReturnsAt: null,
      note: /does not run out/,
    },
    {
      name: 'all exhausted now: capacity returns at the first reset',
      accounts: [
        acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + 2 * HOUR }),
        acc('b', { exhaustedNow: true, capacityReturnsAt: T0 + 90 * MIN }),
      ],
      runsOutAt: T0,
      capacityReturnsAt: T0 + 90 * MIN,
      note: /pool exhausted now; capacity returns in 1h 30m/,
    },
    {
      name: 'unusable accounts are left out',
      accounts: [acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + 2 * HOUR }), acc('b', { usable: false })],
      runsOutAt: T0,
      capacityReturnsAt: T0 + 2 * HOUR,
      note: /exhausted now/,
    },
    {
      name: 'accounts without samples are unknown, not capacity',
      accounts: [acc('a', { exhaustedNow: true, capacityReturnsAt: T0 + 2 * HOUR }), acc('b', { windows: [] })],
      runsOutAt: T0,
      capacityReturnsAt: T0 + 2 * HOUR,
      note: /exhausted now/,
    },
    {
      name: 'unknown returns',
      accounts: [acc('a', { exhaustedNow: true, capacityReturnsAt: null })],
      runsOutAt: T0,
      capacityReturnsAt: null,
      note: /capacity return unknown/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const p = forecastPool(row.accounts, T0);
      assert.equal(p.runsOutAt, row.runsOutAt);
      assert.equal(p.capacityReturnsAt, row.capacityReturnsAt);
      assert.equal(p.alarm, row.runsOutAt != null);
      assert.match(p.note, row.note);
    });
  }
});

describe('buildForecast', () => {
  const histories = [
    {
      accountId: 'a',
      name: 'alice',
      snapshots: series(
        '5h',
        [
          [-2, 40],
          [-1, 50],
          [0, 60],
        ],
        T0 + HOUR,
      ),
    },
    {
      accountId: 'b',
      name: 'bob',
      snapshots: series(
        'weekly',
        [
          [-1, 98],
          [0, 100],
        ],
        T0 + 2 * HOUR,
      ),
    },
    { accountId: 'c', name: 'carol', snapshots: [] },
  ];
  const f = buildForecast(histories, { now: T0 });
  it('per account and pool', () => {
    const [a, b, c] = f.accounts;
    assert.equal(a.exhaustedNow, false);
    assert.equal(a.runsOutAt, null, '5h resets first: not counted as running out');
    assert.equal(b.exhaustedNow, true);
    assert.equal(b.capacityReturnsAt, T0 + 2 * HOUR);
    assert.equal(c.windows.length, 0);
    assert.equal(f.pool.alarm, false);
    assert.equal(f.pool.usableNow, 1);
    assert.equal(f.pool.withoutData, 1);
  });
  it('renders text', () => {
    const text = renderForecastText(f);
    assert.match(
      text,
      /alice\s+5h\s+60% used\s+\+10\.0%\/h\s+runs out in 4h, after its reset in 1h: no alarm \[medium confidence, 3 samples\]/,
    );
    assert.match(text, /bob\s+weekly\s+100% used .*! exhausted/);
    assert.match(text, /carol\s+no quota samples/);
    assert.match(text, /2 accounts, 1 usable now, 1 exhausted \(1 more without data, not counted\)/);
    assert.match(renderForecastText(buildForecast([], { now: T0 })), /No snapshot history yet/);
  });
});
