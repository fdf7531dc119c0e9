import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { FlagState, HealthReport, TokenState } from '../domain/report.ts';
import { buildHealthReport, renderHealthReportText } from './report.ts';
import type { AccountEvidence } from './status.ts';
import { HOUR, makeAccount, okProbe, PROBES, T0 } from './test-fixtures.ts';

const schema = JSON.parse(readFileSync(new URL('./health-report.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
const token: TokenState = {
  expiresAt: T0 + 5 * 24 * HOUR,
  lastRefreshAt: T0 - HOUR,
  refreshFailures: 0,
  hasRefreshToken: true,
};

function acct(name: string, over: Partial<AccountEvidence> & { disabled?: boolean } = {}): AccountEvidence {
  const { disabled, ...rest } = over;
  return {
    account: makeAccount({
      id: `id-${name}`,
      accountId: `acc-${name}`,
      name,
      email: `${name}@example.com`,
      disabled: disabled ?? false,
    }),
    probe: null,
    token,
    flag: null,
    ...rest,
  };
}

const flag: FlagState = {
  flaggedAt: T0 - 2 * HOUR,
  flaggedReason: 'refresh_token_reused',
  lastVerified: T0 - 600_000,
  verificationCount: 3,
};
const fleet: AccountEvidence[] = [
  acct('alice', {
    probe: okProbe([
      { kind: '5h', used: 10 },
      { kind: 'weekly', used: 20 },
    ]),
  }),
  acct('bob', {
    probe: okProbe([
      { kind: '5h', used: 100, resetIn: 5400 },
      { kind: 'weekly', used: 50 },
    ]),
  }),
  acct('carol', { probe: PROBES.refreshDead(), flag }),
  acct('dave', { probe: okProbe([{ kind: 'weekly', used: 30 }]) }),
  acct('erin', { probe: okProbe([{ kind: '5h', used: 0 }]), disabled: true }),
  acct('frank', {
    probe: PROBES.cloudflare(),
    lastGood: okProbe(
      [
        { kind: '5h', used: 10 },
        { kind: 'weekly', used: 30 },
      ],
      T0 - HOUR,
    ),
  }),
];

/** jq's `.accounts[] | select(...)` etc., on the JSON text exactly as printed. */
const jq = {
  count: (r: unknown, pred: (a: Record<string, unknown>) => boolean) =>
    ((r as { accounts: Record<string, unknown>[] }).accounts ?? []).filter(pred).length,
};

describe('buildHealthReport', () => {
  const report = buildHealthReport(
    { accounts: fleet, currentAccountId: 'acc-bob' },
    { mode: 'live', model: 'gpt-5-codex', now: T0 },
  );
  const json = JSON.parse(JSON.stringify(report)) as HealthReport;

  it('validates against the JSON schema', () => {
    assert.ok(validate(json), JSON.stringify(validate.errors));
  });

  it('the schema rejects extra top-level and account fields, bad statuses and scores', () => {
    const bad = [
      { ...json, extra: 1 },
      { ...json, accounts: [{ ...json.accounts[0], name: 'x' }] },
      { ...json, accounts: [{ ...json.accounts[0], status: 'ok' }] },
      { ...json, accounts: [{ ...json.accounts[0], healthScore: 101 }] },
      { ...json, mode: 'cached' },
    ];
    for (const b of bad) assert.equal(validate(b), false);
  });

  it('prints every account field in the seed order, optional ones only when present', () => {
    const bob = json.accounts.find((a) => a.email === 'bob@example.com');
    assert.deepEqual(Object.keys(bob ?? {}), [
      'index',
      'accountId',
      'email',
      'status',
      'healthScore',
      'quota5hPercent',
      'quota7dPercent',
      'rateLimited',
      'disabled',
      'lastUsed',
      'addedAt',
      'extensions',
    ]);
    assert.deepEqual(Object.keys(bob?.extensions ?? {}), ['name', 'reasons', 'stale', 'resetsAt', 'checkedAt', 'plan']);
    const withRequests = buildHealthReport(
      { accounts: fleet.slice(0, 1), requests: new Map([['id-alice', { total: 1 }]]) },
      { mode: 'default', now: T0 },
    );
    assert.deepEqual(withRequests.accounts[0].extensions, {
      ...report.accounts[0].extensions,
      requests: { total: 1 },
    });
    const bare = buildHealthReport(
      {
        accounts: [
          {
            ...acct('x'),
            account: makeAccount({ accountId: null, email: null, lastUsed: null, addedAt: null, plan: null }),
          },
        ],
      },
      { mode: 'default', now: T0 },
    );
    assert.deepEqual(Object.keys(bare.accounts[0]), [
      'index',
      'status',
      'healthScore',
      'rateLimited',
      'disabled',
      'extensions',
    ]);
    assert.deepEqual(Object.keys(bare.accounts[0].extensions ?? {}), ['name', 'reasons', 'stale']);
  });

  it('answers the seed jq examples', () => {
    // jq '[.accounts[] | select(.rateLimited == true)] | length'
    assert.equal(
      jq.count(json, (a) => a.rateLimited === true),
      1,
    );
    // jq '[.accounts[] | select(.status == "healthy")] | length'
    assert.equal(
      jq.count(json, (a) => a.status === 'healthy'),
      3,
    );
    // jq '[.accounts[] | select(.disabled)] | length'
    assert.equal(
      jq.count(json, (a) => a.disabled === true),
      1,
    );
    // jq '.summary.flaggedAccounts', '.flagged[0].verificationCount', '.recommendation.email'
    assert.equal(json.summary.flaggedAccounts, 1);
    assert.equal(json.flagged[0].verificationCount, 3);
    assert.equal(json.recommendation?.email, 'alice@example.com');
    // jq '.accounts[] | select(.healthScore < 50) | .email'
    assert.deepEqual(
      json.accounts.filter((a) => a.healthScore < 50).map((a) => a.email),
      ['bob@example.com', 'carol@example.com', 'erin@example.com'],
    );
  });

  it('summary and per-account fields', () => {
    assert.deepEqual(json.summary, {
      totalAccounts: 6,
      activeAccounts: 4,
      flaggedAccounts: 1,
      currentAccountEmail: 'bob@example.com',
    });
    assert.deepEqual(
      json.accounts.map((a) => a.status),
      ['healthy', 'rate-limited', 'error', 'healthy', 'disabled', 'healthy'],
    );
    assert.equal(json.accounts[0].quota5hPercent, 90);
    assert.equal(json.accounts[0].quota7dPercent, 80);
    assert.equal(json.accounts[1].extensions?.resetsAt, T0 + 5400_000);
    assert.equal(json.generatedAt, T0);
    assert.equal(json.model, 'gpt-5-codex');
    assert.equal(json.flagged[0].lastVerified, T0 - 600_000);
    assert.equal(json.accounts[5].extensions?.stale, true);
    assert.equal(json.accounts[5].quota5hPercent, 90);
  });

  it('a weekly-only free account has no 5h value (absent, not 0)', () => {
    assert.equal('quota5hPercent' in json.accounts[3], false);
    assert.equal(json.accounts[3].quota7dPercent, 70);
  });

  it('derives the flag from the probe when no bookkeeping is given', () => {
    const r = buildHealthReport(
      { accounts: [acct('x', { probe: PROBES.refreshDead('invalid_grant'), flag: undefined })] },
      { mode: 'default', now: T0 },
    );
    assert.equal(r.flagged.length, 1);
    assert.equal(r.flagged[0].flaggedReason, 'invalid_grant');
    assert.equal(r.recommendation, undefined);
    assert.equal('model' in r, false);
  });

  it('secrets never appear in the report', () => {
    const text = JSON.stringify(report) + renderHealthReportText(report, T0);
    assert.doesNotMatch(text, /secret|eyJ|rt_/);
  });

  it('empty fleet is a valid report', () => {
    const r = buildHealthReport({ accounts: [] }, { mode: 'default', now: T0 });
    assert.ok(validate(JSON.parse(JSON.stringify(r))));
    assert.match(renderHealthReportText(r, T0), /Active Accounts\n {2}\(none\)/);
  });
});

describe('recommendation', () => {
  const rows: Array<{ name: string; accounts: AccountEvidence[]; expect: number | undefined; why?: RegExp }> = [
    {
      name: 'most remaining quota in the tightest window wins',
      accounts: [
        acct('a', {
          probe: okProbe([
            { kind: '5h', used: 5 },
            { kind: 'weekly', used: 60 },
          ]),
        }),
        acct('b', {
          probe: okProbe([
            { kind: '5h', used: 50 },
            { kind: 'weekly', used: 10 },
          ]),
        }),
      ],
      expect: 1,
      why: /5h: 50% left/,
    },
    {
      name: 'tie on remaining: soonest reset wins',
      accounts: [
        acct('a', { probe: okProbe([{ kind: '5h', used: 40, resetIn: 9000 }]) }),
        acct('b', { probe: okProbe([{ kind: '5h', used: 40, resetIn: 1800 }]) }),
      ],
      expect: 1,
      why: /resets in 30m/,
    },
    {
      name: 'tie on remaining and reset: better score wins',
      accounts: [
        acct('a', { probe: okProbe([{ kind: '5h', used: 40 }]), token: { ...token, refreshFailures: 1 } }),
        acct('b', { probe: okProbe([{ kind: '5h', used: 40 }]) }),
      ],
      expect: 1,
    },
    {
      name: 'rate-limited, disabled, error and flagged are never recommended',
      accounts: [
        acct('a', { probe: okProbe([{ kind: '5h', used: 100 }]) }),
        acct('b', { probe: okProbe([{ kind: '5h', used: 0 }]), disabled: true }),
        acct('c', { probe: PROBES.deactivated() }),
        acct('d', { probe: okProbe([{ kind: '5h', used: 0 }]), flag }),
        acct('e', { probe: okProbe([{ kind: '5h', used: 95 }]) }),
      ],
      expect: 4,
      why: /warning: low quota/,
    },
    {
      name: 'known quota beats unknown quota',
      accounts: [acct('a', { probe: null }), acct('b', { probe: okProbe([{ kind: '5h', used: 90 }]) })],
      expect: 1,
    },
    {
      name: 'none usable: the soonest reset',
      accounts: [
        acct('a', { probe: PROBES.usageLimit(7200) }),
        acct('b', { probe: PROBES.usageLimit(3600) }),
        acct('c', { probe: PROBES.usageLimit(null) }),
      ],
      expect: 1,
      why: /No account is usable now.*in 1h/,
    },
    { name: 'nothing to recommend', accounts: [acct('a', { probe: PROBES.authInvalid() })], expect: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = buildHealthReport({ accounts: row.accounts }, { mode: 'default', now: T0 });
      assert.equal(r.recommendation?.index, row.expect, r.recommendation?.reasoning);
      if (row.why) assert.match(r.recommendation?.reasoning ?? '', row.why);
    });
  }
});

describe('renderHealthReportText', () => {
  const report = buildHealthReport(
    { accounts: fleet, currentAccountId: 'acc-bob' },
    { mode: 'live', model: 'gpt-5-codex', now: T0 },
  );
  const text = renderHealthReportText(report, T0);
  it('has the seed sections in order', () => {
    const at = ['Summary', 'Active Accounts', 'Flagged Accounts', 'Recommendation'].map((s) =>
      text.indexOf(`\n${s}\n`),
    );
    assert.ok(at.every((i) => i > 0));
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
    );
  });
  it('shows countdowns, flags and the recommendation', () => {
    assert.match(text, /#2 bob@example.com\s+rate-limited.*Resets in 1h 30m/);
    assert.match(
      text,
      /carol@example.com {2}refresh_token_reused {2}flagged 2h ago; verified 3 time\(s\), last 10m ago/,
    );
    assert.match(text, /Use #1 alice@example.com/);
    assert.match(text, /Current account: {2}bob@example.com/);
    assert.match(text, /#4 dave@example.com\s+healthy\s+score\s+\d+\s+5h {4}-\s+7d {2}70%/);
    assert.doesNotMatch(text.split('Flagged Accounts')[0], /carol/);
  });
});
