import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeResult } from '../domain/quota.ts';
import type { AccountStatus, FlagState, TokenState } from '../domain/report.ts';
import { isHardAuthFailure, nextFlagState } from './flags.ts';
import { deriveStatus } from './status.ts';
import { HOUR, iso, makeAccount, okProbe, PROBES, T0 } from './test-fixtures.ts';

const freshToken: TokenState = {
  expiresAt: T0 + 5 * 24 * HOUR,
  lastRefreshAt: T0 - HOUR,
  refreshFailures: 0,
  hasRefreshToken: true,
};

interface Row {
  name: string;
  probe: ProbeResult | null;
  lastGood?: ProbeResult | null;
  token?: Partial<TokenState>;
  disabled?: boolean;
  flag?: FlagState;
  status: AccountStatus;
  rateLimited?: boolean;
  stale?: boolean;
  resetsAt?: number | null;
  reason?: RegExp;
  score?: [number, number];
}

const good = okProbe(
  [
    { kind: '5h', used: 10 },
    { kind: 'weekly', used: 30 },
  ],
  T0 - HOUR,
);
const flag: FlagState = {
  flaggedAt: T0 - HOUR,
  flaggedReason: 'refresh_token_reused',
  lastVerified: null,
  verificationCount: 0,
};

const rows: Row[] = [
  {
    name: 'plenty of quota',
    probe: okProbe([
      { kind: '5h', used: 10 },
      { kind: 'weekly', used: 20 },
    ]),
    status: 'healthy',
    score: [80, 90],
  },
  {
    name: 'full quota scores 100',
    probe: okProbe([
      { kind: '5h', used: 0 },
      { kind: 'weekly', used: 0 },
    ]),
    status: 'healthy',
    score: [100, 100],
  },
  {
    name: 'low 5h quota',
    probe: okProbe([
      { kind: '5h', used: 85 },
      { kind: 'weekly', used: 20 },
    ]),
    status: 'warning',
    reason: /low quota: 15% left/,
    score: [30, 50],
  },
  {
    name: 'low weekly only (free plan)',
    probe: okProbe([{ kind: 'weekly', used: 95 }]),
    status: 'warning',
    reason: /5% left/,
  },
  {
    name: '5h window at 100% is rate-limited with reset',
    probe: okProbe([
      { kind: '5h', used: 100, resetIn: 5400 },
      { kind: 'weekly', used: 40 },
    ]),
    status: 'rate-limited',
    rateLimited: true,
    resetsAt: T0 + 5400_000,
    reason: /resets in 1h 30m/,
  },
  {
    name: '429 usage_limit_reached with reset',
    probe: PROBES.usageLimit(7200),
    status: 'rate-limited',
    rateLimited: true,
    resetsAt: T0 + 7200_000,
  },
  {
    name: '429 free plan without reset',
    probe: PROBES.usageLimit(null),
    status: 'rate-limited',
    resetsAt: null,
    reason: /reset time unknown/,
  },
  {
    name: 'reset passed since an exhausted check',
    probe: PROBES.usageLimit(600, T0 - HOUR),
    status: 'warning',
    rateLimited: false,
    reason: /reset has passed/,
  },
  { name: 'disabled manually', probe: good, disabled: true, status: 'disabled', score: [0, 0] },
  { name: 'disabled wins over error', probe: PROBES.authInvalid(), disabled: true, status: 'disabled' },
  {
    name: '401 after refresh: auth invalid',
    probe: PROBES.authInvalid(),
    status: 'error',
    reason: /auth invalid/,
    score: [0, 0],
  },
  { name: 'refresh token dead', probe: PROBES.refreshDead(), status: 'error' },
  {
    name: 'flagged account is error even with stale good data',
    probe: PROBES.timeout(),
    lastGood: good,
    flag,
    status: 'error',
    reason: /refresh_token_reused/,
  },
  { name: '402 deactivated workspace', probe: PROBES.deactivated(), status: 'error', reason: /workspace deactivated/ },
  { name: '403 JSON account blocked', probe: PROBES.blocked(), status: 'error', reason: /blocked/ },
  { name: 'usage_not_included', probe: PROBES.noCodex(), status: 'error' },
  {
    name: 'cloudflare keeps last good (healthy, stale)',
    probe: PROBES.cloudflare(),
    lastGood: good,
    status: 'healthy',
    stale: true,
  },
  {
    name: 'timeout keeps last known rate-limit',
    probe: PROBES.timeout(),
    lastGood: PROBES.usageLimit(7200, T0 - 60_000),
    status: 'rate-limited',
    stale: true,
  },
  {
    name: '5xx keeps last known error',
    probe: PROBES.overloaded(),
    lastGood: PROBES.deactivated(T0 - HOUR),
    status: 'error',
    stale: true,
  },
  { name: 'throttled keeps last good', probe: PROBES.throttled(), lastGood: good, status: 'healthy', stale: true },
  {
    name: 'never checked is a warning, not healthy',
    probe: null,
    status: 'warning',
    reason: /never checked/,
    score: [40, 60],
  },
  {
    name: 'only failed probes: warning',
    probe: PROBES.cloudflare(),
    status: 'warning',
    reason: /no successful check/,
    stale: true,
  },
  {
    name: 'expired access token with refresh token',
    probe: PROBES.authExpired(),
    status: 'warning',
    reason: /refresh is needed/,
  },
  {
    name: 'expired access token, no refresh token',
    probe: PROBES.authExpired(),
    token: { hasRefreshToken: false, expiresAt: T0 - 1 },
    status: 'error',
  },
  {
    name: 'aging refresh',
    probe: good,
    token: { lastRefreshAt: T0 - 10 * 24 * HOUR },
    status: 'warning',
    reason: /refresh is aging: last refreshed 10d ago/,
  },
  {
    name: 'refresh failures',
    probe: good,
    token: { refreshFailures: 2 },
    status: 'warning',
    reason: /2 failed refresh/,
  },
  {
    name: 'access-only token expiring soon',
    probe: good,
    token: { hasRefreshToken: false, expiresAt: T0 + 2 * HOUR },
    status: 'warning',
    reason: /expires in 2h and cannot be refreshed/,
  },
  {
    name: 'token expiring soon is fine with a refresh token',
    probe: good,
    token: { expiresAt: T0 + 60_000 },
    status: 'healthy',
  },
];

