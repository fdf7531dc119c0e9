// Simulator behaviour over time and load: clock and windows, burn rate, setScenario, retired paths,
// Cloudflare by concurrency, cancellation on close, demo mix, options validation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { demoAccounts, type Simulator, type SimulatorOptions, startSimulator } from './index.ts';
import type { Json } from './test-json.ts';

const T0 = Date.UTC(2026, 0, 1);

async function withSim(opts: SimulatorOptions, run: (sim: Simulator) => Promise<void>) {
  const sim = await startSimulator({ clock: () => T0, ...opts });
  try {
    await run(sim);
  } finally {
    await sim.close();
  }
}

async function get(sim: Simulator, token: string, path = '/wham/usage', signal?: AbortSignal) {
  const res = await fetch(`${sim.chatgptUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, signal });
  const text = await res.text();
  let json: Json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls until `check` holds; the bound only keeps a broken build from hanging the suite. */
async function until(check: () => boolean) {
  await waitFor(() => ({ ok: check(), seen: false }), { what: `${check}`.replace(/^\(\) => /, '') });
}

test('advance(): windows reset at their reset time and used % grows with the burn rate', async () => {
  await withSim({ accounts: [{ scenario: 'healthy', burnRatePerHour: 10 }] }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    let w = (await get(sim, t)).json.rate_limit;
    assert.equal(w.primary_window.used_percent, 12);
    sim.advance(3600);
    w = (await get(sim, t)).json.rate_limit;
    assert.equal(w.primary_window.used_percent, 22);
    assert.equal(w.primary_window.reset_after_seconds, 3600);
    // Weekly burns at 10 %/h × 5 five-hour windows per week: 40 + 1.49 → 41.
    assert.equal(w.secondary_window.used_percent, 41);
    sim.advance(3600);
    w = (await get(sim, t)).json.rate_limit;
    assert.equal(w.primary_window.used_percent, 0, 'the 5h window reset');
    assert.equal(w.primary_window.reset_after_seconds, 18000);
    assert.equal(w.primary_window.reset_at, T0 / 1000 + 7200 + 18000);
    sim.advance(3 * 3600);
    w = (await get(sim, t)).json.rate_limit;
    assert.equal(w.primary_window.used_percent, 30);
  });
});

test('a healthy account with a high burn rate runs out, then recovers at the reset', async () => {
  await withSim({ accounts: [{ scenario: 'healthy', burnRatePerHour: 50 }] }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    sim.advance(2 * 3600 - 1);
    const full = (await get(sim, t)).json;
    assert.equal(full.rate_limit.primary_window.used_percent, 100);
    assert.equal(full.rate_limit.limit_reached, true);
    sim.advance(1);
    assert.equal((await get(sim, t)).json.rate_limit.limit_reached, false);
  });
});

test('exhausted accounts recover after their reset', async () => {
  await withSim(
    {
      accounts: [{ scenario: 'exhausted' }, { scenario: 'usage-limit-429' }, { scenario: 'usage-limit-429-no-reset' }],
    },
    async (sim) => {
      const [ex, l429, noReset] = sim.accounts.map((a) => a.accessToken);
      assert.equal((await get(sim, ex)).json.rate_limit.limit_reached, true);
      assert.equal((await get(sim, l429)).status, 429);
      assert.equal((await get(sim, noReset)).status, 429);
      sim.advance(7200);
      assert.equal((await get(sim, l429)).status, 200);
      assert.equal((await get(sim, ex)).json.rate_limit.limit_reached, true, 'weekly still full');
      sim.advance(3 * 86400);
      const after = (await get(sim, ex)).json.rate_limit;
      assert.equal(after.limit_reached, false);
      assert.equal(after.allowed, true);
      assert.equal((await get(sim, noReset)).status, 200);
    },
  );
});

test('access tokens expire with sim time; a refresh brings them back', async () => {
  await withSim({ accounts: [{ scenario: 'healthy' }] }, async (sim) => {
    const a = sim.accounts[0];
    sim.advance(864000);
    assert.equal((await get(sim, a.accessToken)).json.error.code, 'token_expired');
    const res = await fetch(sim.authUrl, {
      method: 'POST',
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: a.refreshToken }),
    });
    assert.equal(res.status, 200);
    assert.equal((await get(sim, a.accessToken)).status, 200);
  });
});

test('setScenario switches behaviour live', async () => {
  await withSim({ accounts: [{ scenario: 'healthy' }] }, async (sim) => {
    const a = sim.accounts[0];
    sim.setScenario(a.id, 'cloudflare');
    assert.equal((await get(sim, a.accessToken)).headers.get('cf-mitigated'), 'challenge');
    sim.setScenario(a.id, 'deactivated-workspace');
    assert.equal((await get(sim, a.accessToken)).status, 402);
    sim.setScenario(a.id, 'exhausted');
    assert.equal((await get(sim, a.accessToken)).json.rate_limit.limit_reached, true);
    sim.setScenario(a.id, 'expired-token');
    assert.equal((await get(sim, a.accessToken)).status, 401);
    sim.setScenario(a.id, 'healthy');
    assert.throws(() => sim.setScenario('nope', 'healthy'), /no simulated account/);
    assert.throws(() => sim.setScenario(a.id, 'bogus' as never), /unknown scenario/);
  });
});

test('retired paths: 404 on /wham, 403 on /codex, the other path still works', async () => {
  await withSim({ accounts: [{}], retiredPaths: [{ path: '/wham', status: 404 }] }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    assert.equal((await get(sim, t, '/wham/usage')).status, 404);
    assert.equal((await get(sim, t, '/codex/usage')).status, 200);
  });
  await withSim({ accounts: [{}], retiredPaths: [{ path: '/codex', status: 403 }] }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    const r = await get(sim, t, '/codex/usage');
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('cf-mitigated'), null, 'a retired path is not a Cloudflare challenge');
    assert.equal((await get(sim, t, '/wham/usage')).status, 200);
    const s = sim.stats();
    assert.equal(s.requests['/backend-api/codex/usage']['403'], 1);
    assert.equal(s.requests['/backend-api/wham/usage']['200'], 1);
  });
});

test('Cloudflare by concurrency: above the per-IP limit every call gets the HTML challenge', async () => {
  await withSim(
    { accounts: [{ scenario: 'timeout' }, { scenario: 'healthy' }], cloudflareMaxInFlight: 2 },
    async (sim) => {
      const [hang, ok] = sim.accounts.map((a) => a.accessToken);
      const cancel = new AbortController();
      const hanging = [get(sim, hang, '/wham/usage', cancel.signal), get(sim, hang, '/wham/usage', cancel.signal)];
      for (const h of hanging) h.catch(() => {});
      await until(() => sim.stats().inFlight === 2);
      const third = await get(sim, ok);
      assert.equal(third.status, 403);
      assert.equal(third.headers.get('cf-mitigated'), 'challenge');
      assert.match(third.text, /Just a moment/);
      cancel.abort();
      await until(() => sim.stats().inFlight === 0);
      assert.equal((await get(sim, ok)).status, 200, 'back under the limit');
      const s = sim.stats();
      assert.equal(s.peakInFlightPerIp, 3);
      assert.equal(s.cloudflareChallenges, 1);
      assert.equal(s.requests['/backend-api/wham/usage'].cancelled, 2);
    },
  );
});

test('close() ends hanging requests instead of waiting for them', async () => {
  const sim = await startSimulator({ accounts: [{ scenario: 'timeout' }] });
  const pending = get(sim, sim.accounts[0].accessToken).then(
    (r) => r.status,
    () => 'failed',
  );
  await until(() => sim.stats().inFlight === 1);
  await sim.close();
  assert.ok(['failed', 504].includes((await pending) as never));
  await sim.close(); // idempotent
});

test('per-account latency override and a seeded distribution still answer correctly', async () => {
  await withSim(
    {
      accounts: [{ scenario: 'healthy', latency: { kind: 'uniform', minMs: 1, maxMs: 5 } }, { scenario: 'pro' }],
      latency: { kind: 'lognormal', medianMs: 2, sigma: 0.3 },
    },
    async (sim) => {
      const results = await Promise.all(sim.accounts.map((a) => get(sim, a.accessToken)));
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200],
      );
    },
  );
});

test('demoAccounts: a realistic, stable mix that starts cleanly', async () => {
  const specs = demoAccounts(30);
  assert.equal(specs.length, 30);
  assert.deepEqual(demoAccounts(30), specs, 'same seed, same fleet');
  const count = (s: string) => specs.filter((x) => x.scenario === s).length;
  assert.equal(count('cloudflare'), 1);
  assert.ok(count('healthy') + count('pro') + count('team-monthly') + count('weekly-only-free') >= 15);
  assert.ok(count('exhausted') >= 1);
  assert.equal(new Set(specs.map((s) => s.email)).size, 30);
  assert.ok(new Set(specs.map((s) => s.burnRatePerHour)).size > 10);
  await withSim({ count: 30 }, async (sim) => {
    assert.equal(sim.accounts.length, 30);
    assert.equal(new Set(sim.accounts.map((a) => a.id)).size, 30);
    assert.ok(new Set(sim.accounts.map((a) => a.plan)).size >= 4);
  });
  assert.throws(() => demoAccounts(-1), /whole number/);
});

test('bad options are refused with a message naming the field', async () => {
  await assert.rejects(startSimulator({ accounts: [{ scenario: 'nope' as never }] }), /accounts\[0\]\.scenario/);
  await assert.rejects(startSimulator({ latency: { kind: 'uniform', minMs: 5, maxMs: 1 } }), /latency/);
  await assert.rejects(startSimulator({ cloudflareMaxInFlight: 0 }), /cloudflareMaxInFlight/);
});

test('stats never hold tokens', async () => {
  await withSim({ accounts: [{}] }, async (sim) => {
    await get(sim, sim.accounts[0].accessToken);
    const text = JSON.stringify(sim.stats());
    assert.equal(text.includes(sim.accounts[0].accessToken), false);
    assert.equal(text.includes('eyJ'), false);
  });
});

test('stats note the identifying headers clients send (never the token)', async () => {
  await withSim({ accounts: [{}, {}] }, async (sim) => {
    const [a, b] = sim.accounts;
    const call = (token: string, headers: Record<string, string>) =>
      fetch(`${sim.chatgptUrl}/wham/usage`, { headers: { authorization: `Bearer ${token}`, ...headers } }).then((r) =>
        r.body?.cancel(),
      );
    await call(a.accessToken, {
      originator: 'codex_cli_rs',
      'chatgpt-account-id': a.id,
      'user-agent': 'codex_cli_rs/0.1',
    });
    await call(b.accessToken, { 'chatgpt-account-id': a.id, 'user-agent': 'other' });
    await call(b.accessToken, { 'user-agent': 'other' });
    const h = sim.stats().headers;
    assert.equal(h.withOriginator, 1);
    assert.equal(h.accountIdMatch, 1);
    assert.equal(h.accountIdMismatch, 1);
    assert.equal(h.accountIdMissing, 1);
    assert.deepEqual(h.userAgents, { 'codex_cli_rs/0.1': 1, other: 2 });
  });
});

test('cloudflareWithoutOriginatorRate: calls without originator get challenged, calls with it do not', async () => {
  await withSim({ accounts: [{}], cloudflareWithoutOriginatorRate: 1 }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    const bare = await get(sim, t);
    assert.equal(bare.headers.get('cf-mitigated'), 'challenge');
    const res = await fetch(`${sim.chatgptUrl}/wham/usage`, {
      headers: { authorization: `Bearer ${t}`, originator: 'codex_cli_rs' },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
  await assert.rejects(startSimulator({ cloudflareWithoutOriginatorRate: 2 }), /cloudflareWithoutOriginatorRate/);
});

test('setScenario ignores usage numbers the spec set for another scenario', async () => {
  await withSim({ accounts: [{ primaryUsedPercent: 50 }] }, async (sim) => {
    const a = sim.accounts[0];
    assert.equal((await get(sim, a.accessToken)).json.rate_limit.primary_window.used_percent, 50);
    sim.setScenario(a.id, 'five-hour-full');
    assert.equal((await get(sim, a.accessToken)).json.rate_limit.primary_window.used_percent, 100);
  });
});

test('unknown routes answer JSON 404', async () => {
  await withSim({ accounts: [] }, async (sim) => {
    const res = await fetch(`${sim.chatgptUrl}/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { detail: 'Not Found' });
  });
});

