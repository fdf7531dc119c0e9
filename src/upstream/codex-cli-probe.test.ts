// The app-server's error texts (captured from the real codex 0.169.0 against the simulator) classify
// the same as the HTTP probe's answers, and no message carries the URL or the raw body.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyUpstreamAnswer } from './classify.ts';
import { classifyAppServerError, parseAppServerError, snapshotFromRateLimits } from './codex-cli-probe.ts';

const URL = 'http://127.0.0.1:41415/backend-api/wham/usage';
const httpError = (status: string, contentType: string, body: string) =>
  `failed to fetch codex rate limits: GET ${URL} failed: ${status}; content-type=${contentType}; body=${body}`;

const CASES: Array<{ name: string; message: string; state: string; reason: string; status: number | null }> = [
  {
    name: '429 usage_limit_reached',
    message: httpError(
      '429 Too Many Requests',
      'application/json',
      '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1795447423,"resets_in_seconds":7197}}',
    ),
    state: 'exhausted',
    reason: 'usage_limit_reached',
    status: 429,
  },
  {
    name: '402 deactivated_workspace',
    message: httpError('402 Payment Required', 'application/json', '{"detail":{"code":"deactivated_workspace"}}'),
    state: 'workspace_deactivated',
    reason: 'deactivated_workspace',
    status: 402,
  },
  {
    name: '403 Cloudflare HTML',
    message: httpError(
      '403 Forbidden',
      'text/html; charset=UTF-8',
      '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>secret-ish</body></html>',
    ),
    state: 'unknown',
    reason: 'cloudflare_challenge',
    status: 403,
  },
  {
    name: '403 JSON account_deactivated',
    message: httpError(
      '403 Forbidden',
      'application/json',
      '{"error":{"message":"This account has been deactivated.","type":"invalid_request_error","code":"account_deactivated","param":null}}',
    ),
    state: 'blocked',
    reason: 'account_blocked',
    status: 403,
  },
  {
    name: '429 usage_not_included',
    message: httpError(
      '429 Too Many Requests',
      'application/json',
      '{"error":{"type":"usage_not_included","message":"upgrade","plan_type":"k12"}}',
    ),
    state: 'no_codex',
    reason: 'usage_not_included',
    status: 429,
  },
  {
    name: '429 without body',
    message: httpError('429 Too Many Requests', '', ''),
    state: 'unknown',
    reason: 'throttled',
    status: 429,
  },
  {
    name: '503 overloaded',
    message: httpError(
      '503 Service Unavailable',
      'application/json',
      '{"error":{"message":"Our servers are currently overloaded.","type":"server_error","code":"server_is_overloaded"}}',
    ),
    state: 'unknown',
    reason: 'server_overloaded',
    status: 503,
  },
  {
    name: '502 HTML',
    message: httpError('502 Bad Gateway', 'text/html', '<html><head><title>502 Bad Gateway</title></head></html>'),
    state: 'unknown',
    reason: 'server_error',
    status: 502,
  },
  {
    name: '401 token_invalidated with an unexpired token',
    message: httpError(
      '401 Unauthorized',
      'application/json',
      '{"error":{"message":"Your authentication token has been invalidated.","code":"token_invalidated"},"status":401}',
    ),
    state: 'auth_invalid',
    reason: 'auth_invalid',
    status: 401,
  },
  {
    name: 'decode error on a non-JSON 200',
    message: `failed to fetch codex rate limits: Decode error for ${URL}: expected value at line 1 column 1; content-type=application/json; body=upstream connect error`,
    state: 'unknown',
    reason: 'malformed_response',
    status: 200,
  },
];

