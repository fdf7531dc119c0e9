// The quota engine against the upstream simulator: every scenario's state, path fallback, refresh
// on an expired token, Cloudflare by in-flight count, and the responses-header probe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SCENARIO_NAMES, type ScenarioName, type Simulator, startSimulator } from '../sim/index.ts';
import type { RefreshFailure } from './classify.ts';
import type { FetchLike } from './http.ts';
import { type ProbeOptions, type ProbeOutcome, probeAccount } from './probe.ts';
import { probeAll } from './probe-runner.ts';
import { headersToRecord } from './response-headers.ts';
import { probeViaResponses } from './responses-probe.ts';
import type { UsagePathMemory } from './usage-paths.ts';

const noSleep = async () => {};

/** Stands in for the token layer (accounts/oauth.ts): one refresh against the sim's token endpoint. */
function refresher(sim: Simulator, accountId: string): () => Promise<string | RefreshFailure> {
  return async () => {
    const account = sim.accounts.find((a) => a.id === accountId)!;
    const res = await fetch(sim.authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
        grant_type: 'refresh_token',
        refresh_token: account.refreshToken,
      }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string | { code?: string } };
    if (res.ok && body.access_token) return body.access_token;
    const code = typeof body.error === 'string' ? body.error : (body.error?.code ?? null);
    return { errorCode: code, httpStatus: res.status };
  };
}

type Expect = { state: ProbeOutcome['state']; reason: ProbeOutcome['reason']; check?: (o: ProbeOutcome) => void };
const kinds = (o: ProbeOutcome) => o.snapshot?.windows.map((w) => `${w.scope}:${w.kind}`);

/** Issue 19's scenarios (the new UPSTREAM.md §2 rows); also played over /codex/usage and a retired path below. */
const WORKSPACE_EXPECTED = {
  'business-spend-control': {
    state: 'ok',
    reason: 'no_rate_limit_windows',
    check: (o) => {
      assert.deepEqual(kinds(o), ['spend_control:other']);
      assert.equal(o.message, 'no rate-limit windows: spend control, 12% of budget used; credits, balance 0');
    },
  },
  'enterprise-unlimited': {
    state: 'ok',
    reason: 'no_rate_limit_windows',
    check: (o) => {
      assert.deepEqual(kinds(o), []);
      assert.equal(o.snapshot?.credits.unlimited, true);
    },
  },
  'edu-no-windows': {
    state: 'ok',
    reason: 'no_rate_limit_windows',
    check: (o) => assert.equal(o.snapshot?.plan, 'edu'),
  },
  'spend-control-reached': {
    state: 'exhausted',
    reason: 'spend_control_reached',
    // The budget resets in 20 days (give or take the sim clock's second).
    check: (o) => assert.ok(Math.abs(o.resetAfterSeconds! - 20 * 86400) <= 60, String(o.resetAfterSeconds)),
  },
  'spend-control-reached-no-reset': {
    state: 'exhausted',
    reason: 'spend_control_reached',
    check: (o) => assert.equal(o.resetAfterSeconds, null),
  },
  'workspace-credits-depleted': {
    state: 'exhausted',
    reason: 'limit_reached',
    check: (o) => assert.equal(o.errorCode, 'workspace_member_credits_depleted'),
  },
  'workspace-limit-evidence': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.equal(o.errorCode, 'workspace_owner_usage_limit_reached'),
  },
  'account-banned': {
    state: 'blocked',
    reason: 'account_blocked',
    check: (o) => {
      assert.equal(o.errorCode, 'account_deactivated');
      assert.equal(o.attempts, 1, 'no refresh: a new sign-in cannot help');
    },
  },
  'go-monthly': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:monthly']),
  },
  'prolite-weekly': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:weekly']),
  },
  'self-serve-business-prolite': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.equal(o.snapshot?.plan, 'self_serve_business_prolite'),
  },
  'unknown-plan': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:5h', 'secondary:weekly']),
  },
  'inexact-windows': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:5h', 'secondary:weekly']),
  },
} satisfies Record<string, Expect>;
const WORKSPACE_SCENARIOS = Object.keys(WORKSPACE_EXPECTED) as (keyof typeof WORKSPACE_EXPECTED)[];

