// One table per policy rule (issue 6 item 5). Inspections come from the real inspectAccount over
// classified probes, so each row exercises the whole decision core.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  DisableOwnership,
  InspectionResult,
  PolicyDecisionKind,
  PolicySettings,
  SuggestedAction,
} from '../domain/inspection.ts';
import { DEFAULT_INSPECTION_THRESHOLDS, DEFAULT_POLICY_SETTINGS } from '../domain/inspection.ts';
import type { ProbeResult } from '../domain/quota.ts';
import { inspectAccount } from '../inspect/inspection.ts';
import { HOUR, MIN, makeAccount, okProbe, PROBES, T0 } from '../inspect/test-fixtures.ts';
import { confirmedSince, decideAction, ownershipForDisable } from './policy.ts';

const manual = DEFAULT_POLICY_SETTINGS;
const allAuto: PolicySettings = { autoDisable: true, autoEnable: true, autoDelete: true, deleteConfirmMinutes: 60 };
const SETTINGS: Record<string, PolicySettings> = {
  manual,
  allAuto,
  autoDisableOnly: { ...manual, autoDisable: true },
  autoEnableOnly: { ...manual, autoEnable: true },
  autoDeleteOnly: { ...manual, autoDelete: true },
};

function inspect(
  probe: ProbeResult | null,
  opts: { disabled?: boolean; at?: number; id?: string } = {},
): InspectionResult {
  const at = opts.at ?? T0;
  return inspectAccount(
    makeAccount({ disabled: opts.disabled ?? false, id: opts.id ?? 'acct-1' }),
    { probe },
    DEFAULT_INSPECTION_THRESHOLDS,
    at,
  );
}

const recovered = () =>
  inspect(
    okProbe([
      { kind: '5h', used: 0 },
      { kind: 'weekly', used: 3 },
    ]),
    { disabled: true },
  );
const owner = (over: Partial<DisableOwnership> = {}): DisableOwnership => ({
  disabledBy: 'codex-fleet',
  actor: 'schedule:hourly',
  reason: 'weekly window 100% used',
  state: 'exhausted',
  disabledAt: T0 - 3 * 24 * HOUR,
  until: T0 - HOUR,
  ...over,
});

interface Row {
  name: string;
  inspection: InspectionResult;
  ownership?: DisableOwnership | null;
  history?: InspectionResult[];
  settings: PolicySettings;
  now?: number;
  decision: PolicyDecisionKind;
  action: SuggestedAction | null;
  reason?: RegExp;
}

function table(rows: Row[]) {
  for (const row of rows) {
    it(row.name, () => {
      const d = decideAction({
        inspection: row.inspection,
        ownership: row.ownership ?? null,
        history: row.history,
        settings: row.settings,
        now: row.now ?? T0,
      });
      assert.equal(d.decision, row.decision, d.reason);
      assert.equal(d.action, row.action, d.reason);
      if (row.reason) assert.match(d.reason, row.reason);
      assert.ok(d.reason.length > 0);
    });
  }
}

describe('rule: a manual disable is never auto-enabled', () => {
  table([
    {
      name: 'person, all auto on: nothing',
      inspection: recovered(),
      ownership: owner({ disabledBy: 'person', actor: 'ops@corp', until: null }),
      settings: allAuto,
      decision: 'none',
      action: null,
      reason: /by ops@corp.*never re-enables/,
    },
    {
      name: 'person, manual: nothing',
      inspection: recovered(),
      ownership: owner({ disabledBy: 'person', actor: null, until: null }),
      settings: manual,
      decision: 'none',
      action: null,
      reason: /by a person/,
    },
    {
      name: 'no ownership record, all auto on: only queued',
      inspection: recovered(),
      ownership: null,
      settings: allAuto,
      decision: 'queue',
      action: 'Enable',
      reason: /outside codex-fleet/,
    },
    {
      name: 'codex-fleet, auto-enable on: automatic',
      inspection: recovered(),
      ownership: owner(),
      settings: allAuto,
      decision: 'auto',
      action: 'Enable',
    },
    {
      name: 'codex-fleet, manual: queued',
      inspection: recovered(),
      ownership: owner(),
      settings: manual,
      decision: 'queue',
      action: 'Enable',
    },
  ]);
});

