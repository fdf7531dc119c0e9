// The CPA emulation mounted on the simulator, driven by the real CpaClient: the v8 route names (which
// the real v7.2 build lacks), generation detection, the ban after 5 bad keys, and probes via api-call.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CpaClient } from '../cpa/client.ts';
import { probeViaCpa } from '../cpa/probe.ts';
import { CPA_ROUTES } from '../cpa/routes.ts';
import { loadCpaAccounts } from '../cpa/source.ts';
import { probeCpaAccounts } from '../cpa/sweep.ts';
import { cpaFile } from './auth-files.ts';
import { createCpaEmulationState, mountCpaEmulation } from './cpa.ts';
import { startSimulator } from './index.ts';

const KEY = 'emulated-mgmt-key-0123456789';

async function simWithCpa(generations: Array<'v0' | 'v8'>) {
  const state = createCpaEmulationState({ managementKey: KEY, generations });
  const sim = await startSimulator({
    accounts: [
      { id: 'acct-ok', email: 'ok@example.com', scenario: 'healthy', plan: 'plus' },
      { id: 'acct-full', email: 'full@example.com', scenario: 'exhausted' },
      { id: 'acct-gone', email: 'gone@example.com', scenario: 'deactivated-workspace' },
      { id: 'acct-revoked', email: 'revoked@example.com', scenario: 'auth-revoked' },
    ],
    extraRoutes: (app) => mountCpaEmulation(app, state),
  });
  const indexByEmail = new Map<string, string>();
  for (const a of sim.accounts) {
    indexByEmail.set(a.email, state.putAuthFile(`codex-${a.email}.json`, cpaFile(a, { farExpiry: true })));
  }
  return { sim, state, indexByEmail };
}

const v8 = await simWithCpa(['v8']);
const both = await simWithCpa(['v0', 'v8']);
const v0 = await simWithCpa(['v0']);
after(() => Promise.all([v8.sim.close(), both.sim.close(), v0.sim.close()]));

