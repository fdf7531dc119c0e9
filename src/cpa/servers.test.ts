// The servers registry on the real store (SQLite settings) and the CPA emulation: keys masked in
// every listing, validation errors as values, and a key change reconfiguring (un-breaking) the client.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createCpaEmulationState, mountCpaEmulation } from '../sim/cpa.ts';
import { startSimulator } from '../sim/index.ts';
import { openStore } from '../store/open.ts';
import { SettingsRepo } from '../store/settings-repo.ts';
import { CPA_SERVERS_SETTING, CpaServers } from './servers.ts';

const KEY = 'registry-test-key-abcdef123456';
const state = createCpaEmulationState({ managementKey: KEY });
const sim = await startSimulator({ accounts: [], extraRoutes: (app) => mountCpaEmulation(app, state) });
const db = await openStore({ databaseUrl: 'sqlite::memory:' });
const settings = new SettingsRepo(db);
after(async () => {
  await sim.close();
  await db.close();
});

describe('CpaServers', () => {
  test('adds servers, lists them with masked keys, and keeps them in the settings store', async () => {
    const servers = new CpaServers(settings);
    const added = await servers.upsert({ name: 'main', url: `${sim.baseUrl}/v0/management`, managementKey: KEY });
    assert.ok(added.ok, JSON.stringify(added));
    assert.equal(added.value.url, sim.baseUrl);
    assert.ok((await servers.upsert({ name: 'backup', url: 'http://127.0.0.1:9', managementKey: 'short' })).ok);
    const list = await servers.list();
    assert.deepEqual(
      list.map((s) => [s.name, s.managementKey]),
      [
        ['main', 'regi…3456'],
        ['backup', '****'],
      ],
    );
    assert.ok(!JSON.stringify(list).includes(KEY));
    // A second registry over the same store sees them (persisted, not in memory).
    const again = await new CpaServers(settings).list();
    assert.equal(again.length, 2);
    const stored = await settings.get<Array<{ managementKey: string }>>(CPA_SERVERS_SETTING);
    assert.equal(stored?.[0].managementKey, KEY);
  });

  test('bad input is a clear error value', async () => {
    const servers = new CpaServers(settings);
    const cases: Array<[unknown, RegExp]> = [
      [{ name: '', url: 'http://127.0.0.1:1', managementKey: 'k' }, /name/],
      [{ name: 'x', url: 'ftp://host', managementKey: 'k' }, /url/],
      [{ name: 'x', url: 'http://user:pw@host', managementKey: 'k' }, /url/],
      [{ name: 'new-one', url: 'http://127.0.0.1:1' }, /managementKey: required/],
      [{ name: 'x', url: 'http://127.0.0.1:1', managementKey: 'k', extra: 1 }, /Unrecognized key/i],
      [null, /./],
    ];
    for (const [input, pattern] of cases) {
      const res = await servers.upsert(input);
      assert.ok(!res.ok, JSON.stringify(input));
      assert.equal(res.error.kind, 'invalid_input');
      assert.match(res.error.message, pattern);
    }
    const missing = await servers.client('nope');
    assert.ok(!missing.ok);
    assert.match(missing.error.message, /configured: main, backup/);
  });

  test('clients are reused; a key change closes the breaker; editing without a key keeps it', async () => {
    const servers = new CpaServers(settings);
    assert.ok((await servers.upsert({ name: 'main', url: sim.baseUrl, managementKey: 'wrong-key-xyz-123' })).ok);
    const c1 = await servers.client('main');
    assert.ok(c1.ok);
    const denied = await c1.value.listAuthFiles();
    assert.ok(!denied.ok);
    assert.equal(denied.error.kind, 'unauthorized');
    const view = (await servers.list()).find((s) => s.name === 'main');
    assert.equal(view?.breaker.open, true);
    const c2 = await servers.client('main');
    assert.ok(c2.ok);
    assert.equal(c2.value, c1.value, 'same client: the breaker stays open');
    assert.equal((await c2.value.listAuthFiles()).ok, false);

    assert.ok((await servers.upsert({ name: 'main', url: sim.baseUrl, managementKey: KEY })).ok);
    const fixed = await c1.value.listAuthFiles();
    assert.ok(fixed.ok, JSON.stringify(fixed));
    assert.equal((await servers.list()).find((s) => s.name === 'main')?.generation, 'v8');

    // Edit the URL form without re-entering the key: the stored key is kept.
    assert.ok((await servers.upsert({ name: 'main', url: `${sim.baseUrl}/` })).ok);
    assert.equal((await servers.config('main'))?.managementKey, KEY);
    assert.equal(state.stats.failedAuth, 1);

    assert.equal(await servers.remove('backup'), true);
    assert.equal(await servers.remove('backup'), false);
    assert.deepEqual(
      (await servers.list()).map((s) => s.name),
      ['main'],
    );
  });

  test('a 401 is remembered across processes: the next registry does not send that key again', async () => {
    const first = new CpaServers(settings);
    assert.ok((await first.upsert({ name: 'cron', url: sim.baseUrl, managementKey: 'bad-key-for-cron-0001' })).ok);
    const before = state.stats.failedAuth;
    const c1 = await first.client('cron');
    assert.ok(c1.ok);
    assert.equal((await c1.value.listAuthFiles()).ok, false);
    await first.settled();
    assert.equal(state.stats.failedAuth, before + 1);

    // A new registry over the same store, as the next cron run would build.
    const second = new CpaServers(settings);
    const view = (await second.list()).find((s) => s.name === 'cron');
    assert.equal(view?.breaker.open, true);
    assert.match(view?.breaker.reason ?? '', /401/);
    const c2 = await second.client('cron');
    assert.ok(c2.ok);
    const blocked = await c2.value.listAuthFiles();
    assert.ok(!blocked.ok);
    assert.equal(blocked.error.kind, 'breaker_open');
    assert.equal(state.stats.failedAuth, before + 1, 'no second bad key from the second run');
    const stored = JSON.stringify(await settings.get(CPA_SERVERS_SETTING));
    assert.ok(!stored.includes('"reason":"bad-key'), 'only a fingerprint of the key is stored with the breaker');

    // Entering the right key closes it.
    assert.ok((await second.upsert({ name: 'cron', url: sim.baseUrl, managementKey: KEY })).ok);
    const c3 = await second.client('cron');
    assert.ok(c3.ok);
    assert.ok((await c3.value.listAuthFiles()).ok);
    assert.equal((await new CpaServers(settings).list()).find((s) => s.name === 'cron')?.breaker.open, false);
    assert.ok(await second.remove('cron'));
  });

  test('a damaged stored list reads as empty and is never overwritten', async () => {
    const db2 = await openStore({ databaseUrl: 'sqlite::memory:' });
    try {
      const settings2 = new SettingsRepo(db2);
      await settings2.set(CPA_SERVERS_SETTING, { not: 'a list' });
      const servers = new CpaServers(settings2);
      assert.deepEqual(await servers.list(), []);
      const res = await servers.upsert({ name: 'x', url: 'http://127.0.0.1:1', managementKey: 'k' });
      assert.ok(!res.ok);
      assert.match(res.error.message, /damaged/);
      assert.deepEqual(await settings2.get(CPA_SERVERS_SETTING), { not: 'a list' });
    } finally {
      await db2.close();
    }
  });
});
