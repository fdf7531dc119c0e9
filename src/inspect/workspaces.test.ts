// Issue 19 through the faces' pure rules: an upstream answer (the new UPSTREAM.md §2 rows) is classified,
// stored and read back, then status, report, inspection and forecast must call it the same, honestly:
// a workspace without windows is usable and says why, never "0% left"; a spend limit rate-limits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { DEFAULT_INSPECTION_THRESHOLDS } from '../domain/inspection.ts';
import type { ProbeResult } from '../domain/quota.ts';
import { probeFromSnapshot, snapshotFromProbe } from '../store/index.ts';
import type { StoredSnapshot } from '../store/snapshots-repo.ts';
import { classifyUpstreamAnswer, type UpstreamAnswer } from '../upstream/classify.ts';
import { buildForecast } from './forecast.ts';
import { inspectAccount } from './inspection.ts';
import { buildHealthReport, renderHealthReportText } from './report.ts';
import { deriveStatus } from './status.ts';
import { HOUR, iso, makeAccount, okProbe, T0 } from './test-fixtures.ts';

const schema = JSON.parse(readFileSync(new URL('./health-report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const NOW_S = T0 / 1000;
const budget = (used: number, resetAfter: number) => ({
  limit: '100.00',
  used: `${used}.00`,
  remaining: `${100 - used}.00`,
  used_percent: used,
  remaining_percent: 100 - used,
  reset_after_seconds: resetAfter,
  reset_at: NOW_S + resetAfter,
});
const body = (v: unknown) => JSON.stringify(v);

/** Classifies an answer as the probe does, then stores and reads it back as the faces see it. */
function stored(answer: Omit<UpstreamAnswer, 'now'>): ProbeResult {
  const c = classifyUpstreamAnswer({ ...answer, now: T0 });
  const probe: ProbeResult = {
    ...c,
    httpStatus: answer.status,
    source: 'network',
    fetchedAt: iso(T0),
    attempts: 1,
    usagePath: '/wham/usage',
  };
  const input = snapshotFromProbe('acct-1', probe);
  const row: StoredSnapshot = { ...input, id: 1, reason: input.reason, attempts: input.attempts };
  return probeFromSnapshot(row);
}

const ANSWERS = {
  spend: {
    status: 200,
    body: body({
      plan_type: 'business',
      rate_limit: null,
      credits: { has_credits: true, unlimited: false, balance: '0' },
      spend_control: { reached: false, individual_limit: budget(12, 20 * 86400) },
    }),
  },
  unlimited: {
    status: 200,
    body: body({
      plan_type: 'enterprise',
      rate_limit: null,
      credits: { has_credits: true, unlimited: true, balance: null },
    }),
  },
  lowSpend: {
    status: 200,
    body: body({
      plan_type: 'business',
      rate_limit: null,
      spend_control: { reached: false, individual_limit: budget(95, 86400) },
    }),
  },
  spendReached: {
    status: 200,
    body: body({
      plan_type: 'business',
      rate_limit: null,
      spend_control: { reached: true, reached_limit_type: 'individual', individual_limit: budget(100, 86400) },
    }),
  },
  spendReachedBare: {
    status: 200,
    body: body({ plan_type: 'business', rate_limit: null, spend_control: { reached: true } }),
  },
  creditsDepleted: {
    status: 200,
    body: body({
      plan_type: 'business',
      rate_limit: { allowed: false, limit_reached: true, primary_window: null, secondary_window: null },
      rate_limit_reached_type: { type: 'workspace_member_credits_depleted' },
    }),
  },
  invalidated: {
    status: 401,
    body: body({ error: { message: 'Your authentication token has been invalidated.', code: 'token_invalidated' } }),
    tokenExpired: false,
  },
  banned: {
    status: 401,
    body: body({ error: { message: 'Your OpenAI account has been deactivated.', code: 'account_deactivated' } }),
  },
} satisfies Record<string, Omit<UpstreamAnswer, 'now'>>;

const account = makeAccount({ plan: 'business' });
const status = (p: ProbeResult) => deriveStatus({ account, probe: p }, T0);

describe('status: the new §2 rows after a store round trip', () => {
  const rows: [keyof typeof ANSWERS, string, RegExp, number | null][] = [
    ['spend', 'healthy', /^no rate-limit windows: spend control, 12% of budget used; credits, balance 0$/, null],
    ['unlimited', 'healthy', /^no rate-limit windows: unlimited credits$/, null],
    ['lowSpend', 'warning', /low spend budget: 5% left/, null],
    ['spendReached', 'rate-limited', /^spend limit reached \(individual budget\); resets in 1d/, T0 + 86400_000],
    ['spendReachedBare', 'rate-limited', /^spend limit reached; reset time unknown$/, null],
    ['creditsDepleted', 'rate-limited', /^this member's workspace credits are used up; reset time unknown$/, null],
    ['banned', 'error', /^account blocked \(account_deactivated\); a new sign-in cannot help$/, null],
  ];
  for (const [name, want, reason, resetsAt] of rows) {
    it(`${name} → ${want}`, () => {
      const s = status(stored(ANSWERS[name]));
      assert.equal(s.status, want);
      assert.match(s.reasons.join(' | '), reason);
      assert.equal(s.resetsAt, resetsAt);
      assert.equal(s.tightestRemaining, null, 'no window numbers, never 0');
    });
  }

  it('a workspace without windows scores as usable capacity (its budget left, or full)', () => {
    assert.equal(status(stored(ANSWERS.unlimited)).healthScore, 100);
    assert.equal(status(stored(ANSWERS.spend)).healthScore, Math.round(30 + 0.7 * 88));
    assert.equal(status(stored(ANSWERS.spend)).windowless, true);
  });
});

describe('report: honest about accounts without windows', () => {
  const plus = okProbe([
    { kind: '5h', used: 10 },
    { kind: 'weekly', used: 30 },
  ]);
  const report = buildHealthReport(
    {
      accounts: [
        {
          account: makeAccount({ id: 'b', accountId: 'b', email: 'biz@example.com', name: 'biz' }),
          probe: stored(ANSWERS.spend),
        },
        {
          account: makeAccount({ id: 'e', accountId: 'e', email: 'ent@example.com', name: 'ent' }),
          probe: stored(ANSWERS.unlimited),
        },
        {
          account: makeAccount({ id: 's', accountId: 's', email: 'spent@example.com', name: 'spent' }),
          probe: stored(ANSWERS.spendReached),
        },
        {
          account: makeAccount({ id: 'x', accountId: 'x', email: 'ban@example.com', name: 'ban' }),
          probe: stored(ANSWERS.banned),
        },
        { account: makeAccount({ id: 'p', accountId: 'p', email: 'plus@example.com', name: 'plus' }), probe: plus },
      ],
    },
    { mode: 'default', now: T0 },
  );

  it('stays valid against the HealthReport schema', () => {
    assert.ok(validate(report), JSON.stringify(validate.errors));
  });

  it('no quota percentages for windowless accounts: absent, not 0', () => {
    const [biz, ent, spent] = report.accounts;
    for (const a of [biz, ent, spent]) {
      assert.equal(a.quota5hPercent, undefined);
      assert.equal(a.quota7dPercent, undefined);
    }
    assert.deepEqual(
      [biz.status, ent.status, spent.status, report.accounts[3].status],
      ['healthy', 'healthy', 'rate-limited', 'error'],
    );
    assert.equal(spent.rateLimited, true);
  });

  it('the text says why, and never "0%"', () => {
    const text = renderHealthReportText(report, T0);
    assert.match(text, /no rate-limit windows: spend control, 12% of budget used/);
    assert.match(text, /no rate-limit windows: unlimited credits/);
    assert.match(text, /spend limit reached \(individual budget\)/);
    assert.doesNotMatch(text, /\b0%/);
  });

  it('a recommendation of a windowless account says why it can serve', () => {
    const only = buildHealthReport(
      { accounts: [{ account, probe: stored(ANSWERS.spend) }] },
      { mode: 'default', now: T0 },
    );
    assert.match(only.recommendation?.reasoning ?? '', /No rate-limit windows: spend control, 12% of budget used/);
  });
});

describe('inspection: same verdicts, same words', () => {
  const inspect = (p: ProbeResult, disabled = false) =>
    inspectAccount(makeAccount({ disabled }), { probe: p }, DEFAULT_INSPECTION_THRESHOLDS, T0);
  it('a workspace without windows: Keep, the same reason text; re-enabled when it was disabled', () => {
    const keep = inspect(stored(ANSWERS.spend));
    assert.deepEqual([keep.state, keep.action], ['ok', 'Keep']);
    assert.equal(keep.reason, 'no rate-limit windows: spend control, 12% of budget used; credits, balance 0');
    const back = inspect(stored(ANSWERS.unlimited), true);
    assert.deepEqual([back.state, back.action], ['ok', 'Enable']);
  });
  it('a banned account: blocked, Disable, never Reauth', () => {
    const r = inspect(stored(ANSWERS.banned));
    assert.deepEqual([r.state, r.action], ['blocked', 'Disable']);
  });
  it('a 401 token_invalidated: auth invalid, Reauth', () => {
    const r = inspect(stored(ANSWERS.invalidated));
    assert.deepEqual([r.state, r.action], ['auth_invalid', 'Reauth']);
    assert.match(status(stored(ANSWERS.invalidated)).reasons[0], /^auth invalid \(token_invalidated\); sign in again$/);
  });
  it('a reached spend control: exhausted, Disable until it resets', () => {
    const r = inspect(stored(ANSWERS.spendReached));
    assert.equal(r.state, 'exhausted');
    assert.equal(r.action, 'Disable');
  });
});

describe('forecast: a windowless account is capacity without an invented run-out', () => {
  const burning = (i: number) => {
    const p = okProbe(
      [
        { kind: '5h', used: 50 + i * 10, resetIn: (8 - i) * 3600 }, // one reset, at T0 + 4h
        { kind: 'weekly', used: 20 },
      ],
      T0 - (4 - i) * HOUR,
    );
    return p.snapshot!;
  };
  it('the pool with one windowless account never runs out; the burning one still forecasts', () => {
    const f = buildForecast(
      [
        { accountId: 'p', name: 'plus', snapshots: [0, 1, 2, 3].map(burning) },
        { accountId: 'b', name: 'biz', windowless: true, snapshots: [stored(ANSWERS.spend).snapshot!] },
      ],
      { now: T0 },
    );
    const biz = f.accounts.find((a) => a.accountId === 'b')!;
    assert.deepEqual(
      [biz.windowless, biz.runsOutAt, biz.capacityReturnsAt, biz.exhaustedNow],
      [true, null, null, false],
    );
    assert.equal(f.pool.windowless, 1);
    assert.equal(f.pool.withoutData, 0, 'not "unknown": it is counted as capacity');
    assert.equal(f.pool.usableNow, 2);
    assert.equal(f.pool.runsOutAt, null);
    assert.equal(f.pool.alarm, false);
    assert.ok(
      f.accounts.find((a) => a.accountId === 'p')!.runsOutAt != null,
      'the windowed account still has a run-out',
    );
  });
  it('a fresh snapshot marked windowless is enough without the history flag', () => {
    const snap = classifyUpstreamAnswer({ ...ANSWERS.unlimited, now: T0 }).snapshot!;
    const f = buildForecast([{ accountId: 'e', name: 'ent', snapshots: [snap] }], { now: T0 });
    assert.equal(f.accounts[0].windowless, true);
    assert.equal(f.pool.note, 'the pool does not run out at current burn rates');
  });
});