const EXPECTED: Record<ScenarioName, Expect> = {
  healthy: {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:5h', 'secondary:weekly']),
  },
  'weekly-only-free': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:weekly']),
  },
  'team-monthly': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.deepEqual(kinds(o), ['primary:5h', 'secondary:monthly']),
  },
  pro: { state: 'ok', reason: 'quota_available', check: (o) => assert.equal(o.snapshot?.plan, 'pro') },
  exhausted: { state: 'exhausted', reason: 'limit_reached', check: (o) => assert.ok(o.resetAfterSeconds! > 0) },
  'five-hour-full': {
    state: 'exhausted',
    reason: 'window_exhausted',
    check: (o) => assert.ok(o.resetAfterSeconds! > 0),
  },
  'usage-limit-429': {
    state: 'exhausted',
    reason: 'usage_limit_reached',
    check: (o) => assert.ok(o.resetAfterSeconds! > 0),
  },
  'usage-limit-429-no-reset': {
    state: 'exhausted',
    reason: 'usage_limit_reached',
    check: (o) => {
      assert.equal(o.resetAfterSeconds, null);
      assert.equal(o.snapshot?.plan, 'free');
    },
  },
  'usage-not-included': { state: 'no_codex', reason: 'usage_not_included' },
  'deactivated-workspace': { state: 'workspace_deactivated', reason: 'deactivated_workspace' },
  'expired-token': { state: 'ok', reason: 'quota_available', check: (o) => assert.equal(o.attempts, 2) },
  'auth-revoked': { state: 'auth_invalid', reason: 'auth_invalid' },
  'refresh-invalidated': {
    state: 'auth_invalid',
    reason: 'refresh_token_dead',
    check: (o) => assert.equal(o.errorCode, 'refresh_token_invalidated'),
  },
  'refresh-expired': {
    state: 'auth_invalid',
    reason: 'refresh_token_dead',
    check: (o) => assert.equal(o.errorCode, 'refresh_token_expired'),
  },
  'refresh-reused': {
    state: 'auth_invalid',
    reason: 'refresh_token_dead',
    check: (o) => assert.equal(o.errorCode, 'refresh_token_reused'),
  },
  'refresh-invalid-grant': {
    state: 'auth_invalid',
    reason: 'refresh_token_dead',
    check: (o) => assert.equal(o.errorCode, 'invalid_grant'),
  },
  'account-deactivated': {
    state: 'blocked',
    reason: 'account_blocked',
    check: (o) => assert.equal(o.errorCode, 'account_deactivated'),
  },
  'unsupported-country': {
    state: 'blocked',
    reason: 'account_blocked',
    check: (o) => assert.equal(o.errorCode, 'unsupported_country'),
  },
  cloudflare: { state: 'unknown', reason: 'cloudflare_challenge', check: (o) => assert.equal(o.attempts, 3) },
  throttled: { state: 'unknown', reason: 'throttled', check: (o) => assert.equal(o.retryAfterSeconds, 2) },
  'server-error': { state: 'unknown', reason: 'server_error', check: (o) => assert.equal(o.attempts, 3) },
  'bad-gateway': { state: 'unknown', reason: 'server_error' },
  overloaded: { state: 'unknown', reason: 'server_overloaded' },
  'gateway-timeout': { state: 'unknown', reason: 'server_error' },
  timeout: { state: 'unknown', reason: 'timeout', check: (o) => assert.equal(o.httpStatus, null) },
  flaky: { state: 'ok', reason: 'quota_available', check: (o) => assert.equal(o.attempts, 3) },
  'malformed-non-json': { state: 'unknown', reason: 'malformed_response' },
  'malformed-truncated': { state: 'unknown', reason: 'malformed_response' },
  'legacy-fields': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.ok(o.snapshot!.windows.every((w) => w.resetAfterSeconds! > 0)),
  },
  'code-review-additional': {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => {
      const scopes = o.snapshot!.windows.map((w) => w.scope);
      assert.ok(scopes.includes('code_review') && scopes.includes('additional'), scopes.join());
    },
  },
  credits: {
    state: 'ok',
    reason: 'quota_available',
    check: (o) => assert.notEqual(o.snapshot!.credits.hasCredits, null),
  },
  ...WORKSPACE_EXPECTED,
};

