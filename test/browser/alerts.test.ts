// The alert settings and the plan term in a real Chromium over the real core: the Settings page saves
// levels, digest, quiet hours and email (the password is never shown back), and the Accounts page shows
// each account's plan term in the cards and the table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { type DemoServer, startDemoServer } from '../support/demo-server.ts';

const skip = chromiumMissing();

describe('alerts in the dashboard', { skip }, () => {
  let demo: DemoServer;
  let browser: Browser;
  before(async () => {
    demo = await startDemoServer(6);
    await demo.service.refreshAll();
    await demo.service.refreshPlanTerms(undefined, { force: true });
    browser = await launchBrowser({ width: 1366, height: 900 });
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('shows every read plan term on the cards and in the table', async () => {
    const views = await demo.service.listAccounts();
    const withTerm = views.filter((v) => v.planEndsAt);
    assert.ok(withTerm.length > 0, 'the simulator serves plan terms for paid accounts');
    const page = await browser.context.newPage();
    await page.goto(`${demo.url}/accounts`);
    const terms = page.getByTestId('plan-end');
    await terms.nth(withTerm.length - 1).waitFor();
    assert.equal(await terms.count(), withTerm.length);
    assert.match((await terms.first().textContent()) ?? '', /^renews \d{4}-\d\d-\d\d$/);
    await page.getByTestId('view-table').click();
    await page.getByRole('button', { name: /^Plan term/ }).waitFor();
    assert.equal(await page.getByTestId('accounts-table').getByTestId('plan-end').count(), withTerm.length);
  });

  it('saves warning levels, digest, quiet hours and email; the password is write-only', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${demo.url}/settings`);
    await page.getByTestId('levels-weekly').fill('85, 97');
    await page.getByLabel(/Digest: collect alerts/).fill('15');
    await page.getByLabel('Quiet hours from (HH:MM)').fill('22:00');
    await page.getByLabel('Quiet hours until (HH:MM)').fill('07:00');
    await page.getByLabel('Quiet hours time zone').fill('Europe/Berlin');
    await page.getByLabel('SMTP host (empty = no email)').fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill('2525');
    await page.getByLabel(/^Password/).fill('smtp-secret-value');
    await page.getByLabel('From', { exact: true }).fill('fleet@example.test');
    await page.getByLabel('To (comma list)').fill('ops@example.test, oncall@example.test');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Settings saved.' })
      .waitFor({ timeout: 5000 })
      .catch(async (e) => {
        throw new Error(`not saved: ${await page.locator('.error, [role=alert]').allTextContents()}`, { cause: e });
      });
    const { notifications } = (await demo.service.getSettings()) as { notifications: Record<string, unknown> };
    assert.deepEqual((notifications.rules as { windowLevels: unknown }).windowLevels, {
      '5h': [80, 95],
      weekly: [85, 97],
      monthly: [80, 95],
    });
    assert.deepEqual(notifications.schedule, {
      digestMinutes: 15,
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' },
    });
    assert.equal((notifications.email as { passwordSet: boolean }).passwordSet, true);
    const served = await (await fetch(`${demo.url}/api/settings`)).text();
    assert.doesNotMatch(served, /smtp-secret-value/);
    await page.reload();
    assert.equal(await page.getByTestId('levels-weekly').inputValue(), '85, 97');
    assert.match((await page.getByText(/^Password/).textContent()) ?? '', /set; type to replace/);
    await page.getByRole('heading', { name: 'Alerts' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'docs/screenshots/settings-alerts.png', fullPage: false });
  });
});
