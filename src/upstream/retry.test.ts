import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelayMs, isRetryableReason, nextRetryDelayMs, parseRetryAfter } from './retry.ts';

const NOW = Date.UTC(2026, 0, 1);
const policy = { baseDelayMs: 1000, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };

describe('parseRetryAfter', () => {
  const cases: [string | null, number | null][] = [
    ['5', 5],
    [' 12 ', 12],
    ['0', 0],
    ['1.5', 1.5],
    [new Date(NOW + 45_000).toUTCString(), 45],
    [new Date(NOW - 45_000).toUTCString(), 0],
    ['-3', null],
    ['soon', null],
    ['', null],
    [null, null],
  ];
  for (const [value, expected] of cases)
    test(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(parseRetryAfter(value, NOW), expected));
});

describe('backoff with full jitter', () => {
  test('ceiling doubles per attempt and is capped', () => {
    const top = () => 1;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, policy, top)),
      [1000, 2000, 4000, 8000, 8000, 8000],
    );
  });
  test('full jitter spans 0..ceiling', () => {
    assert.equal(
      backoffDelayMs(2, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(2, policy, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelayMs(2, policy, () => 7),
      4000,
      'a broken random source is clamped',
    );
  });
  test('Retry-After is a floor, and too long a Retry-After is not waited for', () => {
    assert.equal(
      nextRetryDelayMs(0, 3, policy, () => 0),
      3000,
    );
    assert.equal(
      nextRetryDelayMs(3, 1, policy, () => 1),
      8000,
    );
    assert.equal(
      nextRetryDelayMs(0, 3600, policy, () => 0),
      null,
    );
    assert.equal(
      nextRetryDelayMs(0, null, policy, () => 0.25),
      250,
    );
  });
  test('retryable: 408/429 throttle/5xx/network/Cloudflare; not quota or auth answers', () => {
    for (const r of [
      'cloudflare_challenge',
      'throttled',
      'server_error',
      'server_overloaded',
      'timeout',
      'network_error',
    ] as const) {
      assert.ok(isRetryableReason(r), r);
    }
    for (const r of [
      'usage_limit_reached',
      'auth_invalid',
      'account_blocked',
      'quota_available',
      'path_retired',
      'malformed_response',
    ] as const) {
      assert.ok(!isRetryableReason(r), r);
    }
  });
});