describe('probeAccount against the simulator: one account per scenario', () => {
  let sim: Simulator;
  const seen: Record<string, string>[] = [];
  // Wraps the real fetch only to look at what we send.
  const recordingFetch: FetchLike = (url, init) => {
    seen.push(headersToRecord(new Headers(init?.headers)));
    return fetch(url, init);
  };
  before(async () => {
    sim = await startSimulator({ accounts: SCENARIO_NAMES.map((scenario) => ({ scenario })), latency: 0 });
  });
  after(() => sim.close());

  const options = (): ProbeOptions => ({
    chatgptUrl: sim.chatgptUrl,
    retries: 2,
    retryDelayMs: 1,
    timeoutMs: 400,
    sleep: noSleep,
    fetch: recordingFetch,
  });

  for (const scenario of SCENARIO_NAMES) {
    test(scenario, async () => {
      const account = sim.accounts.find((a) => a.scenario === scenario)!;
      const outcome = await probeAccount(
        { accessToken: account.accessToken, accountId: account.id },
        { ...options(), onUnauthorized: refresher(sim, account.id), captureRaw: true },
      );
      const want = EXPECTED[scenario];
      assert.equal(outcome.state, want.state, `${scenario}: ${outcome.reason} ${outcome.message}`);
      assert.equal(outcome.reason, want.reason);
      assert.equal(outcome.source, 'network');
      want.check?.(outcome);
      for (const secret of [account.accessToken, account.refreshToken, account.email]) {
        assert.ok(!(outcome.message ?? '').includes(secret), 'message leaks a secret');
      }
    });
  }

  test('every request carried the §1 headers', () => {
    assert.ok(seen.length >= SCENARIO_NAMES.length);
    for (const h of seen) {
      assert.match(h.authorization, /^Bearer \S+$/);
      assert.equal(h.originator, 'codex_cli_rs');
      assert.match(h['user-agent'], /^codex_cli_rs\/\d+\.\d+\.\d+ \(.+; .+\)$/);
      assert.equal(h.accept, 'application/json');
      assert.ok(h['chatgpt-account-id']);
    }
  });

  test('expired token without a refresh hook stays auth_expired (a read-only report never refreshes)', async () => {
    sim.setScenario(sim.accounts.find((a) => a.scenario === 'expired-token')!.id, 'expired-token');
    const account = sim.accounts.find((a) => a.scenario === 'expired-token')!;
    const outcome = await probeAccount({ accessToken: account.accessToken, accountId: account.id }, options());
    assert.equal(outcome.state, 'auth_expired');
    assert.equal(outcome.reason, 'access_token_expired');
  });

  test('captureRaw keeps the final answer, off by default', async () => {
    const account = sim.accounts.find((a) => a.scenario === 'healthy')!;
    const target = { accessToken: account.accessToken, accountId: account.id };
    const raw = await probeAccount(target, { ...options(), captureRaw: true });
    assert.equal(raw.raw?.status, 200);
    assert.equal(raw.raw?.headers['content-type'], 'application/json');
    assert.ok(JSON.parse(raw.raw!.body!).rate_limit);
    assert.equal((await probeAccount(target, options())).raw, undefined);
  });

  test('no access token → auth_invalid / no_credentials without a request', async () => {
    const before = sim.stats().totalRequests;
    const outcome = await probeAccount({ accessToken: null, accountId: null }, options());
    assert.equal(outcome.reason, 'no_credentials');
    assert.equal(sim.stats().totalRequests, before);
  });

  test('non-backend base uses /api/codex/usage', async () => {
    const account = sim.accounts.find((a) => a.scenario === 'healthy')!;
    const outcome = await probeAccount(
      { accessToken: account.accessToken, accountId: account.id },
      { ...options(), chatgptUrl: sim.baseUrl },
    );
    assert.equal(outcome.state, 'ok');
    assert.equal(outcome.usagePath, '/api/codex/usage');
  });

  test('an unreachable server is a network_error result, not an exception', async () => {
    const outcome = await probeAccount(
      { accessToken: 'x', accountId: null },
      { ...options(), chatgptUrl: 'http://127.0.0.1:1/backend-api', fetch: undefined },
    );
    assert.equal(outcome.state, 'unknown');
    assert.equal(outcome.reason, 'network_error');
    assert.equal(outcome.attempts, 3);
  });
});

describe('issue 19 scenarios on every usage path: /wham, /codex (/wham retired) and /wham (/codex retired)', () => {
  for (const retired of [null, '/wham', '/codex'] as const) {
    test(`${retired ? `${retired} retired` : '/codex/usage remembered'}: same state, reason and evidence`, async () => {
      const sim = await startSimulator({
        accounts: WORKSPACE_SCENARIOS.map((scenario) => ({ scenario })),
        latency: 0,
        retiredPaths: retired ? [{ path: retired, status: 404 }] : [],
      });
      try {
        // No retired path: start on /codex/usage by memory, so both backend paths are played.
        const memory: UsagePathMemory = retired ? {} : { [sim.chatgptUrl]: '/codex/usage' };
        const wantPath = retired === '/wham' || retired == null ? '/codex/usage' : '/wham/usage';
        for (const scenario of WORKSPACE_SCENARIOS) {
          const a = sim.accounts.find((x) => x.scenario === scenario)!;
          const o = await probeAccount(
            { accessToken: a.accessToken, accountId: a.id },
            { chatgptUrl: sim.chatgptUrl, retries: 0, pathMemory: memory, sleep: noSleep },
          );
          const want = WORKSPACE_EXPECTED[scenario] as Expect;
          assert.equal(o.state, want.state, `${scenario} via ${o.usagePath}: ${o.reason} ${o.message}`);
          assert.equal(o.reason, want.reason, scenario);
          if (o.state !== 'blocked') assert.equal(o.usagePath, wantPath, scenario);
          want.check?.(o);
        }
      } finally {
        await sim.close();
      }
    });
  }
});