function jwt(expSeconds: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ exp: expSeconds })}.sig`;
}

describe('classifyAppServerError', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const token = jwt(now / 1000 + 3600);
  for (const c of CASES) {
    it(c.name, () => {
      const out = classifyAppServerError(c.message, token, now);
      assert.equal(out.state, c.state);
      assert.equal(out.reason, c.reason);
      assert.equal(out.httpStatus, c.status);
      assert.equal(out.source, 'codex-cli');
      assert.ok(out.message, 'a message says what happened');
      assert.doesNotMatch(out.message!, /127\.0\.0\.1|http:\/\//, 'no URL in the message');
      assert.doesNotMatch(out.message!, /<html|<!DOCTYPE|body=|\{"/i, 'no raw body in the message');
    });
  }

  it('a 429 usage_limit_reached keeps its plan and reset, like the HTTP probe', () => {
    const out = classifyAppServerError(CASES[0].message, token, now);
    assert.equal(out.snapshot?.plan, 'plus');
    assert.equal(out.snapshot?.limitReached, true);
    assert.equal(out.resetAfterSeconds, 7197);
  });

  it('a 401 with an expired token is auth_expired (refresh may help), unless it names token_invalidated', () => {
    const plain = httpError('401 Unauthorized', 'application/json', '{"detail":"Unauthorized"}');
    assert.equal(classifyAppServerError(plain, jwt(now / 1000 - 60), now).state, 'auth_expired');
    // token_invalidated: revoked (signed out everywhere), a refresh cannot help (UPSTREAM.md §2).
    assert.equal(classifyAppServerError(CASES[8].message, jwt(now / 1000 - 60), now).state, 'auth_invalid');
  });

  it('a 401 account_deactivated is blocked, never a sign-in problem', () => {
    const banned = httpError(
      '401 Unauthorized',
      'application/json',
      '{"error":{"message":"Your OpenAI account has been deactivated.","code":"account_deactivated"}}',
    );
    const out = classifyAppServerError(banned, jwt(now / 1000 - 60), now);
    assert.equal(out.state, 'blocked');
    assert.equal(out.errorCode, 'account_deactivated');
  });

  it('a 200 the CLI could not decode (float used_percent) is read by our tolerant parser', () => {
    const body = JSON.stringify({
      plan_type: 'plus',
      rate_limit: { primary_window: { used_percent: 12.5, limit_window_seconds: 18000, reset_after_seconds: 60 } },
    });
    const message = `failed to fetch codex rate limits: Decode error for ${URL}: invalid type: floating point; content-type=application/json; body=${body}`;
    const out = classifyAppServerError(message, token, now);
    assert.equal(out.state, 'ok');
    assert.equal(out.snapshot?.windows[0].usedPercent, 12.5);
  });

  it('anything else is unknown and transient, with URLs removed', () => {
    const out = classifyAppServerError(`request to ${URL} failed: connection refused`, token, now);
    assert.equal(out.state, 'unknown');
    assert.equal(out.transient, true);
    assert.doesNotMatch(out.message!, /127\.0\.0\.1/);
  });
});

describe('parseAppServerError', () => {
  it('keeps a content type that itself holds a semicolon', () => {
    const parsed = parseAppServerError(CASES[2].message);
    assert.equal(parsed.kind, 'http');
    if (parsed.kind === 'http') {
      assert.equal(parsed.status, 403);
      assert.equal(parsed.contentType, 'text/html; charset=UTF-8');
      assert.match(parsed.body, /^<!DOCTYPE html>/);
    }
  });
});

describe('snapshotFromRateLimits', () => {
  it('maps main windows by duration, additional limits by id, and leaves unknown flags null', () => {
    const now = 1_795_440_000_000;
    const snap = snapshotFromRateLimits(
      {
        rateLimits: {
          limitId: 'codex',
          primary: { usedPercent: 35, windowDurationMins: 10080, resetsAt: 1_795_440_600 },
          secondary: null,
          credits: { hasCredits: true, unlimited: false, balance: '42.50' },
          planType: 'free',
          rateLimitReachedType: null,
        },
        rateLimitsByLimitId: {
          codex: {},
          codex_bengalfox: { limitName: 'codex_other', primary: { usedPercent: 20, windowDurationMins: 300 } },
        },
      },
      now,
    );
    assert.equal(snap.plan, 'free');
    assert.equal(snap.windows[0].kind, 'weekly');
    assert.equal(snap.windows[0].resetAfterSeconds, 600);
    assert.equal(snap.windows[1].scope, 'additional');
    assert.equal(snap.windows[1].limitName, 'codex_other');
    assert.equal(snap.limitReached, null);
    assert.equal(snap.credits.balance, '42.50');
  });

  it('no primary and no secondary is the CLI reading `rate_limit: null`: ok without windows', () => {
    const now = 1_795_440_000_000;
    const snap = snapshotFromRateLimits(
      {
        rateLimits: {
          limitId: 'codex',
          primary: null,
          secondary: null,
          credits: { hasCredits: true, unlimited: true, balance: null },
          planType: 'enterprise',
          rateLimitReachedType: null,
        },
      },
      now,
    );
    assert.equal(snap.windowless, true);
    const cls = classifyUpstreamAnswer({ status: 200, snapshot: snap, now });
    assert.equal(cls.state, 'ok');
    assert.equal(cls.reason, 'no_rate_limit_windows');
    assert.equal(cls.message, 'no rate-limit windows: unlimited credits');
  });

  it('a reached type is evidence alone, and the limit only next to a full window', () => {
    const now = 1_795_440_000_000;
    const read = (used: number) =>
      classifyUpstreamAnswer({
        status: 200,
        snapshot: snapshotFromRateLimits(
          {
            rateLimits: {
              primary: { usedPercent: used, windowDurationMins: 299, resetsAt: 1_795_440_600 },
              planType: 'business',
              rateLimitReachedType: 'workspace_member_usage_limit_reached',
            },
          },
          now,
        ),
        now,
      });
    assert.deepEqual(
      [read(40).state, read(40).reason, read(40).errorCode],
      ['ok', 'quota_available', 'workspace_member_usage_limit_reached'],
    );
    assert.deepEqual([read(100).state, read(100).reason], ['exhausted', 'limit_reached']);
  });

  it('the individual spend budget and spendControlReached (app-server v2) feed the state as over HTTP', () => {
    const now = 1_795_440_000_000;
    const read = (remainingPercent: number, reached: boolean) =>
      classifyUpstreamAnswer({
        status: 200,
        snapshot: snapshotFromRateLimits(
          {
            rateLimits: {
              primary: null,
              secondary: null,
              planType: 'business',
              individualLimit: { limit: '100', used: '12', remainingPercent, resetsAt: now / 1000 + 600 },
              spendControlReached: reached,
            },
          },
          now,
        ),
        now,
      });
    const ok = read(88, false);
    assert.deepEqual(
      [ok.state, ok.reason, ok.message],
      ['ok', 'no_rate_limit_windows', 'no rate-limit windows: spend control, 12% of budget used'],
    );
    const out = read(0, true);
    assert.deepEqual([out.state, out.reason, out.resetAfterSeconds], ['exhausted', 'spend_control_reached', 600]);
  });
});
