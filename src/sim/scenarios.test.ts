// Every scenario's wire answer over real HTTP: status, headers and body as a client sees them.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SCENARIO_NAMES, type ScenarioName, type Simulator, startSimulator } from './index.ts';
import type { Json } from './test-json.ts';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
let sim: Simulator;
const idOf = new Map<ScenarioName, string>();

before(async () => {
  sim = await startSimulator({
    accounts: SCENARIO_NAMES.map((scenario) => ({ scenario, failures: 2, retryAfterSeconds: 7 })),
    clock: () => T0,
  });
  for (const a of sim.accounts) idOf.set(a.scenario, a.id);
});
after(() => sim.close());

function account(scenario: ScenarioName) {
  const a = sim.accounts.find((x) => x.scenario === scenario);
  assert.ok(a, scenario);
  return a;
}

async function usage(scenario: ScenarioName, path = '/wham/usage', init: RequestInit = {}) {
  const a = account(scenario);
  const res = await fetch(`${sim.chatgptUrl}${path}`, {
    headers: { authorization: `Bearer ${a.accessToken}`, 'chatgpt-account-id': a.id, originator: 'codex_cli_rs' },
    signal: AbortSignal.timeout(5000),
    ...init,
  });
  const text = await res.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { res, text, json };
}

const nowSec = T0 / 1000;