describe('rule: auto-enable only after the reason cleared (reset passed)', () => {
  const stillExhausted = inspect(okProbe([{ kind: 'weekly', used: 100 }]), { disabled: true });
  table([
    {
      name: 'before the reset: nothing',
      inspection: recovered(),
      ownership: owner({ until: T0 + HOUR }),
      settings: allAuto,
      decision: 'none',
      action: null,
      reason: /until the reset in 1h/,
    },
    {
      name: 'at the reset: automatic',
      inspection: recovered(),
      ownership: owner({ until: T0 }),
      settings: allAuto,
      decision: 'auto',
      action: 'Enable',
    },
    {
      name: 'after the reset: automatic',
      inspection: recovered(),
      ownership: owner({ until: T0 - MIN }),
      settings: allAuto,
      decision: 'auto',
      action: 'Enable',
    },
    {
      name: 'no reset recorded, probe ok: automatic',
      inspection: recovered(),
      ownership: owner({ until: null, state: 'blocked' }),
      settings: allAuto,
      decision: 'auto',
      action: 'Enable',
    },
    {
      name: 'reset passed but still exhausted: nothing',
      inspection: stillExhausted,
      ownership: owner({ until: T0 - MIN }),
      settings: allAuto,
      decision: 'none',
      action: null,
      reason: /already disabled/,
    },
    {
      name: 'reset passed, probe failed: nothing',
      inspection: inspect(PROBES.timeout(), { disabled: true }),
      ownership: owner({ until: T0 - MIN }),
      settings: allAuto,
      decision: 'none',
      action: null,
    },
    {
      name: 'enable on an enabled account: nothing',
      inspection: { ...recovered(), disabled: false },
      ownership: null,
      settings: allAuto,
      decision: 'none',
      action: null,
    },
  ]);
});

describe('rule: delete needs confirmed evidence', () => {
  const at = (m: number, p = PROBES.deactivated) => inspect(p(T0 - m * MIN), { at: T0 - m * MIN });
  const now = inspect(PROBES.deactivated());
  table([
    {
      name: 'seen once: disable, not delete',
      inspection: now,
      history: [],
      settings: allAuto,
      decision: 'auto',
      action: 'Disable',
      reason: /seen once/,
    },
    {
      name: 'seen 30m ago (< 60m): disable',
      inspection: now,
      history: [at(30)],
      settings: allAuto,
      decision: 'auto',
      action: 'Disable',
      reason: /30m apart; needs 60m/,
    },
    {
      name: 'seen 90m ago: delete',
      inspection: now,
      history: [at(90)],
      settings: allAuto,
      decision: 'auto',
      action: 'Delete',
      reason: /confirmed on inspections 1h 30m apart/,
    },
    {
      name: 'seen exactly 60m ago: delete',
      inspection: now,
      history: [at(60)],
      settings: allAuto,
      decision: 'auto',
      action: 'Delete',
    },
    {
      name: 'a success in between resets the evidence',
      inspection: now,
      history: [at(90), inspect(okProbe([{ kind: '5h', used: 1 }]), { at: T0 - 40 * MIN }), at(10)],
      settings: allAuto,
      decision: 'auto',
      action: 'Disable',
    },
    {
      name: 'a failed probe in between does not',
      inspection: now,
      history: [at(90), inspect(PROBES.cloudflare(), { at: T0 - 40 * MIN })],
      settings: allAuto,
      decision: 'auto',
      action: 'Delete',
    },
    {
      name: 'different evidence (403 blocked) does not confirm',
      inspection: now,
      history: [at(90, PROBES.blocked)],
      settings: allAuto,
      decision: 'auto',
      action: 'Disable',
    },
    {
      name: 'another account does not confirm',
      inspection: now,
      history: [inspect(PROBES.deactivated(), { at: T0 - 90 * MIN, id: 'other' })],
      settings: allAuto,
      decision: 'auto',
      action: 'Disable',
    },
    {
      name: 'unconfirmed and already disabled: nothing',
      inspection: inspect(PROBES.deactivated(), { disabled: true }),
      history: [],
      settings: allAuto,
      decision: 'none',
      action: null,
    },
    {
      name: 'confirmed but disabled account: delete',
      inspection: inspect(PROBES.deactivated(), { disabled: true }),
      history: [at(120)],
      settings: allAuto,
      decision: 'auto',
      action: 'Delete',
    },
  ]);
  it('confirmedSince picks the start of the unbroken run', () => {
    assert.equal(
      confirmedSince(now, [at(200), at(100), inspect(PROBES.timeout(T0 - 50 * MIN), { at: T0 - 50 * MIN })]),
      T0 - 200 * MIN,
    );
    assert.equal(confirmedSince(now, [at(-5)]), null);
  });
});

