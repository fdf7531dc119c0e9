// Server inspection through the REAL CPA: api-call reaches the simulator's usage endpoint (loopback
// url) with the token CPA substitutes for $TOKEN$; the answer is classified by the upstream room.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, describe, test } from 'node:test';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../../test/support/cpa.ts';
import { waitFor } from '../../test/support/wait.ts';
import { startSimulator } from '../sim/index.ts';
import { CpaClient } from './client.ts';
import { probeViaCpa } from './probe.ts';
import { detailsFromAuthFileText, loadCpaAccounts } from './source.ts';

const sim = await startSimulator({
  accounts: [
    { id: 'acct-ok', email: 'ok@example.com', scenario: 'healthy', plan: 'plus' },
    { id: 'acct-full', email: 'full@example.com', scenario: 'exhausted' },
    { id: 'acct-429', email: 'limit@example.com', scenario: 'usage-limit-429' },
    { id: 'acct-gone', email: 'gone@example.com', scenario: 'deactivated-workspace' },
    { id: 'acct-cf', email: 'cf@example.com', scenario: 'cloudflare' },
    { id: 'acct-exp', email: 'exp@example.com', scenario: 'expired-token' },
    { id: 'acct-revoked', email: 'revoked@example.com', scenario: 'auth-revoked' },
    { id: 'acct-silent', email: 'silent@example.com', scenario: 'timeout' },
  ],
});
// A second upstream whose /wham/usage is retired: the probe must fall back to /codex/usage.
const retired = await startSimulator({
  accounts: [{ id: 'acct-old', email: 'old@example.com', scenario: 'healthy', plan: 'pro' }],
  retiredPaths: [{ path: '/wham', status: 404 }],
});
const started = await tryStartCpa();
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
after(async () => {
  await cpa?.stop();
  await Promise.all([sim.close(), retired.close()]);
});

const client = new CpaClient({ name: 'real', url: cpa?.url ?? 'http://127.0.0.1:1', managementKey: cpa?.key ?? 'x' });
const authIndexByEmail = new Map<string, string>();