describe('usage endpoint', () => {
  test('healthy: plus, 5h primary + weekly secondary, integer percents, both reset fields', async () => {
    const { res, json } = await usage('healthy');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(json.plan_type, 'plus');
    assert.equal(json.rate_limit.allowed, true);
    assert.equal(json.rate_limit.limit_reached, false);
    const p = json.rate_limit.primary_window;
    assert.deepEqual(p, {
      used_percent: 12,
      limit_window_seconds: 18000,
      reset_after_seconds: 7200,
      reset_at: nowSec + 7200,
    });
    assert.equal(json.rate_limit.secondary_window.limit_window_seconds, 604800);
    assert.ok(Number.isInteger(json.rate_limit.secondary_window.used_percent));
    assert.deepEqual(json.credits, { has_credits: false, unlimited: false, balance: '0' });
  });

  test('the three usage paths give identical payloads', async () => {
    const a = await usage('pro', '/wham/usage');
    const b = await usage('pro', '/codex/usage');
    const c = await fetch(`${sim.baseUrl}/api/codex/usage`, {
      headers: { authorization: `Bearer ${account('pro').accessToken}` },
    });
    assert.equal(b.text, a.text);
    assert.equal(await c.text(), a.text);
    assert.equal(a.json.plan_type, 'pro');
  });

  test('weekly-only-free: weekly window in primary, no secondary', async () => {
    const { json } = await usage('weekly-only-free');
    assert.equal(json.plan_type, 'free');
    assert.equal(json.rate_limit.primary_window.limit_window_seconds, 604800);
    assert.equal(json.rate_limit.secondary_window, null);
  });

  test('team-monthly: a 30-day secondary window', async () => {
    const { json } = await usage('team-monthly');
    assert.equal(json.plan_type, 'team');
    assert.equal(json.rate_limit.primary_window.limit_window_seconds, 18000);
    assert.equal(json.rate_limit.secondary_window.limit_window_seconds, 2592000);
  });

  test('exhausted: 200 with limit_reached and allowed false', async () => {
    const { res, json } = await usage('exhausted');
    assert.equal(res.status, 200);
    assert.equal(json.rate_limit.limit_reached, true);
    assert.equal(json.rate_limit.allowed, false);
    assert.equal(json.rate_limit.secondary_window.used_percent, 100);
    assert.equal(json.rate_limit_reached_type.type, 'rate_limit_reached');
  });

  test('five-hour-full: 5h at 100% with no flag fields', async () => {
    const { res, json } = await usage('five-hour-full');
    assert.equal(res.status, 200);
    assert.equal(json.rate_limit.primary_window.used_percent, 100);
    assert.equal('limit_reached' in json.rate_limit, false);
    assert.equal('allowed' in json.rate_limit, false);
  });

  test('usage-limit-429: usage_limit_reached with reset', async () => {
    const { res, json } = await usage('usage-limit-429');
    assert.equal(res.status, 429);
    assert.equal(json.error.type, 'usage_limit_reached');
    assert.equal(json.error.plan_type, 'plus');
    assert.equal(json.error.resets_in_seconds, 7200);
    assert.equal(json.error.resets_at, nowSec + 7200);
  });

  test('usage-limit-429-no-reset: free plan, no reset fields', async () => {
    const { res, json } = await usage('usage-limit-429-no-reset');
    assert.equal(res.status, 429);
    assert.equal(json.error.type, 'usage_limit_reached');
    assert.equal(json.error.plan_type, 'free');
    assert.equal('resets_in_seconds' in json.error, false);
    assert.equal('resets_at' in json.error, false);
  });

  test('usage-not-included: 429 usage_not_included', async () => {
    const { res, json } = await usage('usage-not-included');
    assert.equal(res.status, 429);
    assert.equal(json.error.type, 'usage_not_included');
  });

  test('deactivated-workspace: 402 detail.code', async () => {
    const { res, json } = await usage('deactivated-workspace');
    assert.equal(res.status, 402);
    assert.deepEqual(json, { detail: { code: 'deactivated_workspace' } });
  });

  for (const [scenario, code] of [
    ['account-deactivated', 'account_deactivated'],
    ['unsupported-country', 'unsupported_country'],
  ] as const) {
    test(`${scenario}: JSON 403 ${code}`, async () => {
      const { res, json } = await usage(scenario);
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /json/);
      assert.equal(json.error.code, code);
    });
  }

  test('cloudflare: HTML 403 challenge', async () => {
    const { res, text } = await usage('cloudflare');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('cf-mitigated'), 'challenge');
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(text, /<html/);
    assert.match(text, /Just a moment/);
  });

  test('throttled: 429 with Retry-After and no body', async () => {
    const { res, text } = await usage('throttled');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(text, '');
  });

  for (const [scenario, status, code] of [
    ['server-error', 500, null],
    ['bad-gateway', 502, null],
    ['overloaded', 503, 'server_is_overloaded'],
    ['gateway-timeout', 504, 'gateway_timeout'],
  ] as const) {
    test(`${scenario}: ${status}`, async () => {
      const { res, json } = await usage(scenario);
      assert.equal(res.status, status);
      if (code) assert.equal(json.error.code, code);
    });
  }

  test('timeout: no answer before the client gives up', async () => {
    await assert.rejects(
      usage('timeout', '/wham/usage', { signal: AbortSignal.timeout(300) }),
      /TimeoutError|aborted/i,
    );
  });

  test('flaky: fails twice with 503, then answers 200', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await usage('flaky')).res.status);
    assert.deepEqual(statuses, [503, 503, 200]);
  });

  test('malformed-non-json: 200 whose body is not JSON', async () => {
    const { res, text, json } = await usage('malformed-non-json');
    assert.equal(res.status, 200);
    assert.ok(text.length > 0);
    assert.equal(json, null);
  });

  test('malformed-truncated: 200 with the start of a JSON payload', async () => {
    const { res, text, json } = await usage('malformed-truncated');
    assert.equal(res.status, 200);
    assert.ok(text.startsWith('{"plan_type"'));
    assert.equal(json, null);
  });

  test('legacy-fields: resets_in_seconds / resets_at instead of the new names', async () => {
    const { json } = await usage('legacy-fields');
    const p = json.rate_limit.primary_window;
    assert.equal(p.resets_in_seconds, 7200);
    assert.equal(p.resets_at, nowSec + 7200);
    assert.equal('reset_after_seconds' in p, false);
  });

  test('code-review-additional: code_review_rate_limit and additional_rate_limits', async () => {
    const { json } = await usage('code-review-additional');
    assert.equal(json.code_review_rate_limit.primary_window.limit_window_seconds, 604800);
    assert.equal(json.additional_rate_limits.length, 1);
    assert.equal(typeof json.additional_rate_limits[0].limit_name, 'string');
    assert.equal(json.additional_rate_limits[0].rate_limit.primary_window.limit_window_seconds, 18000);
  });

  test('credits: balance is a string', async () => {
    const { json } = await usage('credits');
    assert.deepEqual(json.credits, { has_credits: true, unlimited: false, balance: '42.50' });
  });

  test('expired-token: 401 token_expired', async () => {
    const { res, json } = await usage('expired-token');
    assert.equal(res.status, 401);
    assert.equal(json.error.code, 'token_expired');
  });

  test('unknown token: 401 JSON; no token: 401 JSON', async () => {
    const res = await fetch(`${sim.chatgptUrl}/wham/usage`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, 'invalid_token');
    const res2 = await fetch(`${sim.chatgptUrl}/wham/usage`);
    assert.equal(res2.status, 401);
    assert.ok(await res2.json());
  });
});