test('retired paths and latency can change while running; resetStats zeroes the counters', async () => {
  await withSim({ accounts: [{}] }, async (sim) => {
    const t = sim.accounts[0].accessToken;
    assert.equal((await get(sim, t, '/wham/usage')).status, 200);
    sim.setRetiredPaths([{ path: '/wham', status: 403 }]);
    assert.equal((await get(sim, t, '/wham/usage')).status, 403);
    sim.setRetiredPaths([]);
    assert.equal((await get(sim, t, '/wham/usage')).status, 200);
    assert.throws(() => sim.setRetiredPaths([{ path: '/x' as never, status: 404 }]), /not \{path/);
    sim.setLatency({ kind: 'uniform', minMs: 1, maxMs: 2 });
    assert.equal((await get(sim, t)).status, 200);
    assert.throws(() => sim.setLatency({ kind: 'normal' } as never), /not a latency spec/);
    assert.equal(sim.stats().totalRequests, 4);
    sim.resetStats();
    const s = sim.stats();
    assert.equal(s.totalRequests, 0);
    assert.deepEqual(s.requests, {});
    assert.equal(s.headers.accountIdMissing, 0);
  });
  await assert.rejects(startSimulator({ retiredPaths: [{ path: '/wham', status: 500 as never }] }), /retiredPaths/);
});

test('two refreshes racing with one token: exactly one wins, the other is told it was reused', async () => {
  await withSim({ accounts: [{}] }, async (sim) => {
    const token = sim.accounts[0].refreshToken;
    const refresh = () =>
      fetch(sim.authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: token }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const results = await Promise.all([refresh(), refresh()]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
    assert.equal(results.find((r) => r.status === 401)!.body.error.code, 'refresh_token_reused');
    assert.equal(sim.stats().reusedRefreshTokens, 1);
  });
});
