// The one "needs a new sign-in" rule: the same upstream answer (local or through CPA) goes through
// the one classifier, and the status (report, API, page) and the inspection (inspect) then agree:
// error + Reauth when only a person can help, never Keep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Account } from '../../src/domain/account.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../../src/domain/inspection.ts';
import type { ProbeResult } from '../../src/domain/quota.ts';
import { inspectAccount } from '../../src/inspect/inspection.ts';
import { deriveStatus, needsSignIn, tokenStateOf } from '../../src/inspect/status.ts';
import { failProbe, HOUR, makeAccount, T0 } from '../../src/inspect/test-fixtures.ts';
import { classifyUpstreamAnswer, type UpstreamAnswer } from '../../src/upstream/classify.ts';

const EXPIRED_BODY = JSON.stringify({ error: { code: 'token_expired', message: 'Provided token is expired.' } });
const local = (refreshToken: string | null) =>
  makeAccount({ credentials: { ...makeAccount().credentials, refreshToken, expiresAt: T0 - HOUR } });
const cpa = (remoteRefreshToken: boolean | null): Account =>
  makeAccount({
    id: 'cpa:main:alice.json',
    sourceKind: 'cpa',
    sourcePath: null,
    credentials: {
      accessToken: null,
      refreshToken: null,
      idToken: null,
      accountId: 'acct-1',
      expiresAt: T0 - HOUR,
      lastRefresh: null,
      remoteRefreshToken,
    },
  });

function probeOf(answer: Omit<UpstreamAnswer, 'now'>): ProbeResult {
  const c = classifyUpstreamAnswer({ ...answer, now: T0 });
  return failProbe({ ...c, httpStatus: answer.status ?? null, source: 'network' });
}

const CASES: Array<{ name: string; account: Account; answer: Omit<UpstreamAnswer, 'now'>; reauth: boolean }> = [
  {
    name: 'local, expired token, no refresh token (token layer: no_refresh_token)',
    account: local(null),
    answer: { status: 401, body: EXPIRED_BODY, refreshFailure: { errorCode: 'no_refresh_token', httpStatus: null } },
    reauth: true,
  },
  {
    name: 'local, refresh token dead per the journal (final, no HTTP status)',
    account: local('rt'),
    answer: {
      status: 401,
      body: EXPIRED_BODY,
      refreshFailure: { errorCode: 'refresh_token_dead', httpStatus: null, final: true },
    },
    reauth: true,
  },
  {
    name: 'local, refresh failed on the network: says nothing',
    account: local('rt'),
    answer: { status: 401, body: EXPIRED_BODY, refreshFailure: { errorCode: 'refresh_error', httpStatus: null } },
    reauth: false,
  },
  {
    name: 'CPA, expired token, its file has no refresh token',
    account: cpa(false),
    answer: { status: 401, body: EXPIRED_BODY, tokenExpired: true },
    reauth: true,
  },
  {
    name: 'CPA, expired token, its file has a refresh token (CPA renews it)',
    account: cpa(true),
    answer: { status: 401, body: EXPIRED_BODY, tokenExpired: true },
    reauth: false,
  },
  {
    name: 'CPA, file not read: CPA is trusted to refresh',
    account: cpa(null),
    answer: { status: 401, body: EXPIRED_BODY, tokenExpired: true },
    reauth: false,
  },
];

describe('needs sign-in: one rule for status and inspection', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const probe = probeOf(c.answer);
      const token = tokenStateOf(c.account);
      const status = deriveStatus({ account: c.account, probe, token }, T0);
      const inspected = inspectAccount(c.account, { probe, token }, DEFAULT_INSPECTION_THRESHOLDS, T0);
      assert.equal(needsSignIn(probe, token), c.reauth, `${probe.state}/${probe.errorCode}`);
      if (c.reauth) {
        assert.equal(status.status, 'error', status.reasons.join('; '));
        assert.equal(inspected.action, 'Reauth', inspected.reason);
        assert.match(`${status.reasons.join(' ')} ${inspected.reason}`, /sign in again/);
      } else {
        assert.notEqual(status.status, 'error', status.reasons.join('; '));
        assert.equal(inspected.action, 'Keep', inspected.reason);
      }
    });
  }

  it('a 401 through CPA keeps the upstream code and claims no refresh', () => {
    const expired = classifyUpstreamAnswer({ status: 401, body: EXPIRED_BODY, tokenExpired: false, now: T0 });
    assert.equal(expired.state, 'auth_expired');
    assert.equal(expired.errorCode, 'token_expired');
    const rejected = classifyUpstreamAnswer({
      status: 401,
      body: JSON.stringify({ error: { code: 'invalid_token', message: 'Could not parse your token.' } }),
      tokenExpired: false,
      now: T0,
    });
    assert.equal(rejected.state, 'auth_invalid');
    assert.equal(rejected.errorCode, 'invalid_token');
    const inspected = inspectAccount(
      cpa(true),
      { probe: failProbe({ ...rejected, httpStatus: 401, source: 'cpa' }) },
      DEFAULT_INSPECTION_THRESHOLDS,
      T0,
    );
    assert.equal(inspected.action, 'Reauth');
    assert.doesNotMatch(inspected.reason, /after token refresh/);
    assert.match(inspected.reason, /401 invalid_token/);
  });
});
