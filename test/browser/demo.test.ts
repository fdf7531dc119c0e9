// The dashboard over the real core and the simulator (what `npm start -- --demo` shows), in Chromium.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { type DemoServer, startDemoServer } from '../support/demo-server.ts';
import { ApiClient } from '../support/fleet-server.ts';
import { waitFor } from '../support/wait.ts';

// Set CODEX_FLEET_SCREENSHOTS=1 to refresh the README screenshots in docs/screenshots/.
const SHOTS = process.env.CODEX_FLEET_SCREENSHOTS === '1' ? 'docs/screenshots' : null;
// The README shows the full --demo mix; the test itself is quicker with fewer accounts.
const COUNT = SHOTS ? 30 : 12;
const skip = chromiumMissing();
type J = Record<string, any>;

describe('dashboard over the real core and the simulator', { skip }, () => {
  let s: DemoServer;
  let browser: Browser;
  let page: Page;
  let api: ApiClient;
  const errors: string[] = [];

  before(async () => {
    s = await startDemoServer(COUNT);
    // The small mix may hold nothing to act on: make one account blocked (403 JSON), which the
    // inspection must suggest disabling and the default policy queues for approval.
    if (!SHOTS) s.sim.setScenario(s.sim.accounts[COUNT - 1].id, 'account-deactivated');
    api = await new ApiClient(s.url).start();
    await api.json('POST', '/api/refresh?wait=true');
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`);
    });
  });
  const filesHolding = (text: string) =>
    (readdirSync(s.accountDir, { recursive: true }) as string[])
      .filter((f) => !f.startsWith('.deleted')) // the core keeps deleted files aside, out of the account dir's view
      .map((f) => join(s.accountDir, f))
      .filter((f) => statSync(f).isFile() && readFileSync(f, 'utf8').includes(text));

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows every simulated account with the pool counts the API reports', async () => {
    const { accounts } = (await api.json<J>('GET', '/api/accounts')).body;
    const pool = (await api.json<J>('GET', '/api/pool')).body.pool;
    assert.equal(accounts.length, COUNT);
    await page.goto(`${s.url}/`);
    await page
      .getByTestId('pool-healthy')
      .locator('.card-value')
      .getByText(String(pool.counts.healthy), { exact: true })
      .waitFor();
    // The data it checks, not the live indicator (that has its own test below).
    if (SHOTS) {
      await page.locator('.live-live').waitFor(); // a screenshot should show "Live"; not a check
      await page.screenshot({ path: `${SHOTS}/overview.png` });
      const phone = await browser.context.newPage();
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${s.url}/`);
      await phone.getByTestId('pool-healthy').locator('.card-value').getByText(String(pool.counts.healthy)).waitFor();
      await phone.locator('.live-live').waitFor();
      await phone.screenshot({ path: `${SHOTS}/overview-phone.png` });
      await phone.close();
    }
    await page.goto(`${s.url}/accounts`);
    await page
      .locator('article.account')
      .nth(COUNT - 1)
      .waitFor();
    assert.equal(await page.locator('article.account').count(), COUNT);
    assert.ok((await page.getByRole('meter').count()) > 0, 'quota bars from real probes');
    // Real names and messages are long: nothing may push the page sideways, on a desktop or a phone.
    for (const width of [1360, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `accounts page scrolls sideways by ${overflow}px at ${width}px`);
    }
    await page.setViewportSize({ width: 1360, height: 900 });
    assert.deepEqual(errors, []);
  });

  it('shows the event stream as connected once the server holds it', async () => {
    await page.goto(`${s.url}/`);
    await page.locator('.live-live').waitFor();
    await waitFor(() => ({ ok: s.server.fleetApp.hub.size >= 1, seen: `${s.server.fleetApp.hub.size} SSE clients` }), {
      what: 'the server to hold the page’s event stream',
    });
  });

  it('runs an inspection, approves a suggested action and finds it in the audit', async () => {
    // Certain, not hoped for: an account whose evidence the policy queues for approval (Disable for an
    // exhausted or blocked account, Delete for a deactivated workspace; see before()).
    const actionable = s.sim.accounts.filter((a) =>
      ['exhausted', 'account-deactivated', 'deactivated-workspace'].includes(a.scenario),
    );
    assert.ok(actionable.length > 0, `the demo mix of ${COUNT} holds an account to act on`);
    await page.goto(`${s.url}/inspection`);
    await page.getByRole('button', { name: 'Run inspection now' }).click();
    await page.locator('.run-results section.group').first().waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/inspection.png` });
    const pending = await waitFor(
      async () => {
        const { actions } = (await api.json<J>('GET', '/api/actions?status=pending')).body;
        return actions.length > 0 ? actions : { ok: false, seen: actions };
      },
      { what: `a queued action for one of ${actionable.map((a) => a.scenario).join(', ')}` },
    );
    assert.ok(pending.length > 0);
    await page.goto(`${s.url}/actions`);
    const row = page.getByTestId('action-queue').locator('tbody tr').first();
    const account = (await row.locator('td').first().textContent())!.trim();
    await row.getByRole('button', { name: /^Approve / }).click();
    await page.getByTestId('audit-log').locator('tbody tr', { hasText: account }).first().waitFor();
  });

  it('serves no token from the auth files through any route', async () => {
    const secrets = new Set<string>();
    const collect = (v: unknown, key = '') => {
      if (typeof v === 'string' && /token|key/i.test(key) && v.length >= 16) secrets.add(v);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k);
    };
    for (const f of readdirSync(s.accountDir, { recursive: true }) as string[]) {
      const path = join(s.accountDir, f);
      if (statSync(path).isFile() && f.endsWith('.json')) collect(JSON.parse(readFileSync(path, 'utf8')));
    }
    assert.ok(secrets.size >= COUNT, `found ${secrets.size} tokens to look for`);
    const run = (await api.json<J>('GET', '/api/inspections')).body.runs[0]?.id;
    const paths = [
      '/',
      '/metrics',
      '/api/accounts',
      '/api/pool',
      '/api/results',
      '/api/report',
      '/api/forecast',
      '/api/inspections',
      '/api/actions',
      '/api/audit',
      '/api/settings',
      '/api/cpa-servers',
      '/api/schedule',
      '/api/auth-files',
    ];
    if (run) paths.push(`/api/inspections/${run}`);
    // A multi-account file is not a single-file route's business: 409 says so (and must leak nothing either).
    const multi = new Set<string>();
    for (const f of (await api.json<J>('GET', '/api/auth-files')).body.files) {
      const path = `/api/auth-files/${encodeURIComponent(f.name)}`;
      paths.push(path);
      if (f.format === 'multi-auth') multi.add(path);
    }
    for (const path of paths) {
      const res = await api.request('GET', path);
      assert.equal(res.status, multi.has(path) ? 409 : 200, path);
      const text = await res.text();
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `${path} leaked a token (${secret.slice(0, 6)}…)`);
    }
  });

  it('creates, edits and deletes an auth file on disk, never showing its token', async () => {
    await page.goto(`${s.url}/auth/new`);
    await page.locator('input[name="name"]').fill('made-in-browser');
    await page.locator('input[name="email"]').fill('made@example.test');
    await page.locator('input[name="accessToken"]').fill('browser-access-token-1234567890');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-file="made-in-browser"]');
    await row.waitFor();
    assert.doesNotMatch(await page.content(), /browser-access-token-1234567890/);
    const files = (await api.json<J>('GET', '/api/auth-files')).body.files;
    assert.ok(files.some((f: J) => f.name === 'made-in-browser'));
    assert.equal(filesHolding('browser-access-token-1234567890').length, 1, 'the token is written to one auth file');
    await row.getByRole('link', { name: 'Edit made-in-browser' }).click();
    await page.locator('input[name="email"]').fill('edited@example.test');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await row.getByText('edited@example.test').waitFor();
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete made-in-browser' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await api.json<J>('GET', '/api/auth-files/made-in-browser')).status, 404);
    assert.deepEqual(filesHolding('browser-access-token-1234567890'), [], 'the file is gone from disk');
  });
});