describe('usage path fallback', () => {
  for (const status of [404, 403] as const) {
    test(`/wham retired with ${status}: falls back to /codex and remembers it`, async () => {
      const sim = await startSimulator({
        accounts: [{ scenario: 'healthy' }, { scenario: 'account-deactivated' }],
        latency: 0,
        retiredPaths: [{ path: '/wham', status }],
      });
      try {
        const memory: UsagePathMemory = {};
        const [healthy, blocked] = sim.accounts;
        const opts = { chatgptUrl: sim.chatgptUrl, retries: 0, pathMemory: memory, sleep: noSleep };
        const first = await probeAccount({ accessToken: healthy.accessToken, accountId: healthy.id }, opts);
        assert.equal(first.state, 'ok');
        assert.equal(first.usagePath, '/codex/usage');
        assert.deepEqual(memory, { [sim.chatgptUrl]: '/codex/usage' });
        const whamBefore = sim.stats().requests['/backend-api/wham/usage'];
        const second = await probeAccount({ accessToken: healthy.accessToken, accountId: healthy.id }, opts);
        assert.equal(second.usagePath, '/codex/usage');
        assert.deepEqual(
          sim.stats().requests['/backend-api/wham/usage'],
          whamBefore,
          'the retired path is not tried again',
        );
        // A JSON 403 that is about the account still reaches the classifier as "blocked".
        const third = await probeAccount({ accessToken: blocked.accessToken, accountId: blocked.id }, opts);
        assert.equal(third.state, 'blocked');
      } finally {
        await sim.close();
      }
    });
  }

  test('both backend paths retired: a 404 + 403 answer is reported, not a crash', async () => {
    const sim = await startSimulator({
      accounts: [{ scenario: 'healthy' }],
      latency: 0,
      retiredPaths: [
        { path: '/wham', status: 404 },
        { path: '/codex', status: 404 },
      ],
    });
    try {
      const [a] = sim.accounts;
      const memory: UsagePathMemory = {};
      const outcome = await probeAccount(
        { accessToken: a.accessToken, accountId: a.id },
        { chatgptUrl: sim.chatgptUrl, pathMemory: memory, sleep: noSleep },
      );
      assert.equal(outcome.state, 'unknown');
      assert.equal(outcome.reason, 'path_retired');
      assert.deepEqual(memory, {});
    } finally {
      await sim.close();
    }
  });

  test('a remembered path that gets retired later falls back to the other one', async () => {
    const sim = await startSimulator({
      accounts: [{ scenario: 'healthy' }],
      latency: 0,
      retiredPaths: [{ path: '/codex', status: 404 }],
    });
    try {
      const [a] = sim.accounts;
      const memory: UsagePathMemory = { [sim.chatgptUrl]: '/codex/usage' };
      const outcome = await probeAccount(
        { accessToken: a.accessToken, accountId: a.id },
        { chatgptUrl: sim.chatgptUrl, pathMemory: memory, sleep: noSleep },
      );
      assert.equal(outcome.state, 'ok');
      assert.equal(outcome.usagePath, '/wham/usage');
      assert.equal(memory[sim.chatgptUrl], '/wham/usage');
    } finally {
      await sim.close();
    }
  });
});

describe('Cloudflare by in-flight count', () => {
  test('bursting past the per-IP limit draws challenges; a concurrency under it does not', async () => {
    const sim = await startSimulator({
      count: 0,
      accounts: Array.from({ length: 8 }, () => ({ scenario: 'healthy' as const })),
      latency: 80,
      cloudflareMaxInFlight: 2,
    });
    try {
      const targets = sim.accounts.map((a) => ({ name: a.name, accessToken: a.accessToken, accountId: a.id }));
      const base = { chatgptUrl: sim.chatgptUrl, retries: 0, startJitterMs: 0, sleep: noSleep };
      const burst = await probeAll(targets, { ...base, concurrency: 8 });
      assert.ok(burst.some((o) => o.reason === 'cloudflare_challenge'));
      assert.ok(
        burst.every((o) => !o.state.startsWith('auth')),
        'a challenge is never read as auth',
      );
      const calm = await probeAll(targets, { ...base, concurrency: 2 });
      assert.deepEqual(new Set(calm.map((o) => o.state)), new Set(['ok']));
    } finally {
      await sim.close();
    }
  });
});