describe('deriveStatus', () => {
  for (const row of rows) {
    it(row.name, () => {
      const r = deriveStatus(
        {
          account: makeAccount({ disabled: row.disabled ?? false }),
          probe: row.probe,
          lastGood: row.lastGood,
          token: { ...freshToken, ...row.token },
          flag: row.flag,
        },
        T0,
      );
      assert.equal(r.status, row.status, r.reasons.join('; '));
      if (row.rateLimited !== undefined) assert.equal(r.rateLimited, row.rateLimited);
      assert.equal(r.rateLimited, r.status === 'rate-limited');
      if (row.stale !== undefined) assert.equal(r.stale, row.stale);
      if (row.resetsAt !== undefined) assert.equal(r.resetsAt, row.resetsAt);
      if (row.reason) assert.match(r.reasons.join('; '), row.reason);
      assert.ok(r.healthScore >= 0 && r.healthScore <= 100 && Number.isInteger(r.healthScore));
      if (row.score)
        assert.ok(r.healthScore >= row.score[0] && r.healthScore <= row.score[1], `score ${r.healthScore}`);
    });
  }

  it('a transient probe never changes the status a good probe gave', () => {
    for (const last of [good, PROBES.usageLimit(7200, T0 - 60_000), PROBES.deactivated(T0 - HOUR)]) {
      const before = deriveStatus({ account: makeAccount(), probe: last, token: freshToken }, T0);
      for (const t of [PROBES.cloudflare(), PROBES.timeout(), PROBES.overloaded(), PROBES.throttled()]) {
        const after = deriveStatus({ account: makeAccount(), probe: t, lastGood: last, token: freshToken }, T0);
        assert.equal(after.status, before.status);
        assert.equal(after.healthScore, before.healthScore);
      }
    }
  });

  it('the score orders accounts by remaining quota', () => {
    const score = (used: number) =>
      deriveStatus({ account: makeAccount(), probe: okProbe([{ kind: '5h', used }]), token: freshToken }, T0)
        .healthScore;
    assert.ok(score(0) > score(30) && score(30) > score(60) && score(60) > score(90));
  });
});

describe('flags', () => {
  const dead = PROBES.refreshDead('refresh_token_expired');
  const rows: Array<{ name: string; prev: FlagState | null; probe: ProbeResult | null; expect: FlagState | null }> = [
    { name: 'no flag, success', prev: null, probe: good, expect: null },
    {
      name: 'hard failure flags',
      prev: null,
      probe: dead,
      expect: { flaggedAt: T0, flaggedReason: 'refresh_token_expired', lastVerified: null, verificationCount: 0 },
    },
    {
      name: 'invalid_grant flags',
      prev: null,
      probe: { ...PROBES.authInvalid(), reason: 'auth_invalid', errorCode: 'invalid_grant' },
      expect: { flaggedAt: T0, flaggedReason: 'invalid_grant', lastVerified: null, verificationCount: 0 },
    },
    { name: 'plain 401 does not flag', prev: null, probe: PROBES.authInvalid(), expect: null },
    { name: 'deactivated does not flag', prev: null, probe: PROBES.deactivated(), expect: null },
    {
      name: 'later failure verifies',
      prev: flag,
      probe: dead,
      expect: { ...flag, lastVerified: T0, verificationCount: 1 },
    },
    { name: 'success un-flags', prev: flag, probe: good, expect: null },
    { name: 'exhausted proves auth works: un-flags', prev: flag, probe: PROBES.usageLimit(100), expect: null },
    { name: 'transient leaves the flag', prev: flag, probe: PROBES.cloudflare(), expect: flag },
    { name: 'transient does not flag', prev: null, probe: PROBES.timeout(), expect: null },
    { name: 'no probe leaves the flag', prev: flag, probe: null, expect: flag },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(nextFlagState(row.prev, row.probe, T0), row.expect));
  }
  it('counts verifications across probes', () => {
    let f: FlagState | null = null;
    for (let i = 0; i < 4; i++) f = nextFlagState(f, dead, T0 + i * HOUR);
    assert.equal(f?.verificationCount, 3);
    assert.equal(f?.lastVerified, T0 + 3 * HOUR);
    assert.equal(f?.flaggedAt, T0);
    assert.equal(isHardAuthFailure(PROBES.cloudflare()), false);
    assert.equal(iso(T0), '2026-01-01T12:00:00.000Z');
  });
});
