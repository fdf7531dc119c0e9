import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InspectionThresholds, SuggestedAction } from '../domain/inspection.ts';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../domain/inspection.ts';
import type { AccountState, ProbeResult } from '../domain/quota.ts';
import { inspectAccount, sanitizeMessage } from './inspection.ts';
import { failProbe, HOUR, makeAccount, okProbe, PROBES, T0 } from './test-fixtures.ts';

const with5h: InspectionThresholds = {
  ...DEFAULT_INSPECTION_THRESHOLDS,
  '5h': { enabled: true, disableAtUsedPercent: 100 },
};
const at90: InspectionThresholds = {
  ...DEFAULT_INSPECTION_THRESHOLDS,
  weekly: { enabled: true, disableAtUsedPercent: 90 },
};

interface Row {
  name: string;
  probe: ProbeResult | null;
  disabled?: boolean;
  noRefresh?: boolean;
  thresholds?: InspectionThresholds;
  state: AccountState;
  action: SuggestedAction;
  reason: RegExp;
  missing?: string[];
}

const rows: Row[] = [
  {
    name: 'healthy: Keep',
    probe: okProbe([
      { kind: '5h', used: 10 },
      { kind: 'weekly', used: 20 },
    ]),
    state: 'ok',
    action: 'Keep',
    reason: /quota available \(5h 10% used, weekly 20% used\)/,
    missing: [],
  },
  {
    name: 'weekly 100%: Disable with reset',
    probe: okProbe([
      { kind: '5h', used: 30 },
      { kind: 'weekly', used: 100, resetIn: 2 * 86400 + 4 * 3600 },
    ]),
    state: 'exhausted',
    action: 'Disable',
    reason: /weekly window 100% used, resets in 2d 4h/,
  },
  {
    name: 'monthly 100%: Disable',
    probe: okProbe([{ kind: 'monthly', used: 100 }]),
    state: 'exhausted',
    action: 'Disable',
    reason: /monthly window 100% used/,
  },
  {
    name: '5h 100% with 5h threshold off: Keep',
    probe: okProbe([
      { kind: '5h', used: 100, resetIn: 3600 },
      { kind: 'weekly', used: 50 },
    ]),
    state: 'exhausted',
    action: 'Keep',
    reason: /5h window exhausted, resets in 1h/,
  },
  {
    name: '5h 100% with 5h threshold on: Disable',
    probe: okProbe([
      { kind: '5h', used: 100, resetIn: 3600 },
      { kind: 'weekly', used: 50 },
    ]),
    thresholds: with5h,
    state: 'exhausted',
    action: 'Disable',
    reason: /5h window 100% used, resets in 1h/,
  },
  {
    name: 'weekly 92% with threshold 90: Disable',
    probe: okProbe([{ kind: 'weekly', used: 92 }]),
    thresholds: at90,
    state: 'ok',
    action: 'Disable',
    reason: /weekly window 92% used/,
  },
  {
    name: 'weekly 92% with default threshold: Keep',
    probe: okProbe([{ kind: 'weekly', used: 92 }]),
    state: 'ok',
    action: 'Keep',
    reason: /weekly 92% used/,
  },
  {
    name: '429 usage_limit_reached, weekly reset: Disable',
    probe: PROBES.usageLimit(3 * 86400),
    state: 'exhausted',
    action: 'Disable',
    reason: /usage limit reached \(usage_limit_reached\), resets in 3d/,
  },
  {
    name: '429 free plan, no reset: Disable',
    probe: PROBES.usageLimit(null),
    state: 'exhausted',
    action: 'Disable',
    reason: /reset unknown/,
    missing: ['reset time'],
  },
  {
    name: '429 with 5h-sized reset, 5h off: Keep',
    probe: PROBES.usageLimit(1800),
    state: 'exhausted',
    action: 'Keep',
    reason: /^usage limit reached, resets in 30m/,
  },
  {
    name: 'already disabled and still exhausted: Keep',
    probe: okProbe([{ kind: 'weekly', used: 100 }]),
    disabled: true,
    state: 'exhausted',
    action: 'Keep',
    reason: /already disabled; weekly window 100% used/,
  },
  {
    name: 'disabled and recovered: Enable',
    probe: okProbe([
      { kind: '5h', used: 0 },
      { kind: 'weekly', used: 5 },
    ]),
    disabled: true,
    state: 'ok',
    action: 'Enable',
    reason: /quota available again/,
  },
  {
    name: 'disabled, ok without windows: Keep (unknown is not healthy)',
    probe: okProbe([]),
    disabled: true,
    state: 'ok',
    action: 'Keep',
    reason: /no quota windows/,
    missing: ['quota windows'],
  },
  {
    name: 'cloudflare 403 HTML: Keep unknown',
    probe: PROBES.cloudflare(),
    state: 'unknown',
    action: 'Keep',
    reason: /^unknown, probe failed \(cloudflare_challenge 403\)$/,
  },
  {
    name: 'timeout: Keep unknown',
    probe: PROBES.timeout(),
    state: 'unknown',
    action: 'Keep',
    reason: /^unknown, probe failed/,
  },
  {
    name: '503 overloaded: Keep unknown',
    probe: PROBES.overloaded(),
    state: 'unknown',
    action: 'Keep',
    reason: /^unknown, probe failed \(server_overloaded 503\)/,
  },
  {
    name: '429 throttled: Keep unknown',
    probe: PROBES.throttled(),
    state: 'unknown',
    action: 'Keep',
    reason: /^unknown, probe failed/,
  },
  {
    name: 'transient on a disabled account: no Enable',
    probe: PROBES.timeout(),
    disabled: true,
    state: 'unknown',
    action: 'Keep',
    reason: /unknown/,
  },
  {
    name: 'never probed',
    probe: null,
    state: 'unknown',
    action: 'Keep',
    reason: /never probed/,
    missing: ['probe result'],
  },
  {
    name: '401 after refresh: Reauth',
    probe: PROBES.authInvalid(),
    state: 'auth_invalid',
    action: 'Reauth',
    reason: /auth invalid \(401 token_invalidated\); sign in again/,
  },
  {
    name: 'refresh_token_reused: Reauth',
    probe: PROBES.refreshDead(),
    state: 'auth_invalid',
    action: 'Reauth',
    reason: /refresh token is dead \(refresh_token_reused\)/,
  },
  {
    name: 'a 403 classified auth_invalid is still not Reauth',
    probe: failProbe({ state: 'auth_invalid', reason: 'auth_invalid', httpStatus: 403 }),
    state: 'unknown',
    action: 'Keep',
    reason: /403 is not an auth verdict/,
  },
  {
    name: 'expired access token, refresh token present: Keep',
    probe: PROBES.authExpired(),
    state: 'auth_expired',
    action: 'Keep',
    reason: /refreshed before the next probe/,
  },
  {
    name: 'expired access token, no refresh token: Reauth',
    probe: PROBES.authExpired(),
    noRefresh: true,
    state: 'auth_expired',
    action: 'Reauth',
    reason: /no refresh token/,
  },
  {
    name: '402 deactivated workspace: Delete',
    probe: PROBES.deactivated(),
    state: 'workspace_deactivated',
    action: 'Delete',
    reason: /workspace deactivated \(402 deactivated_workspace\)/,
  },
  {
    name: '403 JSON account_deactivated: Disable',
    probe: PROBES.blocked(),
    state: 'blocked',
    action: 'Disable',
    reason: /account blocked \(403 account_deactivated\)/,
  },
  {
    name: 'usage_not_included: Disable',
    probe: PROBES.noCodex(),
    state: 'no_codex',
    action: 'Disable',
    reason: /does not include Codex/,
  },
  {
    name: 'blocked and already disabled: Keep',
    probe: PROBES.blocked(),
    disabled: true,
    state: 'blocked',
    action: 'Keep',
    reason: /already disabled/,
  },
];

