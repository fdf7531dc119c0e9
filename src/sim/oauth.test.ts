// The token endpoint: rotating single-use refresh tokens, dead-token variants, body forms, bad input.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwtPayload, SIM_CLIENT_ID, type Simulator, startSimulator } from './index.ts';
import type { Json } from './test-json.ts';

const T0 = Date.UTC(2026, 0, 1);
let sim: Simulator;
before(async () => {
  sim = await startSimulator({
    accounts: [
      { scenario: 'expired-token', email: 'exp@example.test' },
      { scenario: 'refresh-invalidated' },
      { scenario: 'refresh-expired' },
      { scenario: 'refresh-reused' },
      { scenario: 'refresh-invalid-grant' },
      { scenario: 'auth-revoked' },
      { scenario: 'healthy', plan: 'pro', email: 'pro@example.test' },
    ],
    clock: () => T0,
  });
});
after(() => sim.close());

const acct = (scenario: string) => sim.accounts.find((a) => a.scenario === scenario)!;

function refreshJson(token: string, extra: Record<string, string> = {}) {
  return fetch(sim.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', originator: 'codex_cli_rs' },
    body: JSON.stringify({ client_id: SIM_CLIENT_ID, grant_type: 'refresh_token', refresh_token: token, ...extra }),
  });
}

async function usageStatus(token: string) {
  const res = await fetch(`${sim.chatgptUrl}/wham/usage`, { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

test('expired token: 401, refresh rotates, new token works, old refresh token is reused', async () => {
  const a = acct('expired-token');
  const oldAccess = a.accessToken;
  const oldRefresh = a.refreshToken;
  assert.ok((decodeJwtPayload(oldAccess)!.exp as number) < T0 / 1000, 'starts with a JWT exp in the past');
  assert.equal(await usageStatus(oldAccess), 401);

  const res = await refreshJson(oldRefresh, { refresh_reason: 'proactive_expiry' });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(Object.keys(body).slice(0, 4), ['id_token', 'access_token', 'refresh_token', 'expires_in']);
  assert.notEqual(body.refresh_token, oldRefresh);
  assert.equal(body.access_token, a.accessToken, 'the live account view follows the rotation');
  assert.equal(body.expires_in, 864000);

  const claims = decodeJwtPayload(body.id_token)!;
  assert.equal(claims.email, 'exp@example.test');
  assert.equal(claims.exp, T0 / 1000 + 864000);
  const auth = claims['https://api.openai.com/auth'] as Record<string, string>;
  assert.equal(auth.chatgpt_account_id, a.id);
  assert.equal(auth.chatgpt_plan_type, 'plus');
  assert.match(auth.chatgpt_user_id, /^user-/);

  assert.equal(await usageStatus(body.access_token), 200);
  assert.equal(await usageStatus(oldAccess), 401, 'the old access token is gone');

  const reuse = await refreshJson(oldRefresh);
  assert.equal(reuse.status, 401);
  assert.equal((await reuse.json()).error.code, 'refresh_token_reused');
  const s = sim.stats();
  assert.equal(s.refreshes, 1);
  assert.equal(s.reusedRefreshTokens, 1);
});

test('form-encoded bodies work too', async () => {
  const a = acct('healthy');
  const res = await fetch(sim.authUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: a.refreshToken, client_id: SIM_CLIENT_ID }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  const auth = decodeJwtPayload(body.access_token)!['https://api.openai.com/auth'] as Record<string, string>;
  assert.equal(auth.chatgpt_plan_type, 'pro');
});

for (const [scenario, check] of [
  ['refresh-invalidated', (b: Json) => b.error.code === 'refresh_token_invalidated'],
  ['refresh-expired', (b: Json) => b.error.code === 'refresh_token_expired'],
  ['refresh-reused', (b: Json) => b.error.code === 'refresh_token_reused'],
  ['refresh-invalid-grant', (b: Json) => b.error === 'invalid_grant'],
] as const) {
  test(`${scenario}: usage 401, refresh 401 with the dead-token code, token not consumed`, async () => {
    const a = acct(scenario);
    assert.equal(await usageStatus(a.accessToken), 401);
    const before = a.refreshToken;
    const res = await refreshJson(before);
    assert.equal(res.status, 401);
    assert.ok(check(await res.json()));
    assert.equal(a.refreshToken, before);
  });
}

test('the dead-refresh message matches the real one', async () => {
  const res = await refreshJson(acct('refresh-invalidated').refreshToken);
  assert.equal((await res.json()).error.message, 'Your session has ended. Please sign in again.');
});

test('auth-revoked: refresh works but usage still answers 401', async () => {
  const a = acct('auth-revoked');
  assert.equal(await usageStatus(a.accessToken), 401);
  const res = await refreshJson(a.refreshToken);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(await usageStatus(body.access_token), 401);
});

test('bad input gets a 400 that says what is wrong', async () => {
  const wrongGrant = await refreshJson('x', { grant_type: 'authorization_code' });
  assert.equal(wrongGrant.status, 400);
  assert.equal((await wrongGrant.json()).error, 'unsupported_grant_type');
  const missing = await fetch(sim.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"grant_type":"refresh_token"}',
  });
  assert.equal(missing.status, 400);
  assert.match((await missing.json()).error_description, /refresh_token/);
  const broken = await fetch(sim.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{',
  });
  assert.equal(broken.status, 400);
  const unknown = await refreshJson('rt_unknown');
  assert.equal(unknown.status, 401);
});

test('refresh delay: the token is spent even when the client leaves before the answer', async () => {
  const slow = await startSimulator({ accounts: [{ scenario: 'healthy' }], refreshDelayMs: 60_000 });
  try {
    const a = slow.accounts[0];
    const spent = a.refreshToken;
    const aborted = fetch(slow.authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: spent }),
      signal: AbortSignal.timeout(200),
    });
    await assert.rejects(aborted);
    assert.notEqual(a.refreshToken, spent, 'rotated on receipt');
    const retry = await fetch(slow.authUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: spent }),
    });
    assert.equal(retry.status, 401);
    assert.equal((await retry.json()).error.code, 'refresh_token_reused');
  } finally {
    await slow.close();
  }
});
