// `serve --demo` as an operator starts it (a child process, fresh demo dir), in Chromium at desktop
// (1366 px) and phone (390 px) width: every chart has data points at once (the demo store is seeded
// with a week of history), the Monitoring page fills from the live usage queue, an account's history
// opens, unknown paths get the HTML 404 page. CODEX_FLEET_SCREENSHOTS=1 refreshes docs/screenshots/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { CLI, REPO_ROOT } from '../support/cli.ts';

const skip = chromiumMissing();
const SHOTS = process.env.CODEX_FLEET_SCREENSHOTS === '1';

async function startDemo(dir: string): Promise<{ child: ChildProcess; url: string; startedAt: number }> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--demo', '--port', '0', '--interval-seconds', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', CODEX_FLEET_DEMO_DIR: dir, CODEX_FLEET_ADMIN_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve --demo did not start in 60 s:\n${err}`)), 60_000);
    child.stderr?.on('data', (d) => {
      err += d;
      const m = /dashboard at (http:\/\/\S+?)\/? /.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve --demo exited ${code}:\n${err}`)));
  });
  return { child, url, startedAt };
}

/** Waits until the chart has drawn with at least `min` data points. */
async function chartPoints(page: Page, testid: string, min = 1): Promise<number> {
  const chart = page.getByTestId(testid);
  await chart.locator('canvas').waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    ([id, n]) => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-points') ?? 0) >= Number(n),
    [testid, min] as const,
    { timeout: 60_000 },
  );
  return Number(await chart.getAttribute('data-points'));
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const [scroll, client] = await page.evaluate(() => [
    document.scrollingElement?.scrollWidth ?? 0,
    document.scrollingElement?.clientWidth ?? 0,
  ]);
  assert.ok(scroll <= client + 1, `${what}: page is ${scroll} px wide in a ${client} px viewport`);
}

for (const viewport of [
  { width: 1366, height: 900, name: 'desktop' },
  { width: 390, height: 844, name: 'phone' },
]) {
  describe(`serve --demo charts at ${viewport.name} width`, { skip }, () => {
    let dir: string;
    let demo: { child: ChildProcess; url: string; startedAt: number };
    let browser: Browser;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'codex-fleet-demo-charts-'));
      demo = await startDemo(dir);
      browser = await launchBrowser({ width: viewport.width, height: viewport.height });
    });
    after(async () => {
      await browser?.close();
      if (demo?.child.exitCode === null) {
        const exited = new Promise((r) => demo.child.once('exit', r));
        demo.child.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('Overview: the pool charts have a week of points, the recommendation and the capacity timeline show', async () => {
      const page = await browser.context.newPage();
      await page.goto(`${demo.url}/`);
      assert.ok((await chartPoints(page, 'pool-usable-chart', 24)) >= 24);
      assert.ok((await chartPoints(page, 'pool-remaining-chart', 24)) >= 24);
      await page.getByTestId('recommendation').locator('.rec-name').waitFor();
      await noSidewaysScroll(page, 'overview');
      if (SHOTS && viewport.name === 'desktop')
        await page.screenshot({ path: join(REPO_ROOT, 'docs/screenshots/overview-charts.png'), fullPage: true });
    });

    it('Monitoring: requests, failures, latency, tokens and cost over time, with live traffic', async () => {
      const page = await browser.context.newPage();
      await page.goto(`${demo.url}/monitoring`);
      for (const id of [
        'monitor-requests-chart',
        'monitor-latency-chart',
        'monitor-tokens-chart',
        'monitor-cost-chart',
      ])
        assert.ok((await chartPoints(page, id, 10)) >= 10, id);
      await chartPoints(page, 'monitor-failures-chart', 1);
      await page.getByTestId('monitor-requests').locator('tbody tr').first().waitFor();
      // Live: the collector drains the simulated CPA's usage queue, so requests newer than the start arrive.
      await page.waitForFunction(
        async (since) => {
          const r = await fetch(`/api/monitor/requests?from=${since}&limit=1`).then((x) => x.json());
          return r.rows.length > 0;
        },
        demo.startedAt,
        { timeout: 60_000, polling: 1000 },
      );
      await noSidewaysScroll(page, 'monitoring');
      if (SHOTS && viewport.name === 'desktop')
        await page.screenshot({ path: join(REPO_ROOT, 'docs/screenshots/monitoring-charts.png'), fullPage: false });
    });

    it('Accounts: the table view (remembered), an account history with its forecast', async () => {
      const page = await browser.context.newPage();
      await page.goto(`${demo.url}/accounts`);
      await page.getByTestId('view-table').click();
      await page.getByTestId('accounts-table').locator('tbody tr').nth(29).waitFor();
      await page.reload();
      await page.getByTestId('accounts-table').waitFor(); // the choice survived a reload
      const row = page
        .getByTestId('accounts-table')
        .locator('tbody tr', { has: page.locator('.badge.status-healthy') });
      await row
        .first()
        .getByRole('button', { name: /^History of/ })
        .click();
      assert.ok((await chartPoints(page, 'account-chart', 24)) >= 24);
      await noSidewaysScroll(page, 'accounts table');
      if (SHOTS)
        await page.screenshot({
          path: join(REPO_ROOT, `docs/screenshots/accounts-${viewport.name === 'desktop' ? 'table' : 'phone'}.png`),
          fullPage: false,
        });
      await page.getByTestId('view-cards').click();
      await page.locator('article.account').first().waitFor();
    });

    it('series endpoints: bad input is a 400 that says what was wrong, an unknown account 404', async () => {
      const bad = await fetch(`${demo.url}/api/series/pool?range=2w`);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /range must be one of 1h, 6h, 24h, 7d, 30d/);
      const order = await fetch(`${demo.url}/api/series/monitor?from=2026-12-02&to=2026-12-01`);
      assert.equal(order.status, 400);
      const none = await fetch(`${demo.url}/api/series/accounts/no-such-account`);
      assert.equal(none.status, 404);
      const month = (await (await fetch(`${demo.url}/api/series/monitor?range=30d`)).json()) as {
        t: number[];
        stepMs: number;
      };
      assert.ok(month.t.length <= 240, `30 days in ${month.t.length} buckets of ${month.stepMs} ms`);
    });

    it('an unknown dashboard path gets the HTML 404 page', async () => {
      const page = await browser.context.newPage();
      const res = await page.goto(`${demo.url}/no-such-page`);
      assert.equal(res?.status(), 404);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      assert.match((await page.locator('code').textContent()) ?? '', /\/no-such-page/);
    });
  });
}
