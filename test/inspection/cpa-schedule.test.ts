// Issue 6, done when: a scheduled inspection against the REAL CPA with 200 mixed accounts disables
// exactly the exhausted ones, re-enables them after the simulated reset, and leaves manually disabled
// ones alone; every decision is audited with its reason and evidence; two schedulers → one run per slot.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActionsRepo } from '../../src/actions/actions-repo.ts';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { POLICY_SETTING } from '../../src/core/inspection-run.ts';
import { InspectionScheduler, saveSchedule } from '../../src/core/inspection-scheduler.ts';
import { CpaServers } from '../../src/cpa/servers.ts';
import { RunsRepo } from '../../src/inspect/runs-repo.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';

const HEALTHY = 160;
const EXHAUSTED = 30;
const MANUAL = 10; // disabled by a person: 5 exhausted, 5 healthy
const RESET_S = 2 * 3600;

let sim: Simulator;
let cpa: StartedCpa | null = null;
let skip: string | null = null;
let dir: string;
let fleetA: Fleet;
let fleetB: Fleet;
const manualNames = new Set<string>();
const exhaustedNames = new Set<string>();

async function cpaDisabled(): Promise<Map<string, boolean>> {
  const res = await fetch(`${cpa!.url}/v0/management/auth-files`, { headers: { Authorization: `Bearer ${cpa!.key}` } });
  const body = (await res.json()) as { files: Array<{ name: string; disabled: boolean }> };
  return new Map(body.files.map((f) => [f.name, f.disabled]));
}

function openFleet(): Promise<Fleet> {
  const config = resolveConfig(
    {
      dataDir: join(dir, 'data'),
      accountDir: join(dir, 'no-local-accounts'),
      chatgptUrl: sim.chatgptUrl,
      concurrency: 8,
      retries: 1,
      retryDelay: 0.01,
    },
    {},
  );
  return Fleet.open(config, () => sim.now());
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-cpa-sched-'));
  await mkdir(join(dir, 'no-local-accounts')); // CPA-only: an empty account directory
  const specs = [
    ...Array.from({ length: HEALTHY }, (_, i) => ({
      scenario: 'healthy' as const,
      email: `h${i}@example.com`,
      burnRatePerHour: 0,
    })),
    ...Array.from({ length: EXHAUSTED }, (_, i) => ({
      scenario: 'exhausted' as const,
      email: `x${i}@example.com`,
      secondaryResetAfterSeconds: RESET_S,
      burnRatePerHour: 0,
    })),
  ];
  // A frozen clock that only advance() moves: a slow run must not cross a wall-clock slot boundary.
  const frozen = Date.parse('2026-11-23T12:10:00Z');
  sim = await startSimulator({ accounts: specs, latency: 2, clock: () => frozen });
  const started = await tryStartCpa();
  if ('skip' in started) {
    skip = started.skip;
    console.error(`\n!!! SKIPPING the real-CPA schedule test: ${skip}\n`);
    return;
  }
  cpa = started;
  const names: string[] = [];
  for (const [i, account] of sim.accounts.entries()) {
    const name = `codex-${account.email}.json`;
    const file = cpaFile(account, { farExpiry: true });
    // The last MANUAL accounts of each kind are disabled by a person before codex-fleet ever runs.
    const manual = (i >= HEALTHY - 5 && i < HEALTHY) || i >= HEALTHY + EXHAUSTED - 5;
    if (manual) {
      file.disabled = true;
      manualNames.add(name);
    } else if (account.scenario === 'exhausted') {
      exhaustedNames.add(name);
    }
    await writeFile(join(cpa.authDir, name), JSON.stringify(file, null, 2), { mode: 0o600 });
    names.push(name);
  }
  await waitForAuthFiles(cpa, names, { timeoutMs: 30_000 });
  fleetA = await openFleet();
  fleetB = await openFleet();
  const servers = new CpaServers(fleetA.repos.settings);
  const added = await servers.upsert({ name: 'local', url: cpa.url, managementKey: cpa.key });
  assert.ok(added.ok, 'CPA server registered');
  await fleetA.repos.settings.set(POLICY_SETTING, { autoDisable: true, autoEnable: true });
  await saveSchedule(fleetA, { mode: 'interval', intervalMinutes: 60 });
});

after(async () => {
  await fleetA?.close();
  await fleetB?.close();
  await cpa?.stop();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scheduled inspection against the real CPA, 200 accounts', { timeout: 600_000 }, () => {
  it('runs one inspection per slot even with two schedulers, and disables exactly the exhausted accounts', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal(MANUAL, manualNames.size);
    sim.advance(3600); // the next hourly slot is due
    const a = new InspectionScheduler(fleetA, { holder: 'instance-a' });
    const b = new InspectionScheduler(fleetB, { holder: 'instance-b' });
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    assert.equal([ra, rb].filter(Boolean).length, 1, 'exactly one of two schedulers ran the slot');
    assert.equal(await a.tick(), null, 'a slot runs once');

    const disabled = await cpaDisabled();
    for (const [name, isDisabled] of disabled) {
      const expected = exhaustedNames.has(name) || manualNames.has(name);
      assert.equal(isDisabled, expected, `${name}: disabled=${isDisabled}`);
    }
    const runs = await new RunsRepo(fleetA.repos.db).list();
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'done');

    const audit = await new ActionsRepo(fleetA.repos.db).auditLog(1000);
    const disables = audit.filter((r) => r.action === 'Disable');
    assert.equal(disables.length, exhaustedNames.size, 'one audit row per disabled account');
    for (const row of disables) {
      assert.match(row.actor, /^schedule:/);
      assert.match(row.reason, /weekly window 100% used/);
      assert.equal(row.evidence.httpStatus, 200);
      assert.match(String(row.evidence.windows), /weekly 100% used/);
      assert.match(row.result, /^ok/);
    }
    assert.ok(!audit.some((r) => r.accountName && manualNames.has(`${r.accountName}.json`)), 'manual ones untouched');
  });

  it('re-enables them after the simulated reset, and leaves the manually disabled ones alone', async (t) => {
    if (skip) return t.skip(skip);
    sim.advance(RESET_S + 60);
    const a = new InspectionScheduler(fleetA, { holder: 'instance-a' });
    assert.ok(await a.tick(), 'the next slot ran');
    const disabled = await cpaDisabled();
    for (const [name, isDisabled] of disabled) {
      assert.equal(isDisabled, manualNames.has(name), `${name}: disabled=${isDisabled}`);
    }
    const audit = await new ActionsRepo(fleetA.repos.db).auditLog(1000);
    assert.equal(audit.filter((r) => r.action === 'Enable').length, exhaustedNames.size);
    const pendingEnables = (await new ActionsRepo(fleetA.repos.db).list('pending')).filter(
      (x) => x.action === 'Enable',
    );
    // After the reset all ten accounts a person disabled are healthy: Enable is suggested, but only a person may approve it.
    assert.equal(pendingEnables.length, MANUAL, 'the accounts a person disabled wait for a person');
    for (const p of pendingEnables) assert.ok(manualNames.has(`${p.accountName}.json`), p.accountName);
  });
});
