// `codex-fleet quota --json` against the simulator: the right state for every scenario of UPSTREAM.md §2,
// both window layouts, the cache, single-account mode and the exit codes.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { QuotaRow } from '../../src/core/quota-rows.ts';
import { SCENARIO_NAMES, type ScenarioName, type Simulator, startSimulator } from '../../src/sim/index.ts';
import { runCli } from '../support/cli.ts';

/** What a read-only `quota` must say for each scenario (read-only: it never refreshes a token). */
const EXPECTED: Record<ScenarioName, { state: QuotaRow['state']; reason?: QuotaRow['reason'] }> = {
  healthy: { state: 'ok' },
  'weekly-only-free': { state: 'ok' },
  'team-monthly': { state: 'ok' },
  pro: { state: 'ok' },
  exhausted: { state: 'exhausted', reason: 'limit_reached' },
  'five-hour-full': { state: 'exhausted' },
  'usage-limit-429': { state: 'exhausted', reason: 'usage_limit_reached' },
  'usage-limit-429-no-reset': { state: 'exhausted', reason: 'usage_limit_reached' },
  'usage-not-included': { state: 'no_codex', reason: 'usage_not_included' },
  'deactivated-workspace': { state: 'workspace_deactivated', reason: 'deactivated_workspace' },
  'expired-token': { state: 'auth_expired', reason: 'access_token_expired' },
  'auth-revoked': { state: 'auth_invalid' },
  'refresh-invalidated': { state: 'auth_expired' },
  'refresh-expired': { state: 'auth_expired' },
  'refresh-reused': { state: 'auth_expired' },
  'refresh-invalid-grant': { state: 'auth_expired' },
  'account-deactivated': { state: 'blocked', reason: 'account_blocked' },
  'unsupported-country': { state: 'blocked', reason: 'account_blocked' },
  cloudflare: { state: 'unknown', reason: 'cloudflare_challenge' },
  throttled: { state: 'unknown', reason: 'throttled' },
  'server-error': { state: 'unknown', reason: 'server_error' },
  'bad-gateway': { state: 'unknown', reason: 'server_error' },
  overloaded: { state: 'unknown', reason: 'server_overloaded' },
  'gateway-timeout': { state: 'unknown' },
  timeout: { state: 'unknown', reason: 'timeout' },
  flaky: { state: 'ok' },
  'malformed-non-json': { state: 'unknown', reason: 'malformed_response' },
  'malformed-truncated': { state: 'unknown', reason: 'malformed_response' },
  'legacy-fields': { state: 'ok' },
  'code-review-additional': { state: 'ok' },
  credits: { state: 'ok' },
  'business-spend-control': { state: 'ok', reason: 'no_rate_limit_windows' },
  'enterprise-unlimited': { state: 'ok', reason: 'no_rate_limit_windows' },
  'edu-no-windows': { state: 'ok', reason: 'no_rate_limit_windows' },
  'spend-control-reached': { state: 'exhausted', reason: 'spend_control_reached' },
  'spend-control-reached-no-reset': { state: 'exhausted', reason: 'spend_control_reached' },
  'workspace-credits-depleted': { state: 'exhausted', reason: 'limit_reached' },
  'workspace-limit-evidence': { state: 'ok' },
  'account-banned': { state: 'blocked', reason: 'account_blocked' },
  'go-monthly': { state: 'ok' },
  'prolite-weekly': { state: 'ok' },
  'self-serve-business-prolite': { state: 'ok' },
  'unknown-plan': { state: 'ok' },
  'inexact-windows': { state: 'ok' },
};

let sim: Simulator;
let dir: string;
let rows: QuotaRow[];
let firstRun: { code: number | null; stderr: string };

