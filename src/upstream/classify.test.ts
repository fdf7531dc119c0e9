// One row per line of UPSTREAM.md §2 (and the edge cases around them).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Classification, classifyUpstreamAnswer, type UpstreamAnswer } from './classify.ts';

const NOW = Date.UTC(2026, 0, 1);
const JSON_TYPE = { 'content-type': 'application/json' };
const CF_HTML = '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>challenge</body></html>';

const usage = (rateLimit: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ plan_type: 'plus', rate_limit: rateLimit, ...extra });
const win = (used: number, seconds: number, resetAfter: number) => ({
  used_percent: used,
  limit_window_seconds: seconds,
  reset_after_seconds: resetAfter,
});

type Expect = Partial<Omit<Classification, 'snapshot'>>;
const rows: [string, Omit<UpstreamAnswer, 'now'>, Expect][] = [
  [
    '200 with windows → ok',
    {
      status: 200,
      headers: JSON_TYPE,
      body: usage({ allowed: true, limit_reached: false, primary_window: win(12, 18000, 60) }),
    },
    { state: 'ok', reason: 'quota_available', transient: false },
  ],
  [
    '200 with limit_reached → exhausted until the blocking window resets',
    {
      status: 200,
      body: usage(
        {
          allowed: false,
          limit_reached: true,
          primary_window: win(30, 18000, 60),
          secondary_window: win(100, 604800, 9000),
        },
        { rate_limit_reached_type: { type: 'rate_limit_reached' } },
      ),
    },
    { state: 'exhausted', reason: 'limit_reached', resetAfterSeconds: 9000, errorCode: 'rate_limit_reached' },
  ],
  [
    '200 with a window at 100% and no flag → exhausted',
    { status: 200, body: usage({ primary_window: win(100, 18000, 120), secondary_window: win(40, 604800, 9000) }) },
    { state: 'exhausted', reason: 'window_exhausted', resetAfterSeconds: 120 },
  ],
  [
    '200 with limit_reached but no window at 100% → the fullest window decides the reset',
    {
      status: 200,
      body: usage({ limit_reached: true, primary_window: win(99.5, 18000, 77), secondary_window: win(10, 604800, 9) }),
    },
    { state: 'exhausted', reason: 'limit_reached', resetAfterSeconds: 77 },
  ],
  [
    '200 code review at 100% does not exhaust the account',
    {
      status: 200,
      body: usage(
        { allowed: true, limit_reached: false, primary_window: win(10, 18000, 60) },
        { code_review_rate_limit: { primary_window: win(100, 604800, 60) } },
      ),
    },
    { state: 'ok', reason: 'quota_available' },
  ],
  [
    '200 without any rate-limit data → unknown, not healthy',
    { status: 200, body: '{"plan_type":"plus"}' },
    { state: 'unknown', reason: 'malformed_response', transient: true },
  ],
  [
    '200 non-JSON → malformed',
    { status: 200, body: 'upstream connect error or disconnect/reset before headers' },
    { state: 'unknown', reason: 'malformed_response', transient: true },
  ],
  [
    '200 truncated JSON → malformed',
    { status: 200, body: '{"rate_limit":{"primary' },
    { state: 'unknown', reason: 'malformed_response' },
  ],
  [
    '401 with an expired JWT → auth_expired (refresh, then retry once)',
    { status: 401, body: '{"detail":"Unauthorized"}', tokenExpired: true },
    { state: 'auth_expired', reason: 'access_token_expired', transient: false },
  ],
  [
    '401 token_expired code even with exp unknown → auth_expired',
    { status: 401, body: JSON.stringify({ error: { code: 'token_expired', message: 'expired' } }), tokenExpired: null },
    { state: 'auth_expired', reason: 'access_token_expired', errorCode: 'token_expired' },
  ],
  [
    '401 right after a refresh → auth_invalid',
    {
      status: 401,
      body: JSON.stringify({ error: { code: 'token_expired' } }),
      tokenExpired: false,
      afterRefresh: true,
    },
    { state: 'auth_invalid', reason: 'auth_invalid' },
  ],
  [
    '401 with a valid JWT (revoked) → auth_invalid',
    { status: 401, body: JSON.stringify({ error: { code: 'token_invalidated' } }), tokenExpired: false },
    { state: 'auth_invalid', reason: 'auth_invalid', errorCode: 'token_invalidated' },
  ],
  ...(['refresh_token_expired', 'refresh_token_reused', 'refresh_token_invalidated', 'invalid_grant'] as const).map(
    (code): [string, Omit<UpstreamAnswer, 'now'>, Expect] => [
      `refresh error ${code} → refresh token dead`,
      { status: 401, refreshFailure: { errorCode: code, httpStatus: 401, message: 'Your session has ended.' } },
      { state: 'auth_invalid', reason: 'refresh_token_dead', errorCode: code, transient: false },
    ],
  ),
  [
    'refresh fails 401 without a known code → auth_invalid',
    { status: 401, refreshFailure: { errorCode: null, httpStatus: 401 } },
    { state: 'auth_invalid', reason: 'auth_invalid' },
  ],
  [
    'refresh fails on the network → transient unknown',
    { status: 401, refreshFailure: { errorCode: null, httpStatus: null, message: 'ECONNREFUSED' } },
    { state: 'unknown', reason: 'network_error', transient: true },
  ],
  [
    '402 deactivated_workspace → workspace_deactivated',
    { status: 402, body: '{"detail":{"code":"deactivated_workspace"}}' },
    { state: 'workspace_deactivated', reason: 'deactivated_workspace', errorCode: 'deactivated_workspace' },
  ],
  [
    '403 Cloudflare HTML → unknown cloudflare_challenge (never auth)',
    { status: 403, headers: { 'content-type': 'text/html' }, body: CF_HTML, tokenExpired: true },
    { state: 'unknown', reason: 'cloudflare_challenge', transient: true },
  ],
  [
    '403 with cf-mitigated header but empty body → Cloudflare',
    { status: 403, headers: { 'cf-mitigated': 'challenge' }, body: '' },
    { state: 'unknown', reason: 'cloudflare_challenge', transient: true },
  ],
  [
    '403 JSON account_deactivated → blocked, evidence kept',
    {
      status: 403,
      body: JSON.stringify({ error: { message: 'This account has been deactivated.', code: 'account_deactivated' } }),
      tokenExpired: true,
    },
    {
      state: 'blocked',
      reason: 'account_blocked',
      errorCode: 'account_deactivated',
      message: 'This account has been deactivated.',
    },
  ],
  [
    '403 JSON unsupported_country → blocked',
    { status: 403, body: JSON.stringify({ error: { type: 'request_forbidden', code: 'unsupported_country' } }) },
    { state: 'blocked', reason: 'account_blocked', errorCode: 'unsupported_country' },
  ],
  [
    '403 without body → unknown (a 403 is never auth by itself)',
    { status: 403, body: '' },
    { state: 'unknown', reason: 'unexpected_status', transient: true },
  ],
  ['404 → path retired', { status: 404, body: '{"detail":"Not Found"}' }, { state: 'unknown', reason: 'path_retired' }],
  [
    '429 usage_limit_reached with resets_in_seconds → exhausted with reset',
    {
      status: 429,
      body: JSON.stringify({
        error: { type: 'usage_limit_reached', resets_in_seconds: 3000, resets_at: NOW / 1000 + 5, plan_type: 'free' },
      }),
    },
    { state: 'exhausted', reason: 'usage_limit_reached', resetAfterSeconds: 3000, errorCode: 'usage_limit_reached' },
  ],
  [
    '429 usage_limit_reached with only resets_at',
    { status: 429, body: JSON.stringify({ error: { type: 'usage_limit_reached', resets_at: NOW / 1000 + 400 } }) },
    { state: 'exhausted', reason: 'usage_limit_reached', resetAfterSeconds: 400 },
  ],
  [
    '429 usage_limit_reached without a reset (free) → exhausted, reset unknown',
    { status: 429, body: JSON.stringify({ error: { type: 'usage_limit_reached', plan_type: 'free' } }) },
    { state: 'exhausted', reason: 'usage_limit_reached', resetAfterSeconds: null, transient: false },
  ],
  [
    '429 usage_not_included → no_codex',
    { status: 429, body: JSON.stringify({ error: { type: 'usage_not_included', message: 'upgrade' } }) },
    { state: 'no_codex', reason: 'usage_not_included', errorCode: 'usage_not_included' },
  ],
  [
    '429 without body but Retry-After → throttled, transient',
    { status: 429, headers: { 'retry-after': '7' }, body: '' },
    { state: 'unknown', reason: 'throttled', transient: true, retryAfterSeconds: 7 },
  ],
  [
    '429 Retry-After as HTTP date',
    { status: 429, headers: { 'Retry-After': new Date(NOW + 30_000).toUTCString() }, body: null },
    { state: 'unknown', reason: 'throttled', retryAfterSeconds: 30 },
  ],
  ['408 → timeout, transient', { status: 408, body: '' }, { state: 'unknown', reason: 'timeout', transient: true }],
  [
    '500 → server_error',
    { status: 500, body: '{"error":{"type":"server_error"}}' },
    { state: 'unknown', reason: 'server_error', transient: true },
  ],
  [
    '502 HTML from the edge → server_error, not Cloudflare challenge',
    {
      status: 502,
      headers: { 'content-type': 'text/html', server: 'cloudflare' },
      body: '<html>502 Bad Gateway</html>',
    },
    { state: 'unknown', reason: 'server_error', transient: true },
  ],
  [
    '503 server_is_overloaded → server_overloaded',
    { status: 503, body: JSON.stringify({ error: { code: 'server_is_overloaded', message: 'overloaded' } }) },
    { state: 'unknown', reason: 'server_overloaded', transient: true },
  ],
  ['504 → server_error', { status: 504, body: '' }, { state: 'unknown', reason: 'server_error', transient: true }],
  [
    'network error → unknown, transient',
    { status: null, failure: 'network', failureMessage: 'ECONNREFUSED' },
    { state: 'unknown', reason: 'network_error', transient: true, message: 'ECONNREFUSED' },
  ],
  [
    'timeout → unknown, transient',
    { status: null, failure: 'timeout', failureMessage: 'no answer within 100 ms' },
    { state: 'unknown', reason: 'timeout', transient: true },
  ],
  ['418 → unexpected status', { status: 418, body: 'teapot' }, { state: 'unknown', reason: 'unexpected_status' }],
  [
    '402 other than deactivated_workspace → unexpected status',
    { status: 402, body: '{"detail":{"code":"payment_required"}}' },
    { state: 'unknown', reason: 'unexpected_status', errorCode: 'payment_required' },
  ],
];