describe('CPA emulation: route generations', () => {
  test('a v8-only server is detected as v8 and every operation works on the v8 names', async () => {
    const client = new CpaClient({ name: 'v8', url: v8.sim.baseUrl, managementKey: KEY });
    assert.deepEqual(await client.detectGeneration(), { ok: true, value: 'v8' });

    const list = await client.listAuthFiles();
    assert.ok(list.ok);
    assert.equal(list.value.length, 4);
    const ok = list.value.find((f) => f.email === 'ok@example.com');
    assert.equal(ok?.authIndex, v8.indexByEmail.get('ok@example.com'));

    assert.deepEqual(await client.setDisabled('codex-ok@example.com.json', true), {
      ok: true,
      value: { disabled: true },
    });
    assert.equal(v8.state.authFile('codex-ok@example.com.json')?.disabled, true);
    const dl = await client.downloadAuthFile('codex-ok@example.com.json');
    assert.ok(dl.ok);
    assert.equal(JSON.parse(dl.value).disabled, true);
    assert.ok((await client.setDisabled('codex-ok@example.com.json', false)).ok);

    v8.state.pushUsage({ request_id: 'r1', model: 'gpt-5' }, { request_id: 'r2', model: 'gpt-5' });
    const first = await client.popUsageQueue(1);
    assert.deepEqual(first, { ok: true, value: [{ request_id: 'r1', model: 'gpt-5' }] });
    const rest = await client.popUsageQueue(10);
    assert.deepEqual(rest, { ok: true, value: [{ request_id: 'r2', model: 'gpt-5' }] });
    assert.equal(v8.state.usageQueueLength(), 0);

    // v0 names do not exist on this server.
    const v0Path = await fetch(`${v8.sim.baseUrl}${CPA_ROUTES.v0.authFiles}`, {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    assert.equal(v0Path.status, 404);
  });

  test('a server with both generations is used through v8; a v0-only one through v0', async () => {
    const c1 = new CpaClient({ name: 'both', url: both.sim.baseUrl, managementKey: KEY });
    assert.deepEqual(await c1.detectGeneration(), { ok: true, value: 'v8' });
    const c2 = new CpaClient({ name: 'old', url: `${v0.sim.baseUrl}/v0/management/`, managementKey: KEY });
    assert.deepEqual(await c2.detectGeneration(), { ok: true, value: 'v0' });
    assert.ok((await c2.listAuthFiles()).ok);
  });

  test('no management API at the URL is a clear error value', async () => {
    const state = createCpaEmulationState({ managementKey: KEY, generations: [] });
    const sim = await startSimulator({ accounts: [], extraRoutes: (app) => mountCpaEmulation(app, state) });
    try {
      const client = new CpaClient({ name: 'none', url: sim.baseUrl, managementKey: KEY });
      const res = await client.listAuthFiles();
      assert.ok(!res.ok);
      assert.equal(res.error.kind, 'no_management_api');
      assert.match(res.error.message, /secret-key/);
    } finally {
      await sim.close();
    }
  });

  test('v8 delete: partial (207) and api-call with arrays of header values', async () => {
    const client = new CpaClient({ name: 'v8', url: v8.sim.baseUrl, managementKey: KEY });
    v8.state.putAuthFile('extra.json', { type: 'codex', email: 'x@example.com', access_token: 'tok' });
    const del = await client.deleteAuthFiles(['extra.json', 'missing.json']);
    assert.deepEqual(del, {
      ok: true,
      value: {
        deleted: ['extra.json'],
        failed: [{ name: 'missing.json', error: 'auth file not found' }],
        partial: true,
      },
    });
    const account = v8.sim.accounts.find((a) => a.email === 'ok@example.com');
    const call = await client.apiCall({
      authIndex: v8.indexByEmail.get('ok@example.com') ?? '',
      method: 'GET',
      url: `${v8.sim.chatgptUrl}/wham/usage`,
      header: { Authorization: 'Bearer $TOKEN$', 'ChatGPT-Account-Id': account?.id ?? '' },
    });
    assert.ok(call.ok);
    assert.equal(call.value.statusCode, 200);
    assert.ok(Array.isArray(call.value.header['Content-Type']));
    assert.equal(JSON.parse(call.value.body).plan_type, 'plus');
  });
});

describe('CPA emulation: ban behaviour', () => {
  test('5 bad keys ban the IP: even the right key then gets 403, and the client opens its breaker', async () => {
    const { sim, state } = await simWithCpa(['v0']);
    try {
      const url = `${sim.baseUrl}${CPA_ROUTES.v0.authFiles}`;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(url, { headers: { Authorization: `Bearer wrong-${i}` } });
        assert.equal(res.status, 401);
      }
      assert.equal(state.isBanned('127.0.0.1'), true);
      const right = await fetch(url, { headers: { 'X-Management-Key': KEY } });
      assert.equal(right.status, 403);
      const client = new CpaClient({ name: 'banned', url: sim.baseUrl, managementKey: KEY });
      const res = await client.listAuthFiles();
      assert.ok(!res.ok);
      assert.equal(res.error.kind, 'forbidden');
      assert.equal(client.breaker().open, true);
      const before = state.stats.requests;
      const again = await client.listAuthFiles();
      assert.ok(!again.ok);
      assert.equal(again.error.kind, 'breaker_open');
      assert.equal(state.stats.requests, before, 'no request after the breaker opened');
    } finally {
      await sim.close();
    }
  });

  test('the client sends a bad key once, so it alone can never trigger the ban', async () => {
    const { sim, state } = await simWithCpa(['v0', 'v8']);
    try {
      const client = new CpaClient({ name: 'bad', url: sim.baseUrl, managementKey: 'not-the-key-000000' });
      for (let i = 0; i < 10; i++) await client.listAuthFiles();
      await Promise.all([client.popUsageQueue(5), client.setDisabled('a.json', true)]);
      // Another client object in this process, same server and key: it inherits the breaker.
      const other = new CpaClient({ name: 'bad-too', url: sim.baseUrl, managementKey: 'not-the-key-000000' });
      const res = await other.listAuthFiles();
      assert.ok(!res.ok);
      assert.equal(res.error.kind, 'breaker_open');
      assert.equal(state.stats.failedAuth, 1);
      assert.equal(state.isBanned('127.0.0.1'), false);
    } finally {
      await sim.close();
    }
  });
});

describe('CPA emulation: key revoked mid-sweep', () => {
  test('at most 4 requests are in flight, so the bad answers can never reach the 5 that ban', async () => {
    const { sim, state } = await simWithCpa(['v0']);
    try {
      const client = new CpaClient({ name: 'sweep', url: sim.baseUrl, managementKey: KEY });
      assert.ok((await client.listAuthFiles()).ok);
      state.managementKey = 'rotated-by-the-operator';
      const results = await Promise.all(Array.from({ length: 20 }, () => client.popUsageQueue(1)));
      assert.ok(results.every((r) => !r.ok));
      assert.ok(state.stats.failedAuth >= 1 && state.stats.failedAuth <= 4, `failed auths: ${state.stats.failedAuth}`);
      assert.equal(state.isBanned('127.0.0.1'), false);
      assert.equal(client.breaker().open, true);
    } finally {
      await sim.close();
    }
  });
});

describe('probeViaCpa through the emulation', () => {
  test('classifies each account from the usage answer CPA fetched, with source cpa', async () => {
    const client = new CpaClient({ name: 'v8', url: v8.sim.baseUrl, managementKey: KEY });
    const probe = (email: string) => {
      const account = v8.sim.accounts.find((a) => a.email === email);
      return probeViaCpa(
        client,
        { authIndex: v8.indexByEmail.get(email) ?? '', accountId: account?.id ?? null },
        { chatgptUrl: v8.sim.chatgptUrl, retries: 0 },
      );
    };
    const ok = await probe('ok@example.com');
    assert.equal(ok.state, 'ok', JSON.stringify(ok));
    assert.equal(ok.source, 'cpa');
    assert.equal(ok.snapshot?.plan, 'plus');
    assert.equal(ok.usagePath, '/wham/usage');
    const full = await probe('full@example.com');
    assert.equal(full.state, 'exhausted');
    const gone = await probe('gone@example.com');
    assert.equal(gone.state, 'workspace_deactivated');
    assert.equal(gone.httpStatus, 402);
  });

  test('a 401: auth_invalid when CPA says its token is unexpired, auth_expired when expiry is unknown', async () => {
    const client = new CpaClient({ name: 'v8', url: v8.sim.baseUrl, managementKey: KEY });
    // A 401 that names no reason (invalid_token): CPA's expiry decides between a refresh and Reauth.
    const stranger = { authIndex: '0000000000000000', accountId: null };
    const opts = { chatgptUrl: v8.sim.chatgptUrl, retries: 0 };
    const known = await probeViaCpa(client, { ...stranger, tokenExpiresAt: Date.now() + 3_600_000 }, opts);
    assert.equal(known.httpStatus, 401);
    assert.equal(known.state, 'auth_invalid', JSON.stringify(known));
    assert.equal((await probeViaCpa(client, stranger, opts)).state, 'auth_expired');
    // token_invalidated names the token as revoked (UPSTREAM.md §2): auth_invalid whatever the expiry.
    const authIndex = v8.indexByEmail.get('revoked@example.com') ?? '';
    for (const tokenExpiresAt of [Date.now() + 3_600_000, undefined]) {
      const revoked = await probeViaCpa(client, { authIndex, accountId: 'acct-revoked', tokenExpiresAt }, opts);
      assert.equal(revoked.state, 'auth_invalid', JSON.stringify(revoked));
      assert.equal(revoked.errorCode, 'token_invalidated');
    }
  });

  test('an unknown auth_index sends the literal $TOKEN$ upstream, which the usage API rejects', async () => {
    const client = new CpaClient({ name: 'v8', url: v8.sim.baseUrl, managementKey: KEY });
    const res = await probeViaCpa(
      client,
      { authIndex: '0000000000000000', accountId: null },
      { chatgptUrl: v8.sim.chatgptUrl, retries: 0 },
    );
    assert.equal(res.httpStatus, 401);
    assert.notEqual(res.state, 'ok');
  });

  test('a breaker-open client gives an unknown, transient result at once', async () => {
    const client = new CpaClient({ name: 'bad', url: v8.sim.baseUrl, managementKey: 'wrong-key-for-breaker' });
    const res = await probeViaCpa(
      client,
      { authIndex: v8.indexByEmail.get('ok@example.com') ?? '', accountId: null },
      { chatgptUrl: v8.sim.chatgptUrl, retries: 3, retryDelayMs: 60_000 },
    );
    assert.equal(res.state, 'unknown');
    assert.equal(res.transient, true);
    assert.equal(res.errorCode, 'cpa_unauthorized');
    assert.ok(!res.message?.includes('wrong-key-for-breaker'));
    assert.equal(client.breaker().open, true);
  });
});

describe('probeCpaAccounts (sweep) through the emulation', () => {
  test('every account in input order with progress; details give account id and expiry', async () => {
    const client = new CpaClient({ name: 'both', url: both.sim.baseUrl, managementKey: KEY });
    const accounts = await loadCpaAccounts(client, { withDetails: true });
    assert.ok(accounts.ok);
    const noIndex = { ...accounts.value[0], name: 'broken', cpa: { ...accounts.value[0].cpa, authIndex: null } };
    const list = [...accounts.value, noIndex];
    const progress: number[] = [];
    const results = await probeCpaAccounts(
      client,
      list,
      { chatgptUrl: both.sim.chatgptUrl, retries: 0, concurrency: 3 },
      (p) => progress.push(p.done),
    );
    assert.deepEqual(
      results.map((r) => r.state),
      [
        ...accounts.value.map((a) =>
          a.email === 'ok@example.com'
            ? 'ok'
            : a.email === 'full@example.com'
              ? 'exhausted'
              : a.email === 'gone@example.com'
                ? 'workspace_deactivated'
                : 'auth_invalid',
        ),
        'unknown',
      ],
    );
    assert.equal(results.at(-1)?.errorCode, 'cpa_no_auth_index');
    assert.deepEqual(progress, [1, 2, 3, 4, 5]);
    assert.ok(results.every((r) => r.source === 'cpa'));
  });
});