describe('issue 19 rows (UPSTREAM.md §2): workspaces, spend controls, banned accounts, plans in the wild', () => {
  test('business-spend-control: rate_limit null, a spend_control budget in codex-rs field names', async () => {
    for (const path of ['/wham/usage', '/codex/usage']) {
      const { res, json } = await usage('business-spend-control', path);
      assert.equal(res.status, 200);
      assert.equal(json.plan_type, 'business');
      assert.equal(json.rate_limit, null);
      assert.equal(json.spend_control.reached, false);
      assert.deepEqual(json.spend_control.individual_limit, {
        limit: '100.00',
        used: '12.00',
        remaining: '88.00',
        used_percent: 12,
        remaining_percent: 88,
        reset_after_seconds: 20 * 86400,
        reset_at: nowSec + 20 * 86400,
      });
      assert.deepEqual(json.credits, { has_credits: true, unlimited: false, balance: '0' });
    }
  });

  test('enterprise-unlimited and edu-no-windows: rate_limit null', async () => {
    const e = await usage('enterprise-unlimited');
    assert.equal(e.json.rate_limit, null);
    assert.deepEqual(e.json.credits, { has_credits: true, unlimited: true, balance: null });
    assert.equal('spend_control' in e.json, false);
    const edu = await usage('edu-no-windows');
    assert.equal(edu.json.plan_type, 'edu');
    assert.equal(edu.json.rate_limit, null);
  });

  test('spend-control-reached: reached with the individual budget at 100%; without details only reached', async () => {
    const { json } = await usage('spend-control-reached');
    assert.equal(json.spend_control.reached, true);
    assert.equal(json.spend_control.reached_limit_type, 'individual');
    assert.equal(json.spend_control.individual_limit.used_percent, 100);
    const bare = await usage('spend-control-reached-no-reset');
    assert.deepEqual(bare.json.spend_control, { reached: true, reached_limit_type: 'individual' });
  });

  test('workspace-credits-depleted: allowed false, limit_reached true, the reached kind named', async () => {
    const { json } = await usage('workspace-credits-depleted');
    assert.deepEqual(json.rate_limit, {
      allowed: false,
      limit_reached: true,
      primary_window: null,
      secondary_window: null,
    });
    assert.deepEqual(json.rate_limit_reached_type, { type: 'workspace_member_credits_depleted' });
  });

  test('workspace-limit-evidence: allowed true with windows, and a reached kind as evidence', async () => {
    const { json } = await usage('workspace-limit-evidence');
    assert.equal(json.rate_limit.allowed, true);
    assert.deepEqual(json.rate_limit_reached_type, { type: 'workspace_owner_usage_limit_reached' });
  });

  test('account-banned: 401 account_deactivated on both paths and on responses', async () => {
    for (const path of ['/wham/usage', '/codex/usage']) {
      const { res, json } = await usage('account-banned', path);
      assert.equal(res.status, 401);
      assert.equal(json.error.code, 'account_deactivated');
      assert.match(json.error.message, /deactivated/);
    }
  });

  test('plans and window lengths in the wild', async () => {
    const go = await usage('go-monthly');
    assert.equal(go.json.plan_type, 'go');
    assert.equal(go.json.rate_limit.primary_window.limit_window_seconds, 2592000);
    assert.equal(go.json.rate_limit.secondary_window, null);
    const prolite = await usage('prolite-weekly');
    assert.equal(prolite.json.rate_limit.primary_window.limit_window_seconds, 604800);
    assert.equal((await usage('self-serve-business-prolite')).json.plan_type, 'self_serve_business_prolite');
    assert.equal((await usage('unknown-plan')).json.plan_type, 'galaxy_brain');
    const inexact = await usage('inexact-windows', '/codex/usage');
    assert.equal(inexact.json.rate_limit.primary_window.limit_window_seconds, 17940);
    assert.equal(inexact.json.rate_limit.secondary_window.limit_window_seconds, 604740);
  });
});

