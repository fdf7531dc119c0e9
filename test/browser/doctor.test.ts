// The Doctor page over the real core service (temp data dir, one unreadable auth file, the real Codex
// CLI) in Chromium: runs only on a click, failed checks first with their fix, the empty-monitoring
// causes, a second run after a CPA server is added, keyboard use and phone width.
// CODEX_FLEET_SCREENSHOTS=1 refreshes docs/screenshots/doctor.png.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
import type { FleetService } from '../../src/server/service.ts';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { startTestServer, type TestServer } from '../support/fleet-server.ts';

const skip = chromiumMissing();
const CODEX_BIN = new URL(
  '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
  import.meta.url,
).pathname;

/** A loopback port nothing listens on: a CPA server there is unreachable. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('doctor page over the real core', { skip }, () => {
  let dir: string;
  let service: FleetService;
  let s: TestServer;
  let browser: Browser;
  const errors: string[] = [];
  const savedBin = process.env.CODEX_CLI_BIN;

  before(async () => {
    process.env.CODEX_CLI_BIN = CODEX_BIN;
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-doctor-page-'));
    const accountDir = join(dir, 'account');
    mkdirSync(accountDir);
    writeFileSync(join(accountDir, 'broken.json'), '{ not json');
    const config = resolveConfig({ accountDir, dataDir: join(dir, 'data'), chatgptUrl: 'http://127.0.0.1:9' }, {});
    service = await createFleetService({ config, background: false });
    s = await startTestServer({ service });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (savedBin === undefined) delete process.env.CODEX_CLI_BIN;
    else process.env.CODEX_CLI_BIN = savedBin;
  });

  it('runs the checks on a click and lists them worst first with their fix', async () => {
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 500) errors.push(`${r.status()} ${r.url()}`);
    });
    let doctorCalls = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/doctor') doctorCalls++;
    });
    await page.goto(`${s.url}/`);
    await page.getByRole('link', { name: 'Doctor' }).click();
    await page.waitForURL(/\/doctor$/);
    await page.getByText('No checks run yet').waitFor();
    assert.equal(doctorCalls, 0, 'opening the page runs nothing');

    // Keyboard: the button is a real button, Enter runs it.
    await page.getByRole('button', { name: 'Run checks' }).focus();
    await page.keyboard.press('Enter');
    const configured = page.locator('.doctor-check', { hasText: 'cpa.configured' });
    await configured.waitFor();
    assert.equal(doctorCalls, 1);
    assert.match((await configured.textContent()) ?? '', /no CPA server configured/);
    assert.match((await configured.locator('.doctor-fix').textContent()) ?? '', /codex-fleet cpa add/);
    assert.equal(await configured.getAttribute('data-status'), 'warning');
    assert.match(
      (await page.locator('.doctor-check', { hasText: 'accounts.readable' }).textContent()) ?? '',
      /broken\.json/,
    );
    assert.deepEqual(
      await page.locator('section.group').evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))),
      ['failed', 'warning', 'ok'],
      'failed first',
    );
    assert.equal(await page.locator('.doctor-causes li').count(), 6);
    const failed = await page.locator('.doctor-check[data-status="failed"]').count();
    assert.match((await page.locator('.doctor-summary').textContent()) ?? '', new RegExp(`^${failed} failed`));

    // A CPA server nobody answers on: the second run says so, under Failed, with the cause named.
    await service.saveCpaServer({
      name: 'cpa-local',
      url: `http://127.0.0.1:${await closedPort()}`,
      managementKey: 'doctor-page-test-key-0123456789',
    });
    await page.getByRole('button', { name: 'Run checks' }).click();
    const reachable = page.locator('section.group[data-status="failed"] .doctor-check', { hasText: 'cpa.reachable' });
    await reachable.waitFor();
    assert.match((await reachable.textContent()) ?? '', /cpa-local/);
    assert.equal(
      await page.locator('.doctor-causes li[data-cause="wrong_key_or_port"] .badge').textContent(),
      'Failed',
    );
    assert.doesNotMatch(await page.content(), /doctor-page-test-key-0123456789/, 'the key is never shown');
    if (process.env.CODEX_FLEET_SCREENSHOTS === '1')
      await page.screenshot({ path: 'docs/screenshots/doctor.png', fullPage: true });

    // Phone width: no sideways scrolling with long ids, messages and fixes.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `/doctor scrolls sideways by ${overflow}px`);
    await page.close();
    assert.deepEqual(errors, []);
  });
});
