import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectDisagreement,
  failureClass,
  mayReprobe,
  type ProbeVerdict,
  type RequestOutcomes,
} from './disagreement.ts';

const outcomes = (o: Partial<RequestOutcomes>): RequestOutcomes => ({
  requests: 0,
  failures: 0,
  authFailures: 0,
  quotaFailures: 0,
  successes: 0,
  lastSuccessAt: null,
  lastFailureAt: null,
  ...o,
});
const verdict = (state: ProbeVerdict['state'], disabledBy: ProbeVerdict['disabledBy'] = null): ProbeVerdict => ({
  state,
  checkedAt: 1,
  disabledBy,
});

describe('detectDisagreement', () => {
  const table: Array<[string, ProbeVerdict, Partial<RequestOutcomes>, string | null]> = [
    [
      'ok, 40 of 40 failed with 429 usage_limit_reached',
      verdict('ok'),
      { requests: 40, failures: 40, quotaFailures: 40 },
      'usable_but_quota_failures',
    ],
    [
      'ok, 6 of 10 failed with 401',
      verdict('ok'),
      { requests: 10, failures: 6, authFailures: 6, successes: 4 },
      'usable_but_auth_failures',
    ],
    ['ok, 4 quota failures are below the count', verdict('ok'), { requests: 4, failures: 4, quotaFailures: 4 }, null],
    [
      'ok, 5 of 100 failing is below the share',
      verdict('ok'),
      { requests: 100, failures: 5, quotaFailures: 5, successes: 95 },
      null,
    ],
    [
      'ok, failures of another kind (500s) are not a verdict on the account',
      verdict('ok'),
      { requests: 20, failures: 20 },
      null,
    ],
    [
      'exhausted, then 3 successes: reset early',
      verdict('exhausted'),
      { requests: 3, successes: 3 },
      'exhausted_but_succeeding',
    ],
    ['exhausted, 2 successes are not enough', verdict('exhausted'), { requests: 2, successes: 2 }, null],
    [
      'disabled by codex-fleet, requests succeed',
      verdict('exhausted', 'codex-fleet'),
      { requests: 5, successes: 5 },
      'disabled_but_succeeding',
    ],
    ['disabled by a person: never second-guessed', verdict('exhausted', 'person'), { requests: 5, successes: 5 }, null],
    ['no requests since the probe', verdict('ok'), {}, null],
    [
      'never probed',
      { state: null, checkedAt: null, disabledBy: null },
      { requests: 40, quotaFailures: 40, failures: 40 },
      null,
    ],
    [
      'auth_invalid and failing: they agree',
      verdict('auth_invalid'),
      { requests: 10, failures: 10, authFailures: 10 },
      null,
    ],
  ];
  for (const [name, v, o, want] of table) {
    it(name, () => assert.equal(detectDisagreement(v, outcomes(o))?.kind ?? null, want));
  }
  it('says what each side said, in numbers', () => {
    const d = detectDisagreement(verdict('ok'), outcomes({ requests: 40, failures: 40, quotaFailures: 40 }));
    assert.equal(d?.summary, 'probe says usable, but 40 of 40 requests since failed with a quota limit');
  });
});

describe('failureClass', () => {
  const table: Array<[number, string | null, string]> = [
    [429, 'usage_limit_reached', 'quota'],
    [429, null, 'other'],
    [429, 'http_429', 'other'],
    [401, 'token_expired', 'auth'],
    [401, null, 'auth'],
    [403, 'account_deactivated', 'auth'],
    [403, 'unsupported_country', 'other'],
    [500, 'server_error', 'other'],
  ];
  for (const [status, type, want] of table)
    it(`${status} ${type} → ${want}`, () => assert.equal(failureClass(status, type), want));
});

describe('mayReprobe', () => {
  it('at most once per 5 minutes per account', () => {
    assert.equal(mayReprobe(null, 0), true);
    assert.equal(mayReprobe(0, 4 * 60_000), false);
    assert.equal(mayReprobe(0, 5 * 60_000), true);
  });
});