describe('CPA account source and probeViaCpa against the real CPA and the simulator', { skip }, () => {
  test('the simulator accounts appear in CPA', async () => {
    assert.ok(cpa);
    const names = [
      ...(await sim.writeAuthFiles(cpa.authDir, 'cpa', { farExpiry: true })),
      ...(await retired.writeAuthFiles(cpa.authDir, 'cpa', { farExpiry: true })),
    ].map((p) => basename(p));
    await waitForAuthFiles(cpa, names);
    const list = await client.listAuthFiles();
    assert.ok(list.ok);
    for (const f of list.value) if (f.email && f.authIndex) authIndexByEmail.set(f.email, f.authIndex);
    assert.equal(authIndexByEmail.size, 9);
  });

  test('loadCpaAccounts: codex files become cpa accounts; details add account id and plan, never tokens', async () => {
    assert.ok((await client.setDisabled('codex-gone@example.com.json', true)).ok);
    const plain = await loadCpaAccounts(client);
    assert.ok(plain.ok);
    assert.equal(plain.value.length, 9);
    const gone = plain.value.find((a) => a.email === 'gone@example.com');
    assert.ok(gone);
    assert.equal(gone.id, 'cpa:real:codex-gone@example.com.json');
    assert.equal(gone.sourceKind, 'cpa');
    assert.equal(gone.format, 'cpa');
    assert.equal(gone.disabled, true);
    assert.equal(gone.cpa.status, 'disabled');
    assert.equal(gone.cpa.authIndex, authIndexByEmail.get('gone@example.com'));
    assert.equal(gone.accountId, null);

    const detailed = await loadCpaAccounts(client, { withDetails: true });
    assert.ok(detailed.ok);
    const ok = detailed.value.find((a) => a.email === 'ok@example.com');
    assert.equal(ok?.id, 'cpa:real:codex-ok@example.com.json', 'id does not depend on details');
    assert.equal(ok?.accountId, 'acct-ok');
    assert.equal(ok?.plan, 'plus');
    assert.equal(ok?.credentials.expiresAt, Date.parse('2099-01-01T00:00:00Z'));
    assert.equal(
      ok?.credentials.remoteRefreshToken,
      true,
      "CPA's file has a refresh token (its presence, never its value)",
    );
    const simOk = sim.accounts.find((a) => a.email === 'ok@example.com');
    const serialized = JSON.stringify(detailed.value);
    assert.ok(simOk && !serialized.includes(simOk.accessToken) && !serialized.includes(simOk.refreshToken));
    assert.ok((await client.setDisabled('codex-gone@example.com.json', false)).ok);
    assert.equal(detailsFromAuthFileText('not json'), null);
  });

  const cases = [
    { email: 'ok@example.com', state: 'ok', reason: 'quota_available', status: 200 },
    { email: 'full@example.com', state: 'exhausted', status: 200 },
    { email: 'limit@example.com', state: 'exhausted', reason: 'usage_limit_reached', status: 429 },
    { email: 'gone@example.com', state: 'workspace_deactivated', reason: 'deactivated_workspace', status: 402 },
    { email: 'cf@example.com', state: 'unknown', reason: 'cloudflare_challenge', status: 403 },
  ] as const;
  for (const c of cases) {
    test(`${c.email} → ${c.state}`, async () => {
      const account = sim.accounts.find((a) => a.email === c.email);
      const res = await probeViaCpa(
        client,
        { authIndex: authIndexByEmail.get(c.email) ?? '', accountId: account?.id ?? null },
        { chatgptUrl: sim.chatgptUrl, retries: 0 },
      );
      assert.equal(res.state, c.state, JSON.stringify(res));
      if ('reason' in c) assert.equal(res.reason, c.reason);
      assert.equal(res.httpStatus, c.status);
      assert.equal(res.source, 'cpa');
    });
  }

  test("a 401 through CPA goes through the one classifier: upstream's code kept, no refresh claimed", async () => {
    const probe = (email: string, tokenExpiresAt: number) =>
      probeViaCpa(
        client,
        { authIndex: authIndexByEmail.get(email) ?? '', accountId: null, tokenExpiresAt },
        { chatgptUrl: sim.chatgptUrl, retries: 0 },
      );
    const far = Date.parse('2099-01-01T00:00:00Z');
    // CPA believes its token is valid, upstream says token_expired: expired (as locally), code kept.
    const expired = await probe('exp@example.com', far);
    assert.equal(expired.state, 'auth_expired', JSON.stringify(expired));
    assert.equal(expired.errorCode, 'token_expired');
    assert.equal(expired.httpStatus, 401);
    assert.equal(expired.attempts, 1, 'no refresh attempt through CPA');
    assert.doesNotMatch(expired.message ?? '', /refresh/);
    const past = await probe('exp@example.com', Date.now() - 60_000);
    assert.equal(past.state, 'auth_expired');
    assert.equal(past.errorCode, 'token_expired');
    // A revoked, unexpired token: rejected, with upstream's code.
    const revoked = await probe('revoked@example.com', far);
    assert.equal(revoked.state, 'auth_invalid', JSON.stringify(revoked));
    assert.equal(revoked.errorCode, 'token_invalidated');
    assert.doesNotMatch(revoked.message ?? '', /after a fresh refresh/);
  });

  test('healthy account: windows parsed and the sim saw the real token (CPA replaced $TOKEN$)', async () => {
    const res = await probeViaCpa(
      client,
      { authIndex: authIndexByEmail.get('ok@example.com') ?? '', accountId: 'acct-ok' },
      { chatgptUrl: sim.chatgptUrl, retries: 0 },
    );
    assert.equal(res.state, 'ok');
    assert.equal(res.snapshot?.plan, 'plus');
    assert.ok((res.snapshot?.windows.length ?? 0) > 0);
  });

  test('an upstream that never answers: the probe gives up at its own deadline and the call to CPA is cut', async () => {
    const res = await probeViaCpa(
      client,
      { authIndex: authIndexByEmail.get('silent@example.com') ?? '', accountId: 'acct-silent' },
      { chatgptUrl: sim.chatgptUrl, retries: 0, timeoutMs: 300 },
    );
    assert.ok(res.transient, `a deadline is a transient failure: ${JSON.stringify(res)}`);
    // Cutting our call to CPA makes CPA cancel its upstream request, so the simulator sees it end long
    // before the 60 s CPA gives an upstream. Left open, it held a slot of the server and kept a CLI
    // process alive until then.
    await waitFor(() => sim.stats().inFlight === 0, {
      what: 'the simulator to see the request CPA made for the silent account end',
      timeoutMs: 20_000,
    });
  });

  test('a retired /wham/usage falls back to /codex/usage, as the direct client does', async () => {
    const pathMemory: Record<string, string> = {};
    const res = await probeViaCpa(
      client,
      { authIndex: authIndexByEmail.get('old@example.com') ?? '', accountId: 'acct-old' },
      { chatgptUrl: retired.chatgptUrl, retries: 0, pathMemory },
    );
    assert.equal(res.state, 'ok', JSON.stringify(res));
    assert.equal(res.usagePath, '/codex/usage');
    assert.equal(pathMemory[retired.chatgptUrl], '/codex/usage');
  });
});
