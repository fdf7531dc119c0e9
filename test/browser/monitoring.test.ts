// The Monitoring page over the real monitor room (ingest, queries, routes) in Chromium: summary cards,
// account and API key views, realtime requests arriving live, a filter, and an export link.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMonitorService, type MonitorService } from '../../src/monitor/service.ts';
import { monitorRoutes } from '../../src/server/routes/monitor.ts';
import type { Db } from '../../src/store/db.ts';
import { openStore } from '../../src/store/open.ts';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/fleet-server.ts';
import { generateRecords } from '../support/monitor-events.ts';

const skip = chromiumMissing();
const START = Date.now() - 3_600_000;
const records = (n: number, offset: number) =>
  [...generateRecords(n, { start: START + offset * 1000, stepMs: 1000, seed: 5, failureRate: 0.25 }, offset)].map((r) =>
    JSON.stringify(r),
  );

describe('monitoring page over the real monitor', { skip }, () => {
  let dir: string;
  let db: Db;
  let mon: MonitorService;
  let s: TestServer;
  let browser: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-monpage-'));
    db = await openStore({ databaseUrl: `sqlite:${join(dir, 'm.db')}` });
    mon = await createMonitorService({ db });
    await mon.ingest.ingestRaw(records(200, 0));
    s = await startTestServer({ accounts: 2, monitor: monitorRoutes({ monitor: mon }), monitorEvents: mon.emitter });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows summary cards, the views, live arrivals, a filter and the export', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${s.url}/monitoring`);
    const requestsCard = page.locator('.card', { hasText: 'Requests' }).locator('.card-value');
    await requestsCard.getByText('200', { exact: true }).waitFor();
    assert.ok((await page.getByTestId('monitor-accounts').locator('tbody tr').count()) > 0);
    assert.ok((await page.getByTestId('monitor-api-keys').locator('tbody tr').count()) > 0);
    assert.equal(await page.getByTestId('monitor-requests').locator('tbody tr').count(), 50);
    assert.doesNotMatch(await page.content(), /alice@example\.com|sk-client-/, 'no raw body or raw key on the page');
    if (process.env.CODEX_FLEET_SCREENSHOTS === '1') await page.screenshot({ path: 'docs/screenshots/monitoring.png' });

    // New events reach the page without a reload (committed batch → SSE notice → re-read).
    await mon.ingest.ingestRaw(records(25, 200));
    await requestsCard.getByText('225', { exact: true }).waitFor();

    await page.getByText('Filters').click();
    await page.getByLabel('Outcome').selectOption('failure');
    await page.getByRole('button', { name: 'Apply' }).click();
    const failures = await page.locator('.card', { hasText: 'Failures' }).locator('.card-value').textContent();
    await requestsCard.getByText(failures!, { exact: true }).waitFor();

    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.match(href!, /format=csv&outcome=failure/);
    const csv = await (await fetch(`${s.url}${href}`)).text();
    assert.equal(csv.trim().split('\n').length - 1, Number(failures), 'the export holds the filtered rows');
    await page.close();
  });
});
