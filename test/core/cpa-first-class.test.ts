// CPA accounts are accounts (issue 13): after `cpa add` of the REAL CPA with 50 accounts, every view
// shows them with their states without a prior inspect; with /wham retired a second sweep through CPA
// makes exactly one usage call per account; a CLI disable and a dashboard disable of a CPA account
// leave the same audit row and ownership, and no inspection queues an Enable for it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import type { HealthReport } from '../../src/domain/report.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { cpaFile } from '../../src/sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';
import { chromiumMissing, launchBrowser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../support/cpa.ts';
import { ApiClient } from '../support/fleet-server.ts';

const COUNT = 50;
let sim: Simulator;
let cpa: StartedCpa | null = null;
let skip: string | null = null;
let dir: string;
let store: string[];
let env: NodeJS.ProcessEnv;

function usageCalls(): number {
  return Object.entries(sim.stats().requests)
    .filter(([route]) => /usage/.test(route))
    .reduce((sum, [, byStatus]) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-cpa-first-class-'));
  sim = await startSimulator({
    accounts: Array.from({ length: COUNT }, (_, i) => ({
      scenario: i % 10 === 9 ? ('exhausted' as const) : ('healthy' as const),
      name: `c${String(i).padStart(2, '0')}`,
      email: `c${i}@example.test`,
      burnRatePerHour: 0,
    })),
    retiredPaths: [{ path: '/wham', status: 404 }],
  });
  await mkdir(join(dir, 'account'), { recursive: true });
  store = ['--data-dir', join(dir, 'data'), '--account-dir', join(dir, 'account')];
  env = {
    CODEX_FLEET_CHATGPT_URL: sim.chatgptUrl,
    CODEX_FLEET_AUTH_URL: sim.authUrl,
    CODEX_FLEET_ACCOUNT_DIR: join(dir, 'account'),
  };
  const started = await tryStartCpa();
  if ('skip' in started) {
    skip = started.skip;
    return;
  }
  cpa = started;
  const names: string[] = [];
  for (const a of sim.accounts) {
    await writeFile(join(cpa.authDir, `${a.name}.json`), JSON.stringify(cpaFile(a, { farExpiry: true })), {
      mode: 0o600,
    });
    names.push(`${a.name}.json`);
  }
  await waitForAuthFiles(cpa, names, { timeoutMs: 30_000 });
});

after(async () => {
  await cpa?.stop();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

function skipped(t: { skip(message: string): void }): boolean {
  if (!skip) return false;
  if (process.env.CI === 'true') assert.fail(`the real CPA is required in CI: ${skip}`);
  t.skip(skip);
  return true;
}

async function serve(): Promise<{ core: FleetService; server: RunningServer }> {
  const config = resolveConfig(
    { dataDir: join(dir, 'data'), accountDir: join(dir, 'account'), chatgptUrl: sim.chatgptUrl, retries: 0 },
    {},
  );
  const core = await createFleetService({ config, background: false });
  const server = await startServer({ host: '127.0.0.1', port: 0, service: core, dataDir: dir, env: {}, log: () => {} });
  return { core, server };
}

describe('CPA accounts are first-class', () => {
  it('after cpa add, every view shows the 50 accounts with their states, without an inspect', async (t) => {
    if (skipped(t)) return;
    const added = await runCli(['cpa', 'add', 'main', cpa!.url, '--data-dir', join(dir, 'data')], {
      env: { ...env, CODEX_FLEET_CPA_KEY: cpa!.key },
    });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`${COUNT} codex account\\(s\\) checked`));

    const list = JSON.parse((await runCli(['accounts', 'list', '--json', ...store], { env })).stdout) as Array<{
      source: string;
    }>;
    assert.equal(list.filter((a) => a.source === 'cpa').length, COUNT, 'accounts list');
    const report = JSON.parse((await runCli(['report', '--json', ...store], { env })).stdout) as HealthReport;
    assert.equal(report.accounts.length, COUNT, 'report');
    assert.equal(report.accounts.filter((a) => a.status === 'rate-limited').length, COUNT / 10);
    assert.equal(report.accounts.filter((a) => a.status === 'healthy').length, COUNT - COUNT / 10);
    const quota = JSON.parse((await runCli(['quota', '--json', ...store], { env })).stdout) as Array<{
      source: string;
      state: string;
    }>;
    assert.equal(quota.length, COUNT, 'quota');
    assert.equal(quota.filter((r) => r.state === 'exhausted').length, COUNT / 10);

    const { core, server } = await serve();
    try {
      const api = (await (await fetch(`${server.url}/api/accounts`)).json()) as {
        accounts: Array<{ sourceKind: string; status: string }>;
      };
      assert.equal(api.accounts.length, COUNT, '/api/accounts');
      assert.ok(api.accounts.every((a) => a.sourceKind === 'cpa' && a.status !== 'unknown'));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`codex_fleet_pool_accounts\\{status="rate-limited"\\} ${COUNT / 10}`));
      assert.match(metrics, new RegExp(`codex_fleet_pool_accounts\\{status="healthy"\\} ${COUNT - COUNT / 10}`));
      if (!chromiumMissing()) {
        const browser = await launchBrowser();
        try {
          const page = await browser.context.newPage();
          await page.goto(`${server.url}/accounts`);
          await page
            .locator('article.account')
            .nth(COUNT - 1)
            .waitFor();
          assert.equal(await page.locator('article.account').count(), COUNT, 'the Accounts page');
        } finally {
          await browser.close();
        }
      }
    } finally {
      await server.close();
      await core.close().catch(() => {});
    }
  });

  it('with /wham retired, a second sweep through CPA makes exactly one usage call per account', async (t) => {
    if (skipped(t)) return;
    // The sweep after `cpa add` learned the working path; a forced sweep in a new process reuses it.
    sim.resetStats();
    const first = await runCli(['quota', '--refresh', '--json', ...store], { env });
    assert.equal(JSON.parse(first.stdout).length, COUNT, first.stderr);
    assert.equal(usageCalls(), COUNT, 'one usage call per account');
  });

  it('a CLI disable and a dashboard disable of CPA accounts leave the same audit row and ownership', async (t) => {
    if (skipped(t)) return;
    const cli = await runCli(['accounts', 'disable', 'c01', ...store], { env });
    assert.equal(cli.code, 0, cli.stderr);
    const { core, server } = await serve();
    try {
      const views = await core.listAccounts();
      const viaCli = views.find((v) => v.name === 'c01')!;
      const viaPage = views.find((v) => v.name === 'c02')!;
      // The dashboard's own request: session cookie and CSRF token, like the page.
      const page = await new ApiClient(server.url).start();
      const res = await page.json('POST', `/api/accounts/${encodeURIComponent(viaPage.id)}/disable`);
      assert.equal(res.status, 200);
      const audit = await core.listAudit(10);
      const rowCli = audit.find((r) => r.accountId === viaCli.id)!;
      const rowPage = audit.find((r) => r.accountId === viaPage.id)!;
      assert.ok(rowCli && rowPage, 'both disables are audited');
      assert.equal(rowCli.action, rowPage.action);
      assert.match(rowCli.actor, /^person:/);
      assert.match(rowPage.actor, /^person:/);
      assert.match(rowCli.result, /^ok:/);
      const files = (await (
        await fetch(`${cpa!.url}/v0/management/auth-files`, { headers: { Authorization: `Bearer ${cpa!.key}` } })
      ).json()) as { files: Array<{ name: string; disabled: boolean }> };
      const disabled = new Set(files.files.filter((f) => f.disabled).map((f) => f.name));
      assert.ok(disabled.has('c01.json') && disabled.has('c02.json'), 'disabled on CPA itself');
      // An inspection (with auto-enable on) never queues an Enable for a person's disable.
      await core.setSettings({ policy: { autoEnable: true } });
      const outcome = await core.inspect('cli');
      const enables = outcome.queued.filter(
        (a) => a.action === 'Enable' && (a.accountId === viaCli.id || a.accountId === viaPage.id),
      );
      assert.deepEqual(enables, [], 'no Enable for a person-disabled account');
    } finally {
      await server.close();
      await core.close().catch(() => {});
    }
  });
});
