// One Team workspace with three seats on the Accounts page in a real Chromium: three cards, each with its
// own status and the shared workspace, and three rows in the table view.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService, type FleetService } from '../../src/core/fleet-service.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { type Simulator, startSimulator, TEAM_WORKSPACE_ID, teamWorkspaceAccounts } from '../../src/sim/index.ts';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';

const skip = chromiumMissing();

describe('three seats of one workspace on the Accounts page', { skip }, () => {
  let sim: Simulator;
  let dir: string;
  let core: FleetService;
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-seats-page-'));
    sim = await startSimulator({ accounts: teamWorkspaceAccounts(), latency: 0 });
    await sim.writeAuthFiles(join(dir, 'account'), 'cpa');
    const config = resolveConfig(
      {
        accountDir: join(dir, 'account'),
        dataDir: join(dir, 'data'),
        chatgptUrl: sim.chatgptUrl,
        authUrl: sim.authUrl,
      },
      {},
    );
    core = await createFleetService({ config, background: false });
    await core.refreshAll();
    server = await startServer({ host: '127.0.0.1', port: 0, service: core, dataDir: dir, env: {}, log: () => {} });
    browser = await launchBrowser({ width: 1366, height: 900 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await core?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows each seat with its own status and the workspace they share', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/accounts`);
    const cards = page.locator('article.account');
    await cards.nth(2).waitFor();
    assert.equal(await cards.count(), 3);
    const texts = await cards.allTextContents();
    for (const email of ['seat1@team.example.test', 'seat2@team.example.test', 'seat3@team.example.test']) {
      const card = texts.find((t) => t.includes(email));
      assert.ok(card, `a card for ${email}`);
      assert.ok(card.includes(TEAM_WORKSPACE_ID), `${email} names its workspace`);
    }
    const statuses = await cards.locator('.badge').allTextContents();
    assert.ok(
      statuses.some((s) => /rate-limited/i.test(s)),
      `one seat is rate-limited: ${statuses.join(', ')}`,
    );
    assert.ok(statuses.filter((s) => /healthy/i.test(s)).length >= 2, `two seats serve: ${statuses.join(', ')}`);
    await page.getByTestId('view-table').click();
    assert.equal(await page.getByTestId('accounts-table').locator('tbody tr').count(), 3);
  });
});