describe('rule: a 403 HTML never leads to Reauth', () => {
  const rows: Row[] = [];
  for (const [sname, settings] of Object.entries(SETTINGS)) {
    for (const disabled of [false, true]) {
      rows.push({
        name: `cloudflare, ${sname}, disabled=${disabled}`,
        inspection: inspect(PROBES.cloudflare(), { disabled }),
        settings,
        decision: 'none',
        action: null,
        reason: /unknown, probe failed/,
      });
    }
    const forged: InspectionResult = { ...inspect(PROBES.cloudflare()), action: 'Reauth' };
    rows.push({
      name: `a 403 HTML inspection that suggests Reauth, ${sname}`,
      inspection: forged,
      settings,
      decision: 'none',
      action: null,
    });
  }
  table(rows);
  it('403 JSON is a block (Disable), never Reauth', () => {
    const d = decideAction({ inspection: inspect(PROBES.blocked()), ownership: null, settings: manual, now: T0 });
    assert.deepEqual([d.decision, d.action], ['queue', 'Disable']);
  });
});

describe('rule: a 401 after refresh leads to Reauth', () => {
  table([
    {
      name: '401 after refresh, manual: queued Reauth',
      inspection: inspect(PROBES.authInvalid()),
      settings: manual,
      decision: 'queue',
      action: 'Reauth',
      reason: /auth invalid \(401 token_invalidated\); sign in again/,
    },
    {
      name: '401 after refresh, all auto: still queued (a person signs in)',
      inspection: inspect(PROBES.authInvalid()),
      settings: allAuto,
      decision: 'queue',
      action: 'Reauth',
    },
    {
      name: 'refresh_token_reused: queued Reauth',
      inspection: inspect(PROBES.refreshDead()),
      settings: allAuto,
      decision: 'queue',
      action: 'Reauth',
    },
    {
      name: 'invalid_grant: queued Reauth',
      inspection: inspect(PROBES.refreshDead('invalid_grant')),
      settings: manual,
      decision: 'queue',
      action: 'Reauth',
      reason: /invalid_grant/,
    },
    {
      name: '401 before refresh (expired token, refresh token present): nothing',
      inspection: inspect(PROBES.authExpired()),
      settings: allAuto,
      decision: 'none',
      action: null,
    },
  ]);
});

describe('rule: 402 leads to Delete only with opt-in, else Disable', () => {
  const history = [inspect(PROBES.deactivated(T0 - 2 * HOUR), { at: T0 - 2 * HOUR })];
  table([
    {
      name: 'manual: queued Disable',
      inspection: inspect(PROBES.deactivated()),
      history,
      settings: manual,
      decision: 'queue',
      action: 'Disable',
      reason: /auto-delete is not enabled/,
    },
    {
      name: 'auto-disable only: automatic Disable',
      inspection: inspect(PROBES.deactivated()),
      history,
      settings: SETTINGS.autoDisableOnly,
      decision: 'auto',
      action: 'Disable',
    },
    {
      name: 'auto-delete opt-in, confirmed: automatic Delete',
      inspection: inspect(PROBES.deactivated()),
      history,
      settings: SETTINGS.autoDeleteOnly,
      decision: 'auto',
      action: 'Delete',
    },
    {
      name: 'auto-delete opt-in, unconfirmed: queued Disable',
      inspection: inspect(PROBES.deactivated()),
      settings: SETTINGS.autoDeleteOnly,
      decision: 'queue',
      action: 'Disable',
    },
    {
      name: 'no opt-in, already disabled: nothing',
      inspection: inspect(PROBES.deactivated(), { disabled: true }),
      history,
      settings: SETTINGS.autoDisableOnly,
      decision: 'none',
      action: null,
    },
  ]);
});

