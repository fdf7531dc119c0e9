// The §2 rows added for workspaces, spend controls, reached-limit types, banned accounts and inexact
// window lengths (issue 19): status, body and headers in; state, reason, windows and evidence out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KNOWN_PLANS, RATE_LIMIT_REACHED_KINDS } from '../domain/quota.ts';
import { type Classification, classifyUpstreamAnswer, type UpstreamAnswer } from './classify.ts';
import { parseCodexHeaders } from './parse.ts';

const NOW = Date.UTC(2026, 0, 1);
const NOW_S = NOW / 1000;
const body = (value: Record<string, unknown>) => JSON.stringify(value);
const win = (used: number, seconds: number, resetAfter: number) => ({
  used_percent: used,
  limit_window_seconds: seconds,
  reset_after_seconds: resetAfter,
  reset_at: NOW_S + resetAfter,
});
/** codex-rs SpendControlLimitDetails. */
const budget = (usedPercent: number, resetAfter: number) => ({
  limit: '100.00',
  used: `${usedPercent}.00`,
  remaining: `${100 - usedPercent}.00`,
  used_percent: usedPercent,
  remaining_percent: 100 - usedPercent,
  reset_after_seconds: resetAfter,
  reset_at: NOW_S + resetAfter,
});
const credits = (hasCredits: boolean, unlimited: boolean, balance: string | null) => ({
  has_credits: hasCredits,
  unlimited,
  balance,
});
const standard = (p: number, s: number) => ({
  allowed: true,
  limit_reached: false,
  primary_window: win(p, 18000, 3600),
  secondary_window: win(s, 604800, 200000),
});

interface Expect extends Partial<Omit<Classification, 'snapshot'>> {
  /** `${scope}:${kind}` of every window, in payload order. */
  windows?: string[];
}