describe('inspectAccount', () => {
  for (const row of rows) {
    it(row.name, () => {
      const account = makeAccount({ disabled: row.disabled ?? false });
      if (row.noRefresh) account.credentials.refreshToken = null;
      const r = inspectAccount(account, { probe: row.probe }, row.thresholds ?? DEFAULT_INSPECTION_THRESHOLDS, T0);
      assert.equal(r.state, row.state);
      assert.equal(r.action, row.action, r.reason);
      assert.match(r.reason, row.reason);
      assert.doesNotMatch(r.reason, /\n/);
      if (row.missing) assert.deepEqual(r.missing, row.missing);
      assert.equal(r.inspectedAt, T0);
      assert.equal(r.disabled, row.disabled ?? false);
    });
  }

  it('evidence carries status, code, windows, reset, plan and token expiry', () => {
    const r = inspectAccount(
      makeAccount(),
      {
        probe: okProbe([
          { kind: '5h', used: 100, resetIn: 600 },
          { kind: 'weekly', used: 40 },
        ]),
      },
      DEFAULT_INSPECTION_THRESHOLDS,
      T0,
    );
    assert.equal(r.evidence.httpStatus, 200);
    assert.equal(r.evidence.plan, 'plus');
    assert.deepEqual(
      r.evidence.windows.map((w) => [w.kind, w.usedPercent, w.resetsAt]),
      [
        ['5h', 100, '2026-01-01T12:10:00.000Z'],
        ['weekly', 40, '2026-01-05T00:00:00.000Z'],
      ],
    );
    assert.equal(r.evidence.tokenExpiresAt, new Date(T0 + 240 * HOUR).toISOString());
    const e = inspectAccount(
      makeAccount(),
      { probe: PROBES.usageLimit(7200) },
      DEFAULT_INSPECTION_THRESHOLDS,
      T0,
    ).evidence;
    assert.equal(e.errorCode, 'usage_limit_reached');
    assert.equal(e.resetsAt, '2026-01-01T14:00:00.000Z');
  });

  it('missing facts are listed, never guessed', () => {
    const account = makeAccount({ plan: null });
    account.credentials.expiresAt = null;
    const probe = okProbe([{ kind: '5h', used: null, resetIn: null }]);
    probe.snapshot!.plan = null;
    const r = inspectAccount(account, { probe }, DEFAULT_INSPECTION_THRESHOLDS, T0);
    assert.equal(r.action, 'Keep');
    assert.deepEqual(r.missing, ['5h used %', '5h reset time', 'plan', 'token expiry']);
  });

  it('never leaks a secret into reason or evidence', () => {
    const probe = {
      ...PROBES.authInvalid(),
      message: 'bad token Bearer eyJhbGciOi.abc.def for sk-proj-abcdefghijk\nsecond line',
    };
    const r = inspectAccount(makeAccount(), { probe }, DEFAULT_INSPECTION_THRESHOLDS, T0);
    const text = JSON.stringify(r);
    assert.doesNotMatch(text, /eyJ|sk-proj|second line|secret/);
    assert.equal(r.evidence.message, 'bad token Bearer **** for sk-****');
  });
});

describe('sanitizeMessage', () => {
  const rows: Array<[string | null, string | null]> = [
    [null, null],
    ['', null],
    ['<!DOCTYPE html><html><title>Just a moment...</title>', 'HTML page (not an API answer)'],
    ['Your session has ended. Please sign in again.', 'Your session has ended. Please sign in again.'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig leaked', 'token [jwt] leaked'],
    ['x'.repeat(300), `${'x'.repeat(199)}…`],
    ['key 0123456789abcdefABCDEF0123456789abcdef done', 'key [redacted] done'],
    ['word '.repeat(60), `${'word '.repeat(60).slice(0, 199)}…`],
  ];
  for (const [input, out] of rows) it(String(input).slice(0, 40), () => assert.equal(sanitizeMessage(input), out));
});
