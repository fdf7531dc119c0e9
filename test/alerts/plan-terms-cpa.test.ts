// Plan terms of CPA accounts are read through the REAL CPA's api-call (CPA puts the token in; none
// leaves it), and show on the account like a local account's.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';
import { runCli } from '../support/cli.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';
import { unavailable } from '../support/real-server.ts';

let sim: Simulator;
let cpa: StartedCpa | null = null;
let skip: string | null = null;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-plan-cpa-'));
  sim = await startSimulator({
    accounts: [
      { name: 'lapsing', email: 'lapsing@example.test', planEndsInDays: 3, planWillRenew: false },
      { name: 'renewing', email: 'renewing@example.test', plan: 'pro' },
    ],
    latency: 0,
  });
  await mkdir(join(dir, 'account'), { recursive: true });
  const started = await tryStartCpa();
  if ('skip' in started) {
    skip = unavailable('CPA', started.skip);
    return;
  }
  cpa = started;
  for (const a of sim.accounts) {
    await writeFile(join(cpa.authDir, `${a.name}.json`), JSON.stringify(cpaFile(a, { farExpiry: true })), {
      mode: 0o600,
    });
  }
  await waitForAuthFiles(cpa, ['lapsing.json', 'renewing.json']);
});

after(async () => {
  await cpa?.stop();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('plan terms through the real CPA', () => {
  it('are read with api-call and shown on the CPA accounts', async (t) => {
    if (skip) return t.skip(skip);
    const data = join(dir, 'data');
    const env = { CODEX_FLEET_CHATGPT_URL: sim.chatgptUrl, CODEX_FLEET_ACCOUNT_DIR: join(dir, 'account') };
    const added = await runCli(['cpa', 'add', 'main', cpa!.url, '--data-dir', data], {
      env: { ...env, CODEX_FLEET_CPA_KEY: cpa!.key },
    });
    assert.equal(added.code, 0, added.stderr);
    const config = resolveConfig({ dataDir: data, accountDir: join(dir, 'account'), chatgptUrl: sim.chatgptUrl }, {});
    const core = await createFleetService({ config, background: false });
    try {
      sim.resetStats();
      assert.equal(await core.refreshPlanTerms(undefined, { force: true }), 2);
      const calls = Object.entries(sim.stats().requests).find(([route]) => route.includes('subscriptions'))?.[1];
      assert.equal(calls?.[200] ?? calls?.['200'], 2, 'two subscription reads, both answered 200 through CPA');
      const views = await core.listAccounts();
      const lapsing = views.find((v) => v.email === 'lapsing@example.test');
      const renewing = views.find((v) => v.email === 'renewing@example.test');
      assert.equal(lapsing?.sourceKind, 'cpa');
      assert.ok(lapsing?.planEndsAt);
      assert.equal(lapsing?.planWillRenew, false);
      assert.equal(renewing?.planWillRenew, true);
    } finally {
      await core.close();
    }
  });
});
