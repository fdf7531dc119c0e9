import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProbeResult } from '../domain/quota.ts';
import { asCachedResult, cacheDecision } from './cache.ts';

const T0 = Date.UTC(2026, 0, 1);

function result(over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    state: 'ok',
    reason: 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: null,
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt: new Date(T0).toISOString(),
    attempts: 1,
    usagePath: '/wham/usage',
    ...over,
  };
}

describe('cacheDecision', () => {
  const rows: [string, ProbeResult | null, number, boolean, string][] = [
    ['no entry → network', null, T0, false, 'no_entry'],
    ['fresh ok → cache', result(), T0 + 30_000, true, 'fresh'],
    ['ok past the TTL → network', result(), T0 + 60_000, false, 'expired'],
    [
      'exhausted before its reset → cache, even long after the TTL',
      result({ state: 'exhausted', resetAfterSeconds: 3600 }),
      T0 + 3_599_000,
      true,
      'exhausted_until_reset',
    ],
    [
      'exhausted after its reset → network',
      result({ state: 'exhausted', resetAfterSeconds: 3600 }),
      T0 + 3_600_000,
      false,
      'reset_passed',
    ],
    [
      'exhausted with a reset of 0 → network',
      result({ state: 'exhausted', resetAfterSeconds: 0 }),
      T0 + 1,
      false,
      'reset_passed',
    ],
    [
      'exhausted with unknown reset → TTL',
      result({ state: 'exhausted', resetAfterSeconds: null }),
      T0 + 10_000,
      true,
      'fresh',
    ],
    ['exhausted with unknown reset past TTL → network', result({ state: 'exhausted' }), T0 + 61_000, false, 'expired'],
    [
      'transient failure → network',
      result({ state: 'unknown', reason: 'timeout', transient: true }),
      T0 + 1,
      false,
      'transient_failure',
    ],
    [
      'auth_invalid within TTL → cache',
      result({ state: 'auth_invalid', reason: 'auth_invalid' }),
      T0 + 1,
      true,
      'fresh',
    ],
    ['unparsable fetchedAt → network', result({ fetchedAt: 'garbage' }), T0, false, 'bad_timestamp'],
    [
      'fetchedAt in the future (clock skew) → network',
      result({ fetchedAt: new Date(T0 + 3_600_000).toISOString() }),
      T0,
      false,
      'bad_timestamp',
    ],
  ];
  for (const [name, last, now, useCache, reason] of rows) {
    test(name, () => {
      const d = cacheDecision(last, now, 60_000);
      assert.equal(d.useCache, useCache);
      assert.equal(d.reason, reason);
    });
  }
  test('custom TTL', () => {
    assert.equal(cacheDecision(result(), T0 + 5000, 1000).useCache, false);
    assert.equal(cacheDecision(result(), T0 + 500, 1000).useCache, true);
  });
});

test('asCachedResult marks the source and shortens countdowns', () => {
  const r = result({
    state: 'exhausted',
    resetAfterSeconds: 100,
    snapshot: {
      plan: 'plus',
      allowed: false,
      limitReached: true,
      rateLimitReachedType: null,
      windows: [
        {
          kind: '5h',
          scope: 'primary',
          limitName: null,
          usedPercent: 100,
          remainingPercent: 0,
          windowSeconds: 18000,
          resetAfterSeconds: 100,
          resetsAt: new Date(T0 + 100_000).toISOString(),
        },
      ],
      credits: { hasCredits: null, unlimited: null, balance: null },
      fetchedAt: new Date(T0).toISOString(),
    },
  });
  const c = asCachedResult(r, T0 + 40_000);
  assert.equal(c.source, 'cache');
  assert.equal(c.resetAfterSeconds, 60);
  assert.equal(c.snapshot!.windows[0].resetAfterSeconds, 60);
  assert.equal(r.source, 'network', 'the original is not mutated');
  assert.equal(asCachedResult(r, T0 + 500_000).resetAfterSeconds, 0);
});
