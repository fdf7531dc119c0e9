import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenState } from '../domain/report.ts';
import { accountLabel, buildMetrics } from './metrics.ts';
import type { AccountEvidence } from './status.ts';
import { HOUR, makeAccount, okProbe, PROBES, T0 } from './test-fixtures.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (what a Prometheus server reads). */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return { samples, types };
}

const pick = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v));

const token: TokenState = {
  expiresAt: T0 + 5 * 24 * HOUR,
  lastRefreshAt: T0 - HOUR,
  refreshFailures: 0,
  hasRefreshToken: true,
};
const ev = (
  id: string,
  name: string,
  probe: AccountEvidence['probe'],
  extra: Partial<AccountEvidence> = {},
): AccountEvidence => ({
  account: makeAccount({ id, name, email: `${id}@example.com` }),
  probe,
  token,
  flag: null,
  ...extra,
});

const accounts = [
  ev(
    'a1',
    'codex-alice@example.com',
    okProbe([
      { kind: '5h', used: 25, resetIn: 3600 },
      { kind: 'weekly', used: 40 },
    ]),
  ),
  ev('b2', 'bob', PROBES.usageLimit(7200)),
  ev('c3', 'carol', PROBES.deactivated()),
  ev('d4', 'dave', PROBES.cloudflare(), { lastGood: okProbe([{ kind: 'weekly', used: 90 }], T0 - HOUR) }),
];

describe('buildMetrics', async () => {
  const out = await buildMetrics(
    {
      accounts,
      probeErrors: { cloudflare_challenge: 3, timeout: 1 },
      collectors: [{ name: 'cpa-main', lagSeconds: 2.5, errorsTotal: 4 }],
    },
    { now: T0 },
  );
  const { samples, types } = parse(out.text);

  it('per-account remaining % and reset seconds per window', () => {
    assert.equal(
      pick(samples, 'codex_fleet_account_remaining_percent', { account_id: 'a1', window: '5h' })[0].value,
      75,
    );
    assert.equal(
      pick(samples, 'codex_fleet_account_remaining_percent', { account_id: 'a1', window: 'weekly' })[0].value,
      60,
    );
    assert.equal(pick(samples, 'codex_fleet_account_reset_seconds', { account_id: 'a1', window: '5h' })[0].value, 3600);
    assert.equal(
      pick(samples, 'codex_fleet_account_remaining_percent', { account_id: 'd4', window: 'weekly' })[0].value,
      10,
    );
    assert.equal(
      pick(samples, 'codex_fleet_account_remaining_percent', { account_id: 'a1', window: 'monthly' }).length,
      0,
      'unknown is absent, not 0',
    );
  });

  it('health score and one-hot status', () => {
    assert.equal(pick(samples, 'codex_fleet_account_health_score', { account_id: 'c3' })[0].value, 0);
    const bob = pick(samples, 'codex_fleet_account_status', { account_id: 'b2' });
    assert.equal(bob.length, 5);
    assert.deepEqual(
      bob.filter((s) => s.value === 1).map((s) => s.labels.status),
      ['rate-limited'],
    );
    assert.equal(pick(samples, 'codex_fleet_account_stale', { account_id: 'd4' })[0].value, 1);
  });

  it('pool totals', () => {
    const by = Object.fromEntries(pick(samples, 'codex_fleet_pool_accounts').map((s) => [s.labels.status, s.value]));
    assert.deepEqual(by, { healthy: 1, warning: 1, 'rate-limited': 1, disabled: 0, error: 1 });
    assert.equal(pick(samples, 'codex_fleet_pool_usable_accounts')[0].value, 2);
    assert.equal(pick(samples, 'codex_fleet_pool_usable_capacity_percent')[0].value, 70);
  });

  it('probe errors by reason and collector hooks', () => {
    assert.equal(types.get('codex_fleet_probe_errors_total'), 'counter');
    assert.equal(pick(samples, 'codex_fleet_probe_errors_total', { reason: 'cloudflare_challenge' })[0].value, 3);
    assert.equal(pick(samples, 'codex_fleet_collector_lag_seconds', { collector: 'cpa-main' })[0].value, 2.5);
    assert.equal(pick(samples, 'codex_fleet_collector_errors_total', { collector: 'cpa-main' })[0].value, 4);
    assert.equal(pick(samples, 'codex_fleet_metrics_generated_timestamp_seconds')[0].value, T0 / 1000);
    assert.match(out.contentType, /^text\/plain/);
  });

  it('no secrets and no emails by default', () => {
    assert.doesNotMatch(out.text, /secret|eyJ|rt_|@example\.com/);
    assert.equal(pick(samples, 'codex_fleet_account_health_score', { account_id: 'a1' })[0].labels.account, '[email]');
    assert.equal(
      samples.some((s) => 'email' in s.labels),
      false,
    );
  });

  it('emails only with includeEmails', async () => {
    const withEmails = parse((await buildMetrics({ accounts }, { now: T0, includeEmails: true })).text).samples;
    const a = pick(withEmails, 'codex_fleet_account_health_score', { account_id: 'a1' })[0];
    assert.equal(a.labels.email, 'a1@example.com');
    assert.equal(a.labels.account, 'codex-alice@example.com');
  });

  it('fresh registry per call: no state carried over', async () => {
    const again = await buildMetrics({ accounts, probeErrors: { cloudflare_challenge: 3 } }, { now: T0 });
    assert.equal(
      pick(parse(again.text).samples, 'codex_fleet_probe_errors_total', { reason: 'cloudflare_challenge' })[0].value,
      3,
    );
    const empty = parse((await buildMetrics({ accounts: [] }, { now: T0 })).text).samples;
    assert.equal(pick(empty, 'codex_fleet_account_health_score').length, 0);
    assert.equal(pick(empty, 'codex_fleet_pool_usable_accounts')[0].value, 0);
  });

  it('accountLabel masks emails inside names', () => {
    assert.equal(accountLabel('x.y+z@corp.io', false), '[email]');
    assert.equal(accountLabel('plain-name', false), 'plain-name');
  });
});