describe('probeViaResponses (x-codex-* headers)', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { scenario: 'healthy' },
        { scenario: 'exhausted' },
        { scenario: 'weekly-only-free' },
        { scenario: 'cloudflare' },
        { scenario: 'expired-token' },
        { scenario: 'usage-limit-429-no-reset' },
        { scenario: 'enterprise-unlimited' },
        { scenario: 'spend-control-reached' },
        { scenario: 'workspace-credits-depleted' },
        { scenario: 'inexact-windows' },
        { scenario: 'account-banned' },
      ],
      latency: 0,
    });
  });
  after(() => sim.close());
  const run = (scenario: ScenarioName, extra: Partial<ProbeOptions> = {}) => {
    const a = sim.accounts.find((x) => x.scenario === scenario)!;
    return probeViaResponses(
      { accessToken: a.accessToken, accountId: a.id },
      { chatgptUrl: sim.chatgptUrl, model: 'gpt-5-codex', retries: 1, sleep: noSleep, ...extra },
    );
  };

  test('healthy: windows and plan from headers', async () => {
    const o = await run('healthy');
    assert.equal(o.state, 'ok');
    assert.equal(o.usagePath, '/codex/responses');
    assert.deepEqual(kinds(o), ['primary:5h', 'secondary:weekly']);
    assert.equal(o.snapshot?.plan, 'plus');
  });
  test('free plan: weekly window by duration', async () => {
    assert.deepEqual(kinds(await run('weekly-only-free')), ['primary:weekly']);
  });
  test('exhausted: 429 usage_limit_reached, windows kept from the refusal headers', async () => {
    const o = await run('exhausted');
    assert.equal(o.state, 'exhausted');
    assert.equal(o.reason, 'usage_limit_reached');
    assert.deepEqual(kinds(o), ['primary:5h', 'secondary:weekly']);
    assert.ok(o.resetAfterSeconds! > 0);
  });
  test('429 without a reset in the body: the reset comes from the full window in the headers', async () => {
    const o = await run('usage-limit-429-no-reset');
    assert.equal(o.state, 'exhausted');
    assert.equal(o.snapshot?.plan, 'free');
    const weekly = o.snapshot!.windows.find((w) => w.kind === 'weekly')!;
    assert.equal(weekly.usedPercent, 100);
    assert.equal(o.resetAfterSeconds, weekly.resetAfterSeconds);
    assert.ok(o.resetAfterSeconds! > 0);
  });
  test('workspace without windows: a served request without window headers is ok, no windows', async () => {
    const o = await run('enterprise-unlimited');
    assert.equal(o.state, 'ok');
    assert.equal(o.reason, 'no_rate_limit_windows');
    assert.deepEqual(kinds(o), []);
    assert.equal(o.message, 'no rate-limit windows: unlimited credits');
  });
  test('spend control reached: generation refused, exhausted with the budget reset', async () => {
    const o = await run('spend-control-reached');
    assert.equal(o.state, 'exhausted');
    assert.ok(Math.abs(o.resetAfterSeconds! - 20 * 86400) <= 60, String(o.resetAfterSeconds));
  });
  test('workspace credits depleted: refused, exhausted, reset unknown', async () => {
    const o = await run('workspace-credits-depleted');
    assert.equal(o.state, 'exhausted');
    assert.equal(o.resetAfterSeconds, null);
  });
  test('inexact window minutes (299, 10079) classify as 5h and weekly', async () => {
    assert.deepEqual(kinds(await run('inexact-windows')), ['primary:5h', 'secondary:weekly']);
  });
  test('account banned: blocked, never a refresh', async () => {
    const o = await run('account-banned');
    assert.equal(o.state, 'blocked');
    assert.equal(o.errorCode, 'account_deactivated');
  });
  test('cloudflare: unknown, retried', async () => {
    const o = await run('cloudflare');
    assert.equal(o.reason, 'cloudflare_challenge');
    assert.equal(o.attempts, 2);
  });
  test('expired token: refreshed once through the hook', async () => {
    const a = sim.accounts.find((x) => x.scenario === 'expired-token')!;
    const o = await run('expired-token', { onUnauthorized: refresher(sim, a.id) });
    assert.equal(o.state, 'ok');
  });
});
