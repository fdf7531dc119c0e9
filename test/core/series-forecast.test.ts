// The pool chart's forecast is kept in the core (computed once per change, after each sweep) and the
// forecast's history is kept in memory and read incrementally: through the real server over the
// simulator, the answer must stay what a cold read of the store gives, and follow every change to the
// accounts (a sweep's new snapshots, a disabled account) at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetService } from '../../src/core/fleet-service.ts';
import { buildForecast, type PoolForecast } from '../../src/inspect/forecast.ts';
import { deriveStatus } from '../../src/inspect/status.ts';
import { probeFromSnapshot } from '../../src/store/snapshots-repo.ts';
import { type DemoServer, startDemoServer } from '../support/demo-server.ts';
import { ApiClient } from '../support/fleet-server.ts';

const HISTORY_MS = 8 * 24 * 3600_000;

describe('pool and account series forecasts (real server, simulator)', () => {
  let s: DemoServer;
  let api: ApiClient;
  let core: FleetService;

  before(async () => {
    s = await startDemoServer(12);
    api = await new ApiClient(s.url).start();
    core = s.service as unknown as FleetService;
  });
  after(async () => {
    await s?.close();
  });

  /** The forecast from a cold read of every account's stored history (no memo anywhere). */
  async function coldForecast() {
    const fleet = core.fleet;
    const now = fleet.clock();
    const evidence = await fleet.evidence();
    const histories = [];
    for (const ev of evidence) {
      const status = deriveStatus(ev, now);
      const rows = await fleet.repos.snapshots.history(ev.account.id, now - HISTORY_MS);
      histories.push({
        accountId: ev.account.id,
        name: ev.account.name,
        usable: status.status !== 'disabled' && status.status !== 'error',
        windowless: status.windowless,
        snapshots: rows
          .filter((r) => !r.transient)
          .map((r) => probeFromSnapshot(r).snapshot)
          .filter((x) => x != null),
      });
    }
    return buildForecast(histories, { now });
  }

  const counts = (p: PoolForecast) => ({
    accounts: p.accounts,
    withoutData: p.withoutData,
    windowless: p.windowless,
    usableNow: p.usableNow,
    exhaustedNow: p.exhaustedNow,
    alarm: p.alarm,
  });

  async function poolSeries() {
    const res = await api.json<{ forecast: PoolForecast | null }>('GET', '/api/series/pool?range=24h');
    assert.equal(res.status, 200);
    assert.ok(res.body.forecast, 'the pool series carries a forecast');
    return res.body.forecast;
  }

  it('after every round of refreshes, the kept history and the pool chart agree with a cold read', async () => {
    const refreshed = await api.json('POST', '/api/refresh?wait=true');
    assert.equal(refreshed.status, 200);
    assert.ok((await poolSeries()).accounts > 0, 'the first sweep gives the pool forecast accounts');
    const ids = (await core.listAccounts()).map((a) => a.id);
    for (let sweep = 1; sweep <= 3; sweep++) {
      // A sweep within the cache's life probes nothing; a forced refresh of every account stores new snapshots.
      for (const id of ids) {
        const res = await api.json('POST', `/api/accounts/${encodeURIComponent(id)}/refresh`);
        assert.equal(res.status, 200, `refresh ${id}`);
      }
      const kept = await core.fleet.forecast();
      const cold = await coldForecast();
      assert.equal(kept.accounts.length, cold.accounts.length);
      for (const [i, a] of kept.accounts.entries()) {
        const b = cold.accounts[i];
        assert.equal(a.accountId, b.accountId);
        assert.deepEqual(
          a.windows.map((w) => [w.kind, w.samples, w.usedPercent, w.burnRatePerHour]),
          b.windows.map((w) => [w.kind, w.samples, w.usedPercent, w.burnRatePerHour]),
          `sweep ${sweep}: ${a.name}'s windows from the kept history`,
        );
      }
      assert.deepEqual(counts(await poolSeries()), counts(cold.pool), `sweep ${sweep}: the pool chart's forecast`);
    }
    const samples = (await core.fleet.forecast()).accounts.flatMap((a) => a.windows.map((w) => w.samples));
    assert.ok(
      samples.some((n) => n >= 2),
      'some window has samples from more than one refresh (the appended rows were used)',
    );
  });

  it('a disabled account leaves the pool forecast at once (the core drops its copy on the change)', async () => {
    const before = await poolSeries();
    const usable = (await core.listAccounts()).find((a) => a.status !== 'disabled' && a.status !== 'error');
    assert.ok(usable, 'the demo has a usable account');
    const res = await api.json('POST', `/api/accounts/${encodeURIComponent(usable.id)}/disable`);
    assert.equal(res.status, 200);
    const afterDisable = await poolSeries();
    assert.deepEqual(counts(afterDisable), counts((await coldForecast()).pool));
    assert.equal(afterDisable.accounts, before.accounts - 1, 'one account fewer in the pool');
    await api.json('POST', `/api/accounts/${encodeURIComponent(usable.id)}/enable`);
    assert.equal((await poolSeries()).accounts, before.accounts, 'back in the pool once enabled');
  });

  it('an account series answers with its forecast, and an unknown account is a 404', async () => {
    const [first] = await core.listAccounts();
    const res = await api.json<{ accountId: string; t: number[]; projections: unknown[] }>(
      'GET',
      `/api/series/accounts/${encodeURIComponent(first.id)}`,
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.accountId, first.id);
    assert.ok(res.body.t.length > 0, 'the account has points from its snapshots');
    assert.ok(Array.isArray(res.body.projections));
    const missing = await api.json<{ error: string }>('GET', '/api/series/accounts/no-such-account');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no account no-such-account/);
  });
});
