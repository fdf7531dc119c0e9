import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCodexHeaders, parseUsageBody, parseUsagePayload } from './parse.ts';

const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);
const NOW_S = NOW / 1000;

describe('parseUsagePayload', () => {
  test('standard layout: 5h primary + weekly secondary, reset_after_seconds preferred over reset_at', () => {
    const s = parseUsagePayload(
      {
        plan_type: 'Plus',
        rate_limit: {
          allowed: true,
          limit_reached: false,
          primary_window: {
            used_percent: 12,
            limit_window_seconds: 18000,
            reset_after_seconds: 3600,
            reset_at: NOW_S + 99,
          },
          secondary_window: {
            used_percent: 40,
            limit_window_seconds: 604800,
            reset_after_seconds: 200000,
            reset_at: 1,
          },
        },
        credits: { has_credits: false, unlimited: false, balance: '0' },
      },
      NOW,
    );
    assert.equal(s.plan, 'plus');
    assert.equal(s.allowed, true);
    assert.equal(s.limitReached, false);
    assert.deepEqual(
      s.windows.map((w) => [w.kind, w.scope, w.usedPercent, w.remainingPercent, w.resetAfterSeconds]),
      [
        ['5h', 'primary', 12, 88, 3600],
        ['weekly', 'secondary', 40, 60, 200000],
      ],
    );
    assert.equal(s.windows[0].resetsAt, new Date(NOW + 3600_000).toISOString());
    assert.deepEqual(s.credits, { hasCredits: false, unlimited: false, balance: '0' });
    assert.equal(s.fetchedAt, new Date(NOW).toISOString());
  });

  test('free plan: weekly window in primary_window, no 5h window', () => {
    const s = parseUsagePayload(
      {
        plan_type: 'free',
        rate_limit: {
          primary_window: { used_percent: 35, limit_window_seconds: 604800, reset_after_seconds: 10 },
          secondary_window: null,
        },
      },
      NOW,
    );
    assert.equal(s.windows.length, 1);
    assert.equal(s.windows[0].kind, 'weekly');
    assert.equal(s.windows[0].scope, 'primary');
  });

  test('team: 30-day monthly in secondary', () => {
    const s = parseUsagePayload(
      { rate_limit: { secondary_window: { used_percent: 55, limit_window_seconds: 2592000 } } },
      NOW,
    );
    assert.equal(s.windows[0].kind, 'monthly');
    assert.equal(s.windows[0].resetAfterSeconds, null);
    assert.equal(s.windows[0].resetsAt, null);
  });

  test('reset_at alone, legacy resets_in_seconds and resets_at, and reset_at in milliseconds', () => {
    const s = parseUsagePayload(
      {
        rate_limit: {
          primary_window: { used_percent: 1, limit_window_seconds: 18000, reset_at: NOW_S + 100 },
          secondary_window: { used_percent: 1, limit_window_seconds: 604800, resets_in_seconds: 500, resets_at: 1 },
        },
        code_review_rate_limit: {
          primary_window: { used_percent: 1, limit_window_seconds: 604800, resets_at: (NOW_S + 700) * 1000 },
        },
      },
      NOW,
    );
    assert.deepEqual(
      s.windows.map((w) => w.resetAfterSeconds),
      [100, 500, 700],
    );
  });

  test('code review and additional limits keep their scope and name', () => {
    const s = parseUsagePayload(
      {
        rate_limit: { primary_window: { used_percent: 5, limit_window_seconds: 18000 } },
        code_review_rate_limit: { primary_window: { used_percent: 7, limit_window_seconds: 604800 } },
        additional_rate_limits: [
          {
            limit_name: 'codex_other',
            metered_feature: 'codex_bengalfox',
            rate_limit: { primary_window: { used_percent: 9, limit_window_seconds: 18000 } },
          },
          { metered_feature: 'feature_only', rate_limit: { secondary_window: { used_percent: 2 } } },
          'garbage',
          null,
        ],
      },
      NOW,
    );
    assert.deepEqual(
      s.windows.map((w) => [w.scope, w.limitName, w.kind, w.usedPercent]),
      [
        ['primary', null, '5h', 5],
        ['code_review', 'code_review', 'weekly', 7],
        ['additional', 'codex_other', '5h', 9],
        ['additional', 'feature_only', 'other', 2],
      ],
    );
  });

  test('every field optional: empty object gives nulls, never 0', () => {
    const s = parseUsagePayload({}, NOW);
    assert.equal(s.plan, null);
    assert.equal(s.allowed, null);
    assert.equal(s.limitReached, null);
    assert.equal(s.rateLimitReachedType, null);
    assert.deepEqual(s.windows, []);
    assert.deepEqual(s.credits, { hasCredits: null, unlimited: null, balance: null });
  });

  test('a window with only a duration is kept with unknown usage', () => {
    const s = parseUsagePayload({ rate_limit: { primary_window: { limit_window_seconds: 18000 } } }, NOW);
    assert.equal(s.windows[0].usedPercent, null);
    assert.equal(s.windows[0].remainingPercent, null);
  });

  describe('absurd values are handled sanely', () => {
    const windowWith = (w: Record<string, unknown>) =>
      parseUsagePayload({ rate_limit: { primary_window: { limit_window_seconds: 18000, ...w } } }, NOW).windows[0];
    const cases: [string, Record<string, unknown>, number | null, number | null][] = [
      ['negative percent → unknown', { used_percent: -5 }, null, null],
      ['over 100% → exhausted, 0 remaining', { used_percent: 250 }, 100, 0],
      ['NaN → unknown', { used_percent: Number.NaN }, null, null],
      ['numeric string accepted', { used_percent: '42.5' }, 42.5, 57.5],
      ['non-numeric string → unknown', { used_percent: 'lots' }, null, null],
      ['boolean → unknown', { used_percent: true }, null, null],
      ['object → unknown', { used_percent: { x: 1 } }, null, null],
      ['Infinity → unknown', { used_percent: Number.POSITIVE_INFINITY }, null, null],
    ];
    for (const [name, w, used, remaining] of cases) {
      test(name, () => {
        const win = windowWith(w);
        assert.equal(win?.usedPercent ?? null, used);
        assert.equal(win?.remainingPercent ?? null, remaining);
      });
    }
    const resets: [string, Record<string, unknown>, number | null][] = [
      ['negative reset_after → already reset (0)', { used_percent: 1, reset_after_seconds: -30 }, 0],
      ['reset_after of 100 years → unknown', { used_percent: 1, reset_after_seconds: 3.15e9 }, null],
      ['reset_at in the past → 0', { used_percent: 1, reset_at: NOW_S - 1000 }, 0],
      ['reset_at in ms', { used_percent: 1, reset_at: (NOW_S + 60) * 1000 }, 60],
      ['reset_at as ISO string', { used_percent: 1, reset_at: new Date(NOW + 90_000).toISOString() }, 90],
      ['reset_at garbage string', { used_percent: 1, reset_at: 'soon' }, null],
      ['reset_at negative', { used_percent: 1, reset_at: -5 }, null],
    ];
    for (const [name, w, expected] of resets) test(name, () => assert.equal(windowWith(w).resetAfterSeconds, expected));

    test('window duration garbage → kind other, duration null', () => {
      const s = parseUsagePayload(
        { rate_limit: { primary_window: { used_percent: 3, limit_window_seconds: 'x' } } },
        NOW,
      );
      assert.equal(s.windows[0].kind, 'other');
      assert.equal(s.windows[0].windowSeconds, null);
    });

    test('wrong types everywhere never throw', () => {
      for (const payload of [null, 42, 'x', [], { rate_limit: [] }, { rate_limit: 'x', credits: 7, plan_type: 5 }]) {
        const s = parseUsagePayload(payload, NOW);
        assert.deepEqual(s.windows, []);
      }
      const s = parseUsagePayload({ plan_type: 5, credits: { has_credits: 'yes', balance: 12.5 } }, NOW);
      assert.equal(s.plan, '5');
      assert.equal(s.credits.hasCredits, null);
      assert.equal(s.credits.balance, '12.5');
    });
  });

  test('rate_limit_reached_type as object or string', () => {
    assert.equal(
      parseUsagePayload({ rate_limit_reached_type: { type: 'rate_limit_reached' } }, NOW).rateLimitReachedType,
      'rate_limit_reached',
    );
    assert.equal(parseUsagePayload({ rate_limit_reached_type: 'x' }, NOW).rateLimitReachedType, 'x');
  });
});