describe('rule: unknown stays unknown', () => {
  const rows: Row[] = [];
  const unknowns: Array<[string, ProbeResult | null]> = [
    ['cloudflare', PROBES.cloudflare()],
    ['timeout', PROBES.timeout()],
    ['503 overloaded', PROBES.overloaded()],
    ['429 throttled', PROBES.throttled()],
    ['never probed', null],
  ];
  for (const [pname, probe] of unknowns) {
    for (const [sname, settings] of Object.entries(SETTINGS)) {
      rows.push({
        name: `${pname}, ${sname}, enabled`,
        inspection: inspect(probe),
        settings,
        decision: 'none',
        action: null,
      });
      rows.push({
        name: `${pname}, ${sname}, disabled by codex-fleet`,
        inspection: inspect(probe, { disabled: true }),
        ownership: owner(),
        settings,
        decision: 'none',
        action: null,
      });
    }
  }
  const forged: InspectionResult = { ...inspect(PROBES.timeout()), action: 'Disable' };
  rows.push({
    name: 'an unknown inspection that suggests Disable still does nothing',
    inspection: forged,
    settings: allAuto,
    decision: 'none',
    action: null,
  });
  table(rows);
});

describe('Disable and Keep', () => {
  const exhausted = inspect(okProbe([{ kind: 'weekly', used: 100 }]));
  table([
    {
      name: 'exhausted, manual: queued',
      inspection: exhausted,
      settings: manual,
      decision: 'queue',
      action: 'Disable',
      reason: /waits for approval/,
    },
    {
      name: 'exhausted, auto-disable: automatic',
      inspection: exhausted,
      settings: SETTINGS.autoDisableOnly,
      decision: 'auto',
      action: 'Disable',
      reason: /automatic/,
    },
    {
      name: 'exhausted, auto-enable only: queued',
      inspection: exhausted,
      settings: SETTINGS.autoEnableOnly,
      decision: 'queue',
      action: 'Disable',
    },
    {
      name: 'healthy: nothing',
      inspection: inspect(okProbe([{ kind: '5h', used: 1 }])),
      settings: allAuto,
      decision: 'none',
      action: null,
    },
  ]);
});

describe('ownershipForDisable', () => {
  it('records codex-fleet with the reset of the exhausted window', () => {
    const r = inspect(
      okProbe([
        { kind: '5h', used: 40, resetIn: 600 },
        { kind: 'weekly', used: 100, resetIn: 7200 },
      ]),
    );
    const o = ownershipForDisable(r, 'schedule:1', T0);
    assert.deepEqual(o, {
      disabledBy: 'codex-fleet',
      actor: 'schedule:1',
      reason: r.reason,
      state: 'exhausted',
      disabledAt: T0,
      until: T0 + 7200_000,
    });
  });
  it('429 with a reset uses it; a deactivated workspace never clears by itself', () => {
    assert.equal(ownershipForDisable(inspect(PROBES.usageLimit(86400)), 'x', T0).until, T0 + 86400_000);
    assert.equal(ownershipForDisable(inspect(PROBES.deactivated()), 'x', T0).until, null);
  });
  it('a full Disable → reset → Enable cycle with automatic policy', () => {
    const disabledAt = inspect(okProbe([{ kind: 'weekly', used: 100, resetIn: 3600 }]));
    const d1 = decideAction({ inspection: disabledAt, ownership: null, settings: allAuto, now: T0 });
    assert.deepEqual([d1.decision, d1.action], ['auto', 'Disable']);
    const own = ownershipForDisable(disabledAt, 'schedule', T0);
    const early = inspect(okProbe([{ kind: 'weekly', used: 0 }], T0 + 30 * MIN), { disabled: true, at: T0 + 30 * MIN });
    assert.equal(
      decideAction({ inspection: early, ownership: own, settings: allAuto, now: T0 + 30 * MIN }).decision,
      'none',
    );
    const later = inspect(okProbe([{ kind: 'weekly', used: 0 }], T0 + 2 * HOUR), { disabled: true, at: T0 + 2 * HOUR });
    const d3 = decideAction({ inspection: later, ownership: own, settings: allAuto, now: T0 + 2 * HOUR });
    assert.deepEqual([d3.decision, d3.action], ['auto', 'Enable']);
  });
});