const args = () => [
  'quota',
  '--json',
  '--account-dir',
  join(dir, 'account'),
  '--data-dir',
  join(dir, 'data'),
  '--chatgpt-url',
  sim.chatgptUrl,
  '--auth-url',
  sim.authUrl,
  '--retries',
  '2',
  '--retry-delay',
  '0.01',
  '--timeout-ms',
  '800',
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-quota-'));
  sim = await startSimulator({
    accounts: SCENARIO_NAMES.map((scenario) => ({ scenario, email: `${scenario}@example.com`, failures: 1 })),
    latency: 5,
  });
  await sim.writeAuthFiles(join(dir, 'account'), 'mixed');
  const run = await runCli(args());
  firstRun = run;
  rows = JSON.parse(run.stdout);
});
after(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

const rowFor = (scenario: string) => {
  const row = rows.find((r) => r.email === `${scenario}@example.com`);
  assert.ok(row, `no row for ${scenario}`);
  return row;
};

describe('codex-fleet quota --json against the simulator', () => {
  for (const scenario of SCENARIO_NAMES) {
    it(`${scenario} → ${EXPECTED[scenario].state}`, () => {
      const row = rowFor(scenario);
      assert.equal(row.state, EXPECTED[scenario].state, `${scenario}: ${row.reason} ${row.message ?? ''}`);
      if (EXPECTED[scenario].reason) assert.equal(row.reason, EXPECTED[scenario].reason);
    });
  }

  it('classifies windows by duration: a free plan has weekly in primary and no 5h window', () => {
    const free = rowFor('weekly-only-free');
    assert.deepEqual(
      free.windows.filter((w) => w.scope === 'primary').map((w) => w.kind),
      ['weekly'],
    );
    assert.equal(
      free.windows.find((w) => w.kind === '5h'),
      undefined,
    );
    const team = rowFor('team-monthly');
    assert.ok(team.windows.some((w) => w.kind === 'monthly' && w.remainingPercent != null));
  });

  it('keeps unknown facts null, never 0', () => {
    const failed = rowFor('cloudflare');
    assert.equal(failed.credits.balance, null);
    const noReset = rowFor('usage-limit-429-no-reset');
    for (const w of noReset.windows) assert.notEqual(w.resetAfterSeconds, 0);
  });

  it('follows the JSON contract of every row', () => {
    for (const row of rows) {
      for (const key of [
        'name',
        'accountId',
        'email',
        'plan',
        'source',
        'state',
        'reason',
        'httpStatus',
        'fetchedAt',
        'windows',
        'credits',
      ]) {
        assert.ok(key in row, `${row.name} lacks ${key}`);
      }
      assert.ok(!Number.isNaN(Date.parse(row.fetchedAt)));
      assert.equal(row.source, 'network');
    }
  });

  it('exits 1 because some accounts could not be read, and never prints a token', () => {
    assert.equal(firstRun.code, 1);
    for (const account of sim.accounts) {
      assert.ok(!firstRun.stderr.includes(account.accessToken));
      assert.ok(!JSON.stringify(rows).includes(account.refreshToken));
    }
  });

  it('answers exhausted accounts from the cache until their reset, and --refresh asks again', async () => {
    const total = () =>
      Object.values(sim.stats().requests).reduce(
        (n, byStatus) => n + Object.values(byStatus).reduce((a, b) => a + b, 0),
        0,
      );
    const before = total();
    const cached = await runCli([...args(), 'exhausted@example.com']);
    const [row] = JSON.parse(cached.stdout) as QuotaRow[];
    assert.equal(row.state, 'exhausted');
    assert.equal(row.source, 'cache');
    assert.equal(cached.code, 0);
    assert.equal(total(), before, 'no upstream request for a cached exhausted account');
    const fresh = await runCli([...args(), '--refresh', 'exhausted@example.com']);
    assert.equal((JSON.parse(fresh.stdout) as QuotaRow[])[0].source, 'network');
  });

  it('says clearly when an account name is unknown', async () => {
    const run = await runCli([...args(), 'nobody-by-this-name']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no account named "nobody-by-this-name"/);
  });
});

describe('codex-fleet quota with bad input', () => {
  it('exits 1 with a clear message when there are no accounts', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cf-empty-'));
    await mkdir(join(empty, 'account'));
    const run = await runCli(['quota', '--account-dir', join(empty, 'account'), '--data-dir', join(empty, 'data')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no accounts found/);
    await rm(empty, { recursive: true, force: true });
  });

  it('the implicit ./account missing is no local accounts, not an error (CPA-only operators have none)', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cf-no-default-dir-'));
    try {
      const run = await runCli(['quota', '--data-dir', join(cwd, 'data')], {
        cwd,
        env: { CODEX_FLEET_ACCOUNT_DIR: undefined },
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /no accounts found/);
      assert.doesNotMatch(run.stderr, /does not exist/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('exits 1 naming the path when --account-dir does not exist, even with accounts in the store', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cf-missing-dir-'));
    const one = await startSimulator({ accounts: [{ scenario: 'healthy', email: 'kept@example.com' }], latency: 1 });
    try {
      const store = ['--data-dir', join(d, 'data'), '--chatgpt-url', one.chatgptUrl];
      await one.writeAuthFiles(join(d, 'account'), 'codex-quota');
      const first = await runCli(['quota', '--json', '--account-dir', join(d, 'account'), ...store]);
      assert.equal(first.code, 0, first.stderr);
      // The store now remembers that account; a mistyped directory must not quietly show it.
      const typo = join(d, 'acount');
      const run = await runCli(['quota', '--json', '--account-dir', typo, ...store]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, new RegExp(`account directory ${typo} does not exist`));
      // The environment variable names a directory just as explicitly.
      const fromEnv = await runCli(['quota', '--json', ...store], { env: { CODEX_FLEET_ACCOUNT_DIR: typo } });
      assert.equal(fromEnv.code, 1);
      assert.match(fromEnv.stderr, new RegExp(`account directory ${typo} does not exist`));
    } finally {
      await one.close();
      await rm(d, { recursive: true, force: true });
    }
  });

  it('rejects an invalid option with a clear message', async () => {
    const run = await runCli(['quota', '--concurrency', '99', '--account-dir', '/nonexistent']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /at most 20/);
  });

  it('skips a corrupt auth file with its name and still reads the others', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cf-corrupt-'));
    const one = await startSimulator({ accounts: [{ scenario: 'healthy', email: 'fine@example.com' }], latency: 1 });
    try {
      await one.writeAuthFiles(join(d, 'account'), 'codex-quota');
      await writeFile(join(d, 'account', 'broken.auth.json'), '{"access_token": "abc', 'utf8');
      const run = await runCli([
        'quota',
        '--json',
        '--account-dir',
        join(d, 'account'),
        '--data-dir',
        join(d, 'data'),
        '--chatgpt-url',
        one.chatgptUrl,
      ]);
      assert.match(run.stderr, /broken\.auth\.json: not valid JSON/);
      const parsed = JSON.parse(run.stdout) as QuotaRow[];
      assert.equal(parsed.length, 1);
      assert.equal(parsed[0].state, 'ok');
      assert.equal(run.code, 1, 'a skipped file is a usage error');
    } finally {
      await one.close();
      await rm(d, { recursive: true, force: true });
    }
  });
});
