import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AlertAccountView,
  type AlertMemory,
  crossedLevel,
  DEFAULT_ALERT_RULES,
  detectAlerts,
  EMPTY_ALERT_MEMORY,
} from './alert-rules.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;
const weeklyReset = new Date(T0 + 5 * 24 * HOUR).toISOString();

function account(used: Record<string, number | null>, extra: Partial<AlertAccountView> = {}): AlertAccountView {
  const windows = Object.entries(used).map(([kind, usedPercent]) => ({
    kind: kind as '5h' | 'weekly',
    scope: kind === '5h' ? ('primary' as const) : ('secondary' as const),
    limitName: null,
    usedPercent,
    resetsAt: kind === '5h' ? new Date(T0 + 2 * HOUR).toISOString() : weeklyReset,
  }));
  return { id: 'acc-1', name: 'work', windows, planEndsAt: null, ...extra };
}

/** Runs a sequence of looks and returns every event kind + level per look. */
function run(looks: Array<{ a: AlertAccountView; now?: number; runsOut?: number | null }>) {
  let memory: AlertMemory = EMPTY_ALERT_MEMORY;
  return looks.map(({ a, now = T0, runsOut = null }) => {
    const out = detectAlerts({ accounts: [a], poolRunsOutAt: runsOut, memory, settings: DEFAULT_ALERT_RULES, now });
    memory = out.memory;
    return out.events.map((e) => (e.kind === 'window_level_crossed' ? `${e.kind}:${e.window}:${e.level}` : e.kind));
  });
}

describe('crossedLevel', () => {
  const table: Array<[number, number[], number]> = [
    [0, [80, 95], 0],
    [79.9, [80, 95], 0],
    [80, [80, 95], 80],
    [94, [80, 95], 80],
    [100, [80, 95], 95],
    [50, [], 0],
  ];
  for (const [used, levels, want] of table) {
    it(`${used}% with levels ${levels.join('/') || 'none'} → ${want}`, () =>
      assert.equal(crossedLevel(used, levels), want));
  }
});

describe('detectAlerts: window levels', () => {
  it('80% then 95% of the weekly window: two alerts, and its reset one', () => {
    const looks = run([
      { a: account({ weekly: 50 }) },
      { a: account({ weekly: 81 }) },
      { a: account({ weekly: 85 }) },
      { a: account({ weekly: 96 }) },
      { a: account({ weekly: 99 }) },
      { a: account({ weekly: 3 }) },
      { a: account({ weekly: 4 }) },
    ]);
    assert.deepEqual(looks, [
      [],
      ['window_level_crossed:weekly:secondary:80'],
      [],
      ['window_level_crossed:weekly:secondary:95'],
      [],
      ['window_reset'],
      [],
    ]);
  });

  it('a jump straight past both levels is one alert at the higher level', () => {
    assert.deepEqual(run([{ a: account({ weekly: 97 }) }]), [['window_level_crossed:weekly:secondary:95']]);
  });

  it('unknown used percent (null) is never an alert or a reset', () => {
    assert.deepEqual(run([{ a: account({ weekly: 90 }) }, { a: account({ weekly: null }) }]), [
      ['window_level_crossed:weekly:secondary:80'],
      [],
    ]);
  });

  it('per-model additional limits warn only when asked', () => {
    const spark: AlertAccountView = {
      id: 'acc-1',
      name: 'work',
      planEndsAt: null,
      windows: [{ kind: '5h', scope: 'additional', limitName: 'spark', usedPercent: 99, resetsAt: null }],
    };
    const off = detectAlerts({
      accounts: [spark],
      poolRunsOutAt: null,
      memory: EMPTY_ALERT_MEMORY,
      settings: DEFAULT_ALERT_RULES,
      now: T0,
    });
    assert.deepEqual(off.events, []);
    const on = detectAlerts({
      accounts: [spark],
      poolRunsOutAt: null,
      memory: EMPTY_ALERT_MEMORY,
      settings: { ...DEFAULT_ALERT_RULES, includeAdditional: true },
      now: T0,
    });
    assert.equal(on.events.length, 1);
    assert.match(on.events[0]?.key ?? '', /spark/);
  });

  it('keys are stable across drifting reset times, so a second instance makes the same key', () => {
    const a = detectAlerts({
      accounts: [account({ weekly: 90 })],
      poolRunsOutAt: null,
      memory: EMPTY_ALERT_MEMORY,
      settings: DEFAULT_ALERT_RULES,
      now: T0,
    });
    const drifted = account({ weekly: 90 });
    drifted.windows = drifted.windows.map((w) => ({
      ...w,
      resetsAt: new Date(Date.parse(w.resetsAt ?? '') + 2000).toISOString(),
    }));
    const b = detectAlerts({
      accounts: [drifted],
      poolRunsOutAt: null,
      memory: EMPTY_ALERT_MEMORY,
      settings: DEFAULT_ALERT_RULES,
      now: T0 + 1000,
    });
    assert.equal(a.events[0]?.key, b.events[0]?.key);
  });

  it('a 5h reset while the weekly window stays exhausted is a window reset, never more', () => {
    const looks = run([{ a: account({ '5h': 100, weekly: 100 }) }, { a: account({ '5h': 0, weekly: 100 }) }]);
    assert.deepEqual(looks[1], ['window_reset']);
  });
});

describe('detectAlerts: pool run-out and plan expiry', () => {
  it('warns once when the run-out moves inside the horizon, again only after it left', () => {
    const a = account({ weekly: 10 });
    const looks = run([
      { a, runsOut: T0 + 10 * HOUR },
      { a, runsOut: T0 + 5 * HOUR },
      { a, runsOut: T0 + 4 * HOUR },
      { a, runsOut: null },
      { a, runsOut: T0 + 2 * HOUR },
    ]);
    assert.deepEqual(looks, [[], ['pool_runout_ahead'], [], [], ['pool_runout_ahead']]);
  });

  it('a plan ending in 3 days alerts once at a 7-day horizon; a renewal (new end) alerts again when it nears', () => {
    const ends = new Date(T0 + 3 * 24 * HOUR).toISOString();
    const later = new Date(T0 + 33 * 24 * HOUR).toISOString();
    const looks = run([
      { a: account({}, { planEndsAt: new Date(T0 + 30 * 24 * HOUR).toISOString() }) },
      { a: account({}, { planEndsAt: ends }) },
      { a: account({}, { planEndsAt: ends }), now: T0 + HOUR },
      { a: account({}, { planEndsAt: later }), now: T0 + 27 * 24 * HOUR },
    ]);
    assert.deepEqual(looks, [[], ['plan_expiring'], [], ['plan_expiring']]);
  });

  it('a plan that already ended is not "ending soon"', () => {
    assert.deepEqual(run([{ a: account({}, { planEndsAt: new Date(T0 - HOUR).toISOString() }) }]), [[]]);
  });
});
