import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { CODEX_CLIENT_ID, classifyRefreshFailure, refreshTokens } from './oauth.ts';

describe('classifyRefreshFailure (§2/§3 table)', () => {
  const cases: Array<[number, string, boolean, string]> = [
    [
      401,
      '{"error":{"message":"Your session has ended.","code":"refresh_token_invalidated"}}',
      true,
      'refresh_token_invalidated',
    ],
    [401, '{"error":{"message":"x","code":"refresh_token_expired"}}', true, 'refresh_token_expired'],
    [401, '{"error":{"message":"x","code":"refresh_token_reused"}}', true, 'refresh_token_reused'],
    [400, '{"error":"invalid_grant","error_description":"Invalid refresh token."}', true, 'invalid_grant'],
    [401, 'not json', true, 'unauthorized'],
    [500, '', false, 'http_500'],
    [502, '<html>bad gateway</html>', false, 'http_502'],
    [503, '{"error":{"code":"server_is_overloaded","message":"busy"}}', false, 'server_is_overloaded'],
    [429, '', false, 'http_429'],
    [408, '', false, 'http_408'],
    [403, '<html><title>Just a moment...</title>', false, 'http_403'],
  ];
  for (const [status, body, permanent, code] of cases) {
    it(`${status} ${body.slice(0, 40)} → ${permanent ? 'permanent' : 'transient'} ${code}`, () => {
      const r = classifyRefreshFailure(status, body);
      assert.equal(r.permanent, permanent);
      assert.equal(r.code, code);
      assert.equal(r.httpStatus, status);
      assert.ok(r.message.length > 0);
    });
  }

  it('never passes a token from the body into the message', () => {
    const r = classifyRefreshFailure(
      401,
      '{"error":{"message":"bad token eyJaaa.bbb.ccc for rt_secretsecret","code":"x"}}',
    );
    assert.doesNotMatch(r.message, /eyJaaa|secretsecret/);
  });
});

describe('refreshTokens against the simulator', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { id: 'acc-ok', scenario: 'expired-token' },
        { id: 'acc-dead', scenario: 'refresh-invalidated' },
        { id: 'acc-grant', scenario: 'refresh-invalid-grant' },
      ],
    });
  });
  after(() => sim.close());
  const account = (id: string) => sim.accounts.find((a) => a.id === id)!;

  it('sends the Codex CLI request and gets a rotated pair', async () => {
    const seen: { headers: Headers; body: Record<string, unknown> }[] = [];
    const spy = async (url: string, init?: RequestInit) => {
      seen.push({ headers: new Headers(init?.headers), body: JSON.parse(String(init?.body)) });
      return fetch(url, init);
    };
    const old = account('acc-ok').refreshToken;
    const r = await refreshTokens({ authUrl: sim.authUrl, refreshToken: old, timeoutMs: 5000, fetch: spy });
    assert.ok(r.ok);
    assert.equal(r.tokens.refreshToken, account('acc-ok').refreshToken);
    assert.notEqual(r.tokens.refreshToken, old);
    assert.ok(r.tokens.idToken && r.tokens.expiresIn);
    assert.equal(seen[0].headers.get('originator'), 'codex_cli_rs');
    assert.equal(seen[0].headers.get('content-type'), 'application/json');
    assert.deepEqual(seen[0].body, {
      client_id: CODEX_CLIENT_ID,
      grant_type: 'refresh_token',
      refresh_reason: 'proactive_expiry',
      refresh_token: old,
    });
    // Single use: the old token is now refused as reused, and that is permanent.
    const again = await refreshTokens({ authUrl: sim.authUrl, refreshToken: old, timeoutMs: 5000 });
    assert.deepEqual(
      [again.ok, !again.ok && again.permanent, !again.ok && again.code],
      [false, true, 'refresh_token_reused'],
    );
  });

  it('classifies dead refresh tokens as permanent with the upstream code', async () => {
    const a = await refreshTokens({
      authUrl: sim.authUrl,
      refreshToken: account('acc-dead').refreshToken,
      timeoutMs: 5000,
    });
    assert.ok(!a.ok && a.permanent && a.code === 'refresh_token_invalidated' && a.httpStatus === 401);
    const b = await refreshTokens({
      authUrl: sim.authUrl,
      refreshToken: account('acc-grant').refreshToken,
      timeoutMs: 5000,
    });
    assert.ok(!b.ok && b.permanent && b.code === 'invalid_grant');
  });

  it('network error and timeout are transient', async () => {
    const closed = await startSimulator({ accounts: [] });
    const url = closed.authUrl;
    await closed.close();
    const n = await refreshTokens({ authUrl: url, refreshToken: 'rt_x', timeoutMs: 2000 });
    assert.ok(!n.ok && !n.permanent && n.code === 'network_error' && n.httpStatus === null);

    const slow = await startSimulator({ accounts: [{ id: 'acc-slow' }], refreshDelayMs: 5000 });
    try {
      const t = await refreshTokens({
        authUrl: slow.authUrl,
        refreshToken: slow.accounts[0].refreshToken,
        timeoutMs: 200,
      });
      assert.ok(!t.ok && !t.permanent && t.code === 'timeout');
    } finally {
      await slow.close();
    }
  });
});
