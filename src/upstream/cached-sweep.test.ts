import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { FileQuotaCache } from './cache.ts';
import { sweepWithCache } from './cached-sweep.ts';

describe('sweepWithCache against the simulator', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startSimulator({
      accounts: [{ scenario: 'healthy' }, { scenario: 'exhausted' }, { scenario: 'server-error' }],
      latency: 0,
    });
    dir = await mkdtemp(join(tmpdir(), 'codex-fleet-sweep-'));
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('network first, then cache within the TTL; exhausted stays cached until its reset; --refresh bypasses', async () => {
    const path = join(dir, 'cache.json');
    let now = sim.now();
    const targets = sim.accounts.map((a) => ({ key: a.id, name: a.name, accessToken: a.accessToken, accountId: a.id }));
    const options = { chatgptUrl: sim.chatgptUrl, retries: 0, startJitterMs: 0, clock: () => now, ttlMs: 60_000 };

    const first = await sweepWithCache(targets, await FileQuotaCache.open(path), options);
    assert.equal(first.saveError, null);
    assert.deepEqual(
      first.entries.map((e) => [e.outcome.state, e.outcome.source]),
      [
        ['ok', 'network'],
        ['exhausted', 'network'],
        ['unknown', 'network'],
      ],
    );
    const requests = sim.stats().totalRequests;

    // A fresh process reading the same file: ok and exhausted from cache, the transient failure re-probed.
    now += 30_000;
    const second = await sweepWithCache(targets, await FileQuotaCache.open(path), options);
    assert.deepEqual(
      second.entries.map((e) => e.outcome.source),
      ['cache', 'cache', 'network'],
    );
    assert.equal(sim.stats().totalRequests, requests + 1);

    // Past the TTL, before the weekly reset: only the exhausted account stays cached.
    now += 120_000;
    const third = await sweepWithCache(targets, await FileQuotaCache.open(path), options);
    assert.deepEqual(
      third.entries.map((e) => e.outcome.source),
      ['network', 'cache', 'network'],
    );

    const forced = await sweepWithCache(targets, await FileQuotaCache.open(path), { ...options, forceNetwork: true });
    assert.equal(forced.fromNetwork, 3);
  });

  test('a transient failure returns the last known answer as stale', async () => {
    const path = join(dir, 'stale.json');
    const [healthy] = sim.accounts;
    const target = [{ key: healthy.id, name: healthy.name, accessToken: healthy.accessToken, accountId: healthy.id }];
    const cache = await FileQuotaCache.open(path);
    await sweepWithCache(target, cache, { chatgptUrl: sim.chatgptUrl, retries: 0, startJitterMs: 0 });
    sim.setScenario(healthy.id, 'overloaded');
    const res = await sweepWithCache(target, cache, {
      chatgptUrl: sim.chatgptUrl,
      retries: 0,
      startJitterMs: 0,
      forceNetwork: true,
    });
    assert.equal(res.entries[0].outcome.reason, 'server_overloaded');
    assert.equal(res.entries[0].lastKnown?.state, 'ok');
    assert.equal(res.entries[0].lastKnown?.source, 'cache');
    sim.setScenario(healthy.id, 'healthy');
  });
});