const rows: [string, Omit<UpstreamAnswer, 'now'>, Expect][] = [
  [
    '200 rate_limit null, business on a spend control → ok, no windows, says why',
    {
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: null,
        credits: credits(true, false, '0'),
        spend_control: { reached: false, individual_limit: budget(12, 86400 * 20) },
      }),
    },
    {
      state: 'ok',
      reason: 'no_rate_limit_windows',
      transient: false,
      errorCode: null,
      message: 'no rate-limit windows: spend control, 12% of budget used; credits, balance 0',
      windows: ['spend_control:other'],
    },
  ],
  [
    '200 rate_limit null, enterprise with unlimited credits → ok, no windows',
    {
      status: 200,
      body: body({ plan_type: 'enterprise', rate_limit: null, credits: credits(true, true, null) }),
    },
    { state: 'ok', reason: 'no_rate_limit_windows', message: 'no rate-limit windows: unlimited credits', windows: [] },
  ],
  [
    '200 rate_limit null and nothing else → ok (a clear "no window limits apply")',
    { status: 200, body: body({ plan_type: 'edu', rate_limit: null }) },
    { state: 'ok', reason: 'no_rate_limit_windows', message: 'no rate-limit windows apply', windows: [] },
  ],
  [
    '200 without a rate_limit key at all → still unknown (missing is not null)',
    { status: 200, body: body({ plan_type: 'business' }) },
    { state: 'unknown', reason: 'malformed_response', transient: true },
  ],
  [
    '200 spend_control reached with a reset → rate-limited until the budget resets',
    {
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: null,
        spend_control: {
          reached: true,
          reached_limit_type: 'individual',
          workspace_default_limit: budget(40, 9000),
          individual_limit: budget(100, 86400),
        },
      }),
    },
    {
      state: 'exhausted',
      reason: 'spend_control_reached',
      errorCode: 'spend_control_reached',
      message: 'spend limit reached (individual budget)',
      resetAfterSeconds: 86400,
      windows: ['spend_control:other', 'spend_control:other'],
    },
  ],
  [
    '200 spend_control reached without details → rate-limited, reset unknown',
    { status: 200, body: body({ plan_type: 'business', rate_limit: null, spend_control: { reached: true } }) },
    {
      state: 'exhausted',
      reason: 'spend_control_reached',
      message: 'spend limit reached',
      resetAfterSeconds: null,
      windows: [],
    },
  ],
  [
    '200 spend_control reached wins over windows with quota left',
    {
      status: 200,
      body: body({
        plan_type: 'team',
        rate_limit: standard(10, 20),
        spend_control: {
          reached: true,
          group_shared_limit: { group_id: 'g', group_name: 'Eng', details: budget(100, 600) },
        },
      }),
    },
    {
      state: 'exhausted',
      reason: 'spend_control_reached',
      resetAfterSeconds: 600,
      windows: ['primary:5h', 'secondary:weekly', 'spend_control:other'],
    },
  ],
  [
    '200 spend_control not reached next to windows → windows decide',
    {
      status: 200,
      body: body({ plan_type: 'team', rate_limit: standard(10, 20), spend_control: { reached: false } }),
    },
    { state: 'ok', reason: 'quota_available', windows: ['primary:5h', 'secondary:weekly'] },
  ],
  ...(
    [
      'workspace_member_credits_depleted',
      'workspace_owner_credits_depleted',
      'workspace_member_usage_limit_reached',
      'workspace_owner_usage_limit_reached',
    ] as const
  ).map((kind): [string, Omit<UpstreamAnswer, 'now'>, Expect] => [
    `200 ${kind} with allowed false → rate-limited, the kind is the evidence`,
    {
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: { allowed: false, limit_reached: true, primary_window: null, secondary_window: null },
        rate_limit_reached_type: { type: kind },
      }),
    },
    { state: 'exhausted', reason: 'limit_reached', errorCode: kind, resetAfterSeconds: null, windows: [] },
  ]),
  [
    '200 rate_limit_reached with a full window → rate-limited until that window resets',
    {
      status: 200,
      body: body({
        plan_type: 'plus',
        rate_limit: { ...standard(100, 50), allowed: false, limit_reached: true },
        rate_limit_reached_type: { type: 'rate_limit_reached' },
      }),
    },
    {
      state: 'exhausted',
      reason: 'limit_reached',
      errorCode: 'rate_limit_reached',
      message: 'usage limit reached',
      resetAfterSeconds: 3600,
    },
  ],
  [
    '200 a reached type while allowed is true → ok, kept as evidence',
    {
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: standard(30, 40),
        rate_limit_reached_type: { type: 'workspace_owner_usage_limit_reached' },
      }),
    },
    {
      state: 'ok',
      reason: 'quota_available',
      errorCode: 'workspace_owner_usage_limit_reached',
      message: 'quota available; upstream names workspace_owner_usage_limit_reached',
    },
  ],
  [
    '200 a reached type on rate_limit null without allowed false → ok without windows, evidence kept',
    {
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: null,
        rate_limit_reached_type: { type: 'workspace_member_credits_depleted' },
      }),
    },
    { state: 'ok', reason: 'no_rate_limit_windows', errorCode: 'workspace_member_credits_depleted' },
  ],
  [
    '401 account_deactivated → blocked (Disable), never a sign-in problem',
    {
      status: 401,
      body: body({
        error: {
          message: 'Your OpenAI account has been deactivated, please check your email for more information.',
          type: 'invalid_request_error',
          code: 'account_deactivated',
        },
      }),
      tokenExpired: true,
    },
    { state: 'blocked', reason: 'account_blocked', errorCode: 'account_deactivated', transient: false },
  ],
  [
    '401 account_deactivated after a fresh refresh → still blocked',
    {
      status: 401,
      body: body({ error: { code: 'account_deactivated', message: 'deactivated' } }),
      afterRefresh: true,
    },
    { state: 'blocked', reason: 'account_blocked', errorCode: 'account_deactivated' },
  ],
  [
    '401 token_invalidated on an unexpired token → auth invalid (Reauth), no refresh first',
    {
      status: 401,
      body: body({
        error: {
          message: 'Your authentication token has been invalidated. Please try signing in again.',
          type: 'invalid_request_error',
          code: 'token_invalidated',
        },
      }),
      tokenExpired: null,
    },
    { state: 'auth_invalid', reason: 'auth_invalid', errorCode: 'token_invalidated' },
  ],
  [
    'window lengths in the wild (17940 s, 604740 s) → 5h and weekly',
    {
      status: 200,
      body: body({
        plan_type: 'plus',
        rate_limit: { allowed: true, primary_window: win(5, 17940, 60), secondary_window: win(6, 604740, 600) },
      }),
    },
    { state: 'ok', reason: 'quota_available', windows: ['primary:5h', 'secondary:weekly'] },
  ],
  [
    'go plan: one 30-day window in primary → monthly',
    {
      status: 200,
      body: body({ plan_type: 'go', rate_limit: { allowed: true, primary_window: win(20, 2592000, 9) } }),
    },
    { state: 'ok', reason: 'quota_available', windows: ['primary:monthly'] },
  ],
  [
    'an unknown plan with valid windows → ok with its windows',
    { status: 200, body: body({ plan_type: 'galaxy_brain', rate_limit: standard(10, 10) }) },
    { state: 'ok', reason: 'quota_available', windows: ['primary:5h', 'secondary:weekly'] },
  ],
  [
    '/codex/responses 200 without window headers (workspace on credits) → ok, no windows',
    {
      status: 200,
      snapshot: {
        ...parseCodexHeaders(
          {
            'x-codex-plan-type': 'business',
            'x-codex-credits-has-credits': 'true',
            'x-codex-credits-unlimited': 'true',
          },
          NOW,
        )!,
        allowed: true,
        windowless: true,
      },
    },
    { state: 'ok', reason: 'no_rate_limit_windows', message: 'no rate-limit windows: unlimited credits', windows: [] },
  ],
  [
    '/codex/responses headers with inexact minutes (299, 10079) → 5h and weekly',
    {
      status: 200,
      snapshot: parseCodexHeaders(
        {
          'x-codex-primary-used-percent': '5',
          'x-codex-primary-window-minutes': '299',
          'x-codex-secondary-used-percent': '9',
          'x-codex-secondary-window-minutes': '10079',
        },
        NOW,
      ),
    },
    { state: 'ok', windows: ['primary:5h', 'secondary:weekly'] },
  ],
];