describe('classifyUpstreamAnswer (UPSTREAM.md §2)', () => {
  for (const [name, answer, expected] of rows) {
    test(name, () => {
      const got = classifyUpstreamAnswer({ ...answer, now: NOW });
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(got[key as keyof Classification], value, `${key}`);
      }
    });
  }

  test('a 403 is never auth_invalid or auth_expired, whatever the body or token', () => {
    const bodies = ['', CF_HTML, '{}', '{"error":{"code":"token_expired"}}', 'Forbidden', '{"detail":"Unauthorized"}'];
    for (const body of bodies) {
      for (const tokenExpired of [true, false, null]) {
        for (const afterRefresh of [true, false]) {
          const got = classifyUpstreamAnswer({ status: 403, body, tokenExpired, afterRefresh, now: NOW });
          assert.ok(!got.state.startsWith('auth_'), `${body} → ${got.state}`);
        }
      }
    }
  });

  test('a 200 snapshot keeps the parsed windows', () => {
    const got = classifyUpstreamAnswer({ status: 200, body: usage({ primary_window: win(5, 18000, 1) }), now: NOW });
    assert.equal(got.snapshot?.windows[0].kind, '5h');
  });

  test('messages are sanitized: no tokens, emails or long base64', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const secret = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w';
    const body = JSON.stringify({
      error: {
        code: 'account_deactivated',
        message: `user alice@example.com token ${jwt} Bearer abc.def key ${secret}`,
      },
    });
    const got = classifyUpstreamAnswer({ status: 403, body, now: NOW });
    assert.ok(got.message);
    for (const leaked of ['alice@example.com', jwt, 'abc.def', secret])
      assert.ok(!got.message!.includes(leaked), got.message!);
    const net = classifyUpstreamAnswer({
      status: null,
      failure: 'network',
      failureMessage: `connect ${jwt}`,
      now: NOW,
    });
    assert.ok(!net.message!.includes(jwt));
  });

  test('garbage input never throws', () => {
    for (const body of ['null', '[]', '"x"', '{"error":null}', '{"error":5}', '{"detail":[]}', '\u0000\uffff']) {
      for (const status of [200, 401, 402, 403, 429, 500, 999, 0]) {
        assert.doesNotThrow(() =>
          classifyUpstreamAnswer({ status, body, headers: { 'retry-after': 'soon' }, now: NOW }),
        );
      }
    }
  });
});