describe('responses endpoint', () => {
  async function respond(scenario: ScenarioName, body: unknown = { model: 'gpt-5-codex', stream: true }) {
    const a = account(scenario);
    const res = await fetch(`${sim.chatgptUrl}/codex/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.accessToken}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { res, text: await res.text() };
  }

  test('healthy: SSE with every x-codex-* header', async () => {
    const { res, text } = await respond('healthy');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const h = (k: string) => res.headers.get(`x-codex-${k}`);
    assert.equal(h('primary-used-percent'), '12');
    assert.equal(h('primary-window-minutes'), '300');
    assert.equal(h('primary-reset-at'), String(nowSec + 7200));
    assert.equal(h('primary-reset-after-seconds'), '7200');
    assert.equal(h('secondary-window-minutes'), '10080');
    for (const k of ['secondary-used-percent', 'secondary-reset-at', 'secondary-reset-after-seconds']) assert.ok(h(k));
    assert.equal(h('plan-type'), 'plus');
    assert.equal(h('active-limit'), 'codex');
    assert.equal(h('credits-has-credits'), 'false');
    assert.equal(h('credits-unlimited'), 'false');
    assert.equal(h('credits-balance'), '0');
    assert.match(text, /event: response.completed/);
  });

  test('stream false: a JSON response object', async () => {
    const { res, text } = await respond('pro', { model: 'gpt-5-codex', stream: false });
    assert.equal(res.status, 200);
    const json = JSON.parse(text);
    assert.equal(json.model, 'gpt-5-codex');
    assert.equal(json.status, 'completed');
    assert.equal(res.headers.get('x-codex-plan-type'), 'pro');
  });

  test('exhausted: 429 usage_limit_reached, still with x-codex headers', async () => {
    const { res, text } = await respond('exhausted');
    assert.equal(res.status, 429);
    assert.equal(JSON.parse(text).error.type, 'usage_limit_reached');
    assert.equal(res.headers.get('x-codex-secondary-used-percent'), '100');
  });

  test('faults behave as on usage', async () => {
    assert.equal((await respond('deactivated-workspace')).res.status, 402);
    assert.equal((await respond('cloudflare')).res.headers.get('cf-mitigated'), 'challenge');
    assert.equal((await respond('expired-token')).res.status, 401);
  });

  test('workspaces: no window headers when rate_limit is null; refused when a spend control or credit limit is reached', async () => {
    const ok = await respond('enterprise-unlimited');
    assert.equal(ok.res.status, 200);
    assert.equal(ok.res.headers.get('x-codex-primary-used-percent'), null);
    assert.equal(ok.res.headers.get('x-codex-credits-unlimited'), 'true');
    assert.equal(ok.res.headers.get('x-codex-credits-balance'), null);
    const spent = await respond('spend-control-reached');
    assert.equal(spent.res.status, 429);
    assert.equal(JSON.parse(spent.text).error.resets_in_seconds, 20 * 86400);
    const depleted = await respond('workspace-credits-depleted');
    assert.equal(depleted.res.status, 429);
    assert.equal('resets_in_seconds' in JSON.parse(depleted.text).error, false);
    assert.equal((await respond('account-banned')).res.status, 401);
    assert.equal((await respond('inexact-windows')).res.headers.get('x-codex-primary-window-minutes'), '299');
  });

  test('missing model or bad JSON: 400 with a message', async () => {
    const a = await respond('healthy', {});
    assert.equal(a.res.status, 400);
    assert.match(JSON.parse(a.text).error.message, /model/);
    const b = await respond('healthy', '{not json');
    assert.equal(b.res.status, 400);
  });
});
