// The real pages in a real browser (Debian's Chromium through playwright-core): accounts, live
// updates, inspection, action approval into the audit, auth-file lifecycle, countdowns, phone width.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { ApiClient, startTestServer, type TestServer } from '../support/fleet-server.ts';

const skip = chromiumMissing();

describe('dashboard in Chromium', { skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    s = await startTestServer({ accounts: 30 });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows the pool on the overview and every account with quota bars', async () => {
    const api = await new ApiClient(s.url).start();
    const pool = (await api.json<{ pool: { counts: Record<string, number> } }>('GET', '/api/pool')).body.pool;
    await page.goto(`${s.url}/`);
    await page.getByTestId('pool-healthy').getByText(String(pool.counts.healthy), { exact: true }).waitFor();
    assert.equal(
      await page.getByTestId('pool-rate-limited').locator('.card-value').textContent(),
      String(pool.counts['rate-limited']),
    );

    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.locator('article.account').nth(29).waitFor(); // the rows it counts, all rendered
    assert.equal(await page.locator('article.account').count(), 30);
    const card = page.locator('article.account[data-account="acct-01"]');
    assert.ok((await card.getByRole('meter').count()) >= 1, 'quota bars per window');
    assert.match((await card.textContent()) ?? '', /plus/);
    assert.deepEqual(errors, []);
  });

  it('updates live over SSE when another client changes an account', async () => {
    await page.goto(`${s.url}/accounts`);
    const card = page.locator('article.account[data-account="acct-02"]');
    await card.getByRole('button', { name: 'Disable acct-02' }).waitFor();
    // This is the test of the event stream: the change is made only once the page's stream is open
    // (the server registers a stream before it sends a byte), so the notice cannot be missed.
    await page.locator('.live-live').waitFor();
    const other = await new ApiClient(s.url).start();
    await other.json('POST', `/api/accounts/${await s.idOf('acct-02')}/disable`);
    // No reload: the page learns it from the event stream.
    await card.getByRole('button', { name: 'Enable acct-02' }).waitFor();
    await card.getByRole('button', { name: 'Enable acct-02' }).click();
    await card.getByRole('button', { name: 'Disable acct-02' }).waitFor();
  });

  it('shows a countdown that ticks', async () => {
    await page.goto(`${s.url}/accounts`);
    const countdown = page.locator('article.account[data-account="acct-01"] .countdown').first();
    const first = await countdown.textContent();
    await page.waitForFunction(
      ([sel, before]) => document.querySelector(sel as string)?.textContent !== before,
      ['article.account[data-account="acct-01"] .countdown', first],
    );
    assert.notEqual(await countdown.textContent(), first);
  });

  it('runs an inspection and shows results grouped by action, with reasons and evidence', async () => {
    await page.goto(`${s.url}/inspection`);
    await page.getByRole('button', { name: 'Run inspection now' }).click();
    const groups = page.locator('.run-results section.group');
    await groups.first().waitFor();
    const actions = await groups.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    assert.ok(actions.includes('Keep'));
    assert.ok(actions.length >= 2, `several action groups, got ${actions.join(',')}`);
    assert.ok((await page.locator('.evidence li').count()) > 0, 'evidence is shown');
    assert.equal(await page.locator('.history-item').count(), 1);
    await page.getByText(/Run log/).click();
    assert.match((await page.locator('.log pre').textContent()) ?? '', /inspection finished/);
  });

  it('approves a suggested action and sees it in the audit log', async () => {
    await page.goto(`${s.url}/actions`);
    const queue = page.getByTestId('action-queue');
    await queue.waitFor();
    const row = queue.locator('tbody tr').first();
    const account = (await row.locator('td').first().textContent())!.trim();
    const before = await queue.locator('tbody tr').count();
    await row.getByRole('button', { name: /^Approve / }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="action-queue"] tbody tr').length === n - 1,
      before,
    );
    const audit = page.getByTestId('audit-log');
    await audit.locator('tbody tr', { hasText: account }).first().waitFor();
    // The real audit row names the action done and the person who approved it.
    assert.match((await audit.locator('tbody tr').first().textContent()) ?? '', /person:local/);
  });

  it('adds an auth file, edits it keeping then replacing a token, and deletes it', async () => {
    await page.goto(`${s.url}/auth`);
    await page.getByRole('link', { name: 'New auth file' }).click();
    await page.waitForURL(/\/auth\/new$/);
    await page.locator('input[name="name"]').fill('browser-made');
    await page.locator('input[name="email"]').fill('browser@example.test');
    await page.locator('input[name="accessToken"]').fill('browser-access-token-1234567890');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-file="browser-made"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /brow…7890/);
    assert.doesNotMatch(await page.content(), /browser-access-token-1234567890/);

    await row.getByRole('link', { name: 'Edit browser-made' }).click();
    await page.waitForURL(/\/auth\/edit\?name=browser-made$/);
    await page.locator('input[name="email"]').fill('edited@example.test');
    assert.equal(
      await page.locator('input[name="accessToken"]').count(),
      0,
      'the masked token is not an input until Replace',
    );
    await page.getByRole('button', { name: 'Save changes' }).click();
    await row.getByText('edited@example.test').waitFor();
    assert.equal(s.storedToken('browser-made', 'accessToken'), 'browser-access-token-1234567890');

    await row.getByRole('link', { name: 'Edit browser-made' }).click();
    await page.getByRole('button', { name: 'Replace access token' }).click();
    await page.locator('input[name="accessToken"]').fill('browser-replaced-token-0987654321');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await row.getByText('brow…4321').waitFor();
    assert.equal(s.storedToken('browser-made', 'accessToken'), 'browser-replaced-token-0987654321');

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete browser-made' }).click();
    await row.waitFor({ state: 'detached' });
  });

  it('is keyboard reachable: the skip link and the navigation take focus', async () => {
    await page.goto(`${s.url}/`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    let reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate(() => document.activeElement?.textContent)) === 'Settings';
    }
    assert.ok(reached, 'Tab reaches the Settings link');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/settings$/);
    await page.getByRole('heading', { name: 'CPA servers' }).waitFor();
  });

  it('works at phone width: menu toggle, no sideways scrolling', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${s.url}/accounts`);
    await phone.locator('article.account').first().waitFor();
    assert.equal(await phone.getByRole('link', { name: 'Inspection' }).isVisible(), false, 'navigation folds away');
    await phone.getByRole('button', { name: 'Menu' }).click();
    await phone.getByRole('link', { name: 'Inspection' }).click();
    await phone.waitForURL(/\/inspection$/);
    for (const path of ['/', '/accounts', '/actions', '/auth', '/settings']) {
      await phone.goto(`${s.url}${path}`);
      await phone.locator('main h1').waitFor();
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
    }
    await phone.close();
    assert.deepEqual(errors, []);
  });
});

describe('login page of a server with an admin key', { skip }, () => {
  const KEY = 'browser-admin-key-0123456789';
  let s: TestServer;
  let browser: Browser;
  before(async () => {
    s = await startTestServer({ adminKey: KEY, accounts: 3 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('sends a visitor to log in, refuses a wrong key, lets the right one in, and logs out', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${s.url}/accounts`);
    await page.waitForURL(/\/login\?next=%2Faccounts$/);
    await page.getByLabel('Admin key').fill('not-the-key-at-all');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('That key is not valid.').waitFor();
    await page.getByLabel('Admin key').fill(KEY);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/accounts$/);
    await page.locator('article.account').first().waitFor();
    // Writes work from the logged-in page (session cookie + CSRF token).
    await page.getByRole('button', { name: 'Disable acct-01' }).click();
    await page.getByRole('button', { name: 'Enable acct-01' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    // A fetch still in flight when the session ends gets a 401 and sends the page to /login?next=… itself:
    // either way the visitor lands on the login page.
    await page.waitForURL(/\/login(\?next=[^&]*)?$/);
    await page.goto(`${s.url}/accounts`);
    await page.waitForURL(/\/login/);
    await page.close();
  });
});