describe('classifyUpstreamAnswer: workspace, spend-control and banned-account rows (UPSTREAM.md §2)', () => {
  for (const [name, answer, expected] of rows) {
    test(name, () => {
      const got = classifyUpstreamAnswer({ ...answer, now: NOW });
      const { windows, ...fields } = expected;
      for (const [key, value] of Object.entries(fields)) {
        assert.deepEqual(got[key as keyof Classification], value, `${key}: ${got.state} ${got.reason} ${got.message}`);
      }
      if (windows) assert.deepEqual(got.snapshot?.windows.map((w) => `${w.scope}:${w.kind}`) ?? [], windows);
    });
  }

  test('spend budgets are read with their percentages and reset; never a main window', () => {
    const got = classifyUpstreamAnswer({
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: null,
        spend_control: { reached: false, role_budget_limit: budget(12, 60) },
      }),
      now: NOW,
    });
    const [w] = got.snapshot!.windows;
    assert.deepEqual(
      {
        scope: w.scope,
        limitName: w.limitName,
        used: w.usedPercent,
        left: w.remainingPercent,
        reset: w.resetAfterSeconds,
      },
      { scope: 'spend_control', limitName: 'role_budget', used: 12, left: 88, reset: 60 },
    );
    assert.equal(got.snapshot!.windowless, true);
    assert.equal(got.snapshot!.spendControlReached, false);
  });

  test('a budget with only remaining_percent still reads as used %', () => {
    const only = { remaining_percent: 30 };
    const got = classifyUpstreamAnswer({
      status: 200,
      body: body({
        plan_type: 'business',
        rate_limit: null,
        spend_control: { reached: false, individual_limit: only },
      }),
      now: NOW,
    });
    assert.equal(got.snapshot!.windows[0].usedPercent, 70);
    assert.equal(got.message, 'no rate-limit windows: spend control, 70% of budget used');
  });

  test('every known plan with valid windows is ok', () => {
    for (const plan of KNOWN_PLANS) {
      const got = classifyUpstreamAnswer({
        status: 200,
        body: body({ plan_type: plan, rate_limit: standard(1, 1) }),
        now: NOW,
      });
      assert.equal(got.state, 'ok', plan);
      assert.equal(got.snapshot?.plan, plan);
    }
  });

  test('every reached kind with limit_reached false and allowed true stays ok', () => {
    for (const kind of RATE_LIMIT_REACHED_KINDS) {
      const got = classifyUpstreamAnswer({
        status: 200,
        body: body({ plan_type: 'business', rate_limit: standard(1, 1), rate_limit_reached_type: { type: kind } }),
        now: NOW,
      });
      assert.equal(got.state, 'ok', kind);
      assert.equal(got.errorCode, kind);
    }
  });

  test('a windowless answer never shows 0: windows are absent, not zero', () => {
    const got = classifyUpstreamAnswer({
      status: 200,
      body: body({ plan_type: 'enterprise', rate_limit: null }),
      now: NOW,
    });
    assert.equal(got.snapshot!.windows.length, 0);
    assert.equal(got.snapshot!.allowed, null);
    assert.equal(got.resetAfterSeconds, null);
  });
});