describe('parseUsageBody', () => {
  test('non-JSON, truncated, empty and non-object bodies give clear errors', () => {
    const bad: [string | null, RegExp][] = [
      ['upstream connect error or disconnect/reset before headers', /not valid JSON/],
      ['{"plan_type":"plus","rate_limit":{"primary_w', /truncated/],
      ['', /empty/],
      [null, /empty/],
      ['[1,2]', /not an object/],
      ['"str"', /not an object/],
    ];
    for (const [body, message] of bad) {
      const r = parseUsageBody(body, NOW);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, message);
    }
  });
  test('valid JSON parses', () => {
    const r = parseUsageBody('{"plan_type":"pro"}', NOW);
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.snapshot.plan, 'pro');
  });
});

describe('parseCodexHeaders', () => {
  test('x-codex-* headers → snapshot with windows by duration', () => {
    const h = new Headers({
      'x-codex-plan-type': 'free',
      'x-codex-primary-used-percent': '35',
      'x-codex-primary-window-minutes': '10080',
      'x-codex-primary-reset-after-seconds': '1234',
      'x-codex-primary-reset-at': String(NOW_S + 99999),
      'x-codex-credits-has-credits': 'true',
      'x-codex-credits-unlimited': 'false',
      'x-codex-credits-balance': '12.50',
    });
    const s = parseCodexHeaders(h, NOW)!;
    assert.equal(s.plan, 'free');
    assert.equal(s.windows.length, 1);
    assert.deepEqual(
      [s.windows[0].kind, s.windows[0].usedPercent, s.windows[0].windowSeconds, s.windows[0].resetAfterSeconds],
      ['weekly', 35, 604800, 1234],
    );
    assert.deepEqual(s.credits, { hasCredits: true, unlimited: false, balance: '12.50' });
  });
  test('plain records and CPA-style arrays work, reset-at used when reset-after is missing', () => {
    const s = parseCodexHeaders(
      {
        'X-Codex-Primary-Used-Percent': ['100'],
        'x-codex-primary-window-minutes': '300',
        'x-codex-primary-reset-at': String(NOW_S + 60),
        'x-codex-secondary-used-percent': '50',
        'x-codex-secondary-window-minutes': '43200',
      },
      NOW,
    )!;
    assert.deepEqual(
      s.windows.map((w) => [w.kind, w.scope, w.usedPercent, w.resetAfterSeconds]),
      [
        ['5h', 'primary', 100, 60],
        ['monthly', 'secondary', 50, null],
      ],
    );
  });
  test('no x-codex headers → null; garbage values → nulls', () => {
    assert.equal(parseCodexHeaders(new Headers({ 'content-type': 'text/plain' }), NOW), null);
    assert.equal(parseCodexHeaders(null, NOW), null);
    const s = parseCodexHeaders({ 'x-codex-primary-used-percent': 'NaN', 'x-codex-plan-type': 'pro' }, NOW)!;
    assert.equal(s.plan, 'pro');
    assert.deepEqual(s.windows, []);
  });
});
