// Doctor checks against the CPA emulation in failing and passing setups (the passing setup is also
// checked against the real CPA in client.cpa.test.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createCpaEmulationState, mountCpaEmulation } from '../sim/cpa.ts';
import { startSimulator } from '../sim/index.ts';
import { CpaClient } from './client.ts';
import { changedAuthIndexes, checkCpaServer } from './doctor.ts';

const KEY = 'doctor-test-key-0123456789';
const state = createCpaEmulationState({ managementKey: KEY, generations: ['v0'] });
const sim = await startSimulator({ accounts: [], extraRoutes: (app) => mountCpaEmulation(app, state) });
after(() => sim.close());

const statusOf = (checks: Array<{ id: string; status: string }>) =>
  Object.fromEntries(checks.map((c) => [c.id, c.status]));

describe('checkCpaServer', () => {
  test('passing setup: every check ok, and auth indexes come back for the next run', async () => {
    state.usageConfig.usageStatisticsEnabled = true;
    state.usageConfig.retentionSeconds = 3600;
    const idx = state.putAuthFile('codex-a@example.com.json', { type: 'codex', email: 'a@example.com' });
    const report = await checkCpaServer(new CpaClient({ name: 'main', url: sim.baseUrl, managementKey: KEY }), {
      previousAuthIndexes: { 'codex-a@example.com.json': idx },
    });
    assert.deepEqual(statusOf(report.checks), {
      'cpa.reachable': 'ok',
      'cpa.usage_publishing': 'ok',
      'cpa.usage_retention': 'ok',
      'cpa.auth_metadata': 'ok',
      'cpa.auth_index_stable': 'ok',
    });
    assert.deepEqual(report.authIndexes, { 'codex-a@example.com.json': idx });
    assert.ok(!JSON.stringify(report).includes('emulated-client-key-secret'), 'config secrets are never read out');
  });

  test('failing setups: publishing off, short retention, moved auth dir, incomplete metadata', async () => {
    state.usageConfig.usageStatisticsEnabled = false;
    state.usageConfig.retentionSeconds = 10;
    state.putAuthFile('codex-noemail.json', { type: 'codex' });
    const report = await checkCpaServer(new CpaClient({ name: 'main', url: sim.baseUrl, managementKey: KEY }), {
      pollIntervalSeconds: 10,
      previousAuthIndexes: { 'codex-a@example.com.json': 'ffffffffffffffff' },
    });
    assert.deepEqual(statusOf(report.checks), {
      'cpa.reachable': 'ok',
      'cpa.usage_publishing': 'failed',
      'cpa.usage_retention': 'failed',
      'cpa.auth_metadata': 'warning',
      'cpa.auth_index_stable': 'warning',
    });
    for (const c of report.checks) if (c.status !== 'ok') assert.ok(c.fix, `${c.id} says how to fix it`);
    state.usageConfig.retentionSeconds = 20;
    const short = await checkCpaServer(new CpaClient({ name: 'main', url: sim.baseUrl, managementKey: KEY }), {
      pollIntervalSeconds: 10,
    });
    assert.equal(statusOf(short.checks)['cpa.usage_retention'], 'warning');
  });

  test('a wrong key or a dead server: one failed check, one request, nothing after', async () => {
    const before = state.stats.failedAuth;
    const report = await checkCpaServer(new CpaClient({ name: 'main', url: sim.baseUrl, managementKey: 'nope-nope' }));
    assert.equal(report.checks.length, 1);
    assert.equal(report.checks[0].status, 'failed');
    assert.match(report.checks[0].fix ?? '', /management key/);
    assert.equal(state.stats.failedAuth, before + 1);
    const dead = await checkCpaServer(new CpaClient({ name: 'dead', url: 'http://127.0.0.1:9', managementKey: KEY }));
    assert.equal(dead.checks[0].status, 'failed');
    assert.match(dead.checks[0].message, /cannot reach/);
  });

  test('changedAuthIndexes compares only files present in both runs', () => {
    assert.deepEqual(changedAuthIndexes({ a: '1', b: '2', gone: '3' }, { a: '1', b: '9', new: '4' }), ['b']);
  });
});
